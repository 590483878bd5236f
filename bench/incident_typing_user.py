"""What a user-trained typing model gives, out of fold (`monitor train-typing`, issue 13).

The project ships no model fitted on ACLED or CASE data (their terms forbid it). An analyst
who holds such data fits ``monitor.classify.usermodel`` on it locally. This bench asks what
they would get on reports they did not train on, with the same code the command runs:

* ACLED notes, held-out country: the model is fitted on two countries' notes (its L2 chosen
  by the command's own 3-fold CV inside them) and scores the third. Every note is read by
  the rules as the bench of ``incident_typing_cv`` reads it: the taxonomy minus the edits
  made looking at its own country and at the held-out one.
* CASE 2021 dev, 5-fold (seed 13, the folds of ``incident_typing_cv``), the taxonomy minus
  the edits made reading CASE: fitted on the other four folds alone; on every ACLED note
  alone (one model, no CASE text in it); and on the ACLED notes plus the other folds (its
  L2 the one the ACLED-only fit chose, so no CASE text chose it).

Run: .venv/bin/python -m bench.incident_typing_user  (``--no-write``: print only)
"""

from __future__ import annotations

import multiprocessing
import sys
import time
from collections.abc import Callable, Mapping, Sequence

from bench._report import load_note, missing, sample, update_section
from bench.classify_incident_types import weighted_f1
from bench.incident_typing_cv import (
    ACLED_FILE,
    CASE_FOLDS,
    CASE_SEED,
    DATA,
    NONE,
    Item,
    Reading,
    _acled_label,
    kfold,
    read_all,
    read_fold,
    shipped_taxonomy,
    slug,
    taxonomy_without,
)
from monitor.classify import usermodel
from monitor.classify.usermodel import Fitted, choose_l2, decide, fit

COMMAND = ".venv/bin/python -m bench.incident_typing_user"
NAME = "incident-typing-user"


WORDS_ONLY = "--words-only" in sys.argv  # a probe: the model without the rules' reading


def as_user(items: Sequence[Item], readings: Mapping[str, Reading]) -> dict[str, usermodel.Reading]:
    """Each item as the user model reads it: its words and its rules' reading."""
    out = {}
    for i in items:
        r = readings[i.id]
        if WORDS_ONLY:  # the rules' first still stands where the model says none
            words = usermodel.reading(i.gold, i.text, (), {})
            out[i.id] = usermodel.Reading(words.label, words.names, r.fired)
        else:
            out[i.id] = usermodel.reading(i.gold, i.text, r.fired_all, r.shares)
    return out


def predictor(
    fitted: Fitted, read: Mapping[str, usermodel.Reading], rules: Mapping[str, Reading]
) -> Callable[[str], str]:
    """The first type the decider gives an item, as the classifier would (only types the
    rules did not veto), in the bench's labels (ACLED "Other" is none)."""
    return lambda i: _acled_label(decide(fitted, read[i], lambda c: c in rules[i].shares))


def trained(read: Sequence[usermodel.Reading], l2: float | None = None) -> tuple[Fitted, str]:
    """The model the command fits on ``read`` (L2 by its CV unless given), and a note."""
    if l2 is None:
        l2, scores = choose_l2(read)
        note = f"L2 {l2:g} (inner CV F1 {max(scores.values(), default=0):.3f})"
    else:
        note = f"L2 {l2:g} (given)"
    return fit(read, l2=l2), note


def _row(
    name: str, gold: Sequence[str], guess: Sequence[str], rules: Sequence[str], note: str
) -> str:
    f1, _ = weighted_f1(list(gold), list(guess))
    base, _ = weighted_f1(list(gold), list(rules))
    none = sum(g == NONE for g in guess) / len(guess)
    return f"| {name} | {len(gold)} | {base:.3f} | **{f1:.3f}** | {none:.1%} | {note} |"


HEAD = "| held out | n | rules only | user model | no type | setting chosen inside training |"
RULE = "|---|---|---|---|---|---|"


Fold = tuple[str, list[str], list[str], list[str], str]  # name, gold, guess, rules' first, note


def acled_fold(acled: Sequence[Item], text: str, country: str) -> Fold:
    """The country held out: the model fitted on the other two countries' notes."""
    rules = read_fold(acled, text, country, (None, None))
    read = as_user(acled, rules)
    fitted, note = trained([read[i.id] for i in acled if i.group != country])
    test = [i for i in acled if i.group == country]
    guess = [predictor(fitted, read, rules)(i.id) for i in test]
    print(f"{country}: done", flush=True)
    return country, [i.gold for i in test], guess, [rules[i.id].fired for i in test], note


def acled_table(folds: Sequence[Fold]) -> list[str]:
    lines = [HEAD, RULE, *(_row(*f) for f in folds)]
    gold, guess, first = ([x for f in folds for x in f[n]] for n in (1, 2, 3))
    return [*lines, _row("**pooled**", gold, guess, first, "")]


def case_tables(acled: Sequence[Item], case: Sequence[Item], text: str) -> list[str]:
    case_rules = read_all(case, taxonomy_without(text, {"case"}))
    acled_rules: dict[str, Reading] = {}
    for country in sorted({i.group for i in acled}):
        notes = [i for i in acled if i.group == country]
        acled_rules.update(read_all(notes, taxonomy_without(text, {slug(country), "case"})))
    case_read, acled_read = as_user(case, case_rules), as_user(acled, acled_rules)
    folds = kfold([i.id for i in case], CASE_FOLDS, CASE_SEED)
    by_id = {i.id: i for i in case}
    acled_only, acled_note = trained(list(acled_read.values()))
    acled_l2 = acled_only.l2
    out = []
    for title, train_of in (
        ("the other four folds", lambda f: ([case_read[i] for i in f.train], None)),
        ("every ACLED note (one model; no CASE text)", None),
        ("ACLED notes + the other four folds", lambda f: (
            [*acled_read.values(), *(case_read[i] for i in f.train)], acled_l2)),
    ):  # fmt: skip
        lines = [HEAD, RULE]
        gold_all: list[str] = []
        guess_all: list[str] = []
        rules_all: list[str] = []
        for fold in folds:
            if train_of is None:
                fitted, note = acled_only, acled_note
            else:
                read, l2 = train_of(fold)
                fitted, note = trained(read, l2)
            guess = [predictor(fitted, case_read, case_rules)(i) for i in fold.test]
            gold = [by_id[i].gold for i in fold.test]
            first = [case_rules[i].fired for i in fold.test]
            lines.append(_row(fold.name, gold, guess, first, note))
            gold_all, guess_all, rules_all = gold_all + gold, guess_all + guess, rules_all + first
        lines.append(_row("**pooled**", gold_all, guess_all, rules_all, ""))
        print(f"\nCASE, trained on {title}:\n" + "\n".join(lines), flush=True)
        out += [f"Trained on {title}:", "", *lines, ""]
    return out


def main() -> None:
    if missing(ACLED_FILE, DATA / "README.md"):
        return
    from bench.incident_typing_cv import load_acled, load_case

    acled, case = load_acled(), load_case()
    # a smoke run (TINY): a few notes of each country and a few CASE snippets
    acled = [
        i
        for c in sorted({i.group for i in acled})
        for i in sample([x for x in acled if x.group == c], 40)
    ]
    case = list(sample(case, 20))
    text = shipped_taxonomy()
    start, load = time.perf_counter(), load_note()
    countries = sorted({i.group for i in acled})
    # each fold in a process of its own (fork: they share the data read above); the figures
    # do not depend on the order or the number of processes
    with multiprocessing.get_context("fork").Pool(len(countries) + 1) as pool:
        case_job = None if WORDS_ONLY else pool.apply_async(case_tables, (acled, case, text))
        folds = pool.starmap(acled_fold, [(acled, text, c) for c in countries])
        case_lines = case_job.get() if case_job is not None else []
    acled_lines = acled_table(folds)
    if WORDS_ONLY:
        print("\n".join(acled_lines))
        return
    wall = time.perf_counter() - start
    report = "\n".join(
        [
            "## incident-typing-user: a model the user trains on their own data, out of fold",
            "",
            INTRO,
            "",
            "### ACLED notes, held-out country (trained on the other two countries' notes)",
            "",
            *acled_lines,
            "",
            f"### CASE 2021 dev, {CASE_FOLDS}-fold (seed {CASE_SEED})",
            "",
            *case_lines,
            f"{wall / 60:.0f} min wall for the whole run, {len(countries) + 1} processes; {load}.",
        ]
    )
    if "--no-write" in sys.argv:
        print(report)
        return
    update_section(NAME, report, command=COMMAND)


INTRO = """\
**A user-trained model, fitted on data the project does not ship.** `monitor train-typing \
--examples my.tsv --out model.json` fits `monitor/classify/usermodel.py` on an analyst's own \
labelled reports; `classify.learned.model: model.json` then lets it decide the first type \
(docs/training-typing.md). Nothing fitted on ACLED or CASE is in the repository \
(tests/classify/test_user_model.py checks that the shipped model files are the ones `make \
train` fits on the project's own sentences). These figures say what a user holding such data \
would get on reports they did not train on: every figure is out of fold, the model's one \
setting (its L2 penalty, from 0.0001, 0.0003, 0.001, 0.003) chosen by the command's own \
3-fold CV inside the training part. The model: a multinomial logistic regression over the \
stemmed words and word pairs of the text's opening (the family of `learned.py`) plus the \
rules' reading (the ACLED types they fired, their first, those within half of their \
threshold); its most likely type goes first, or the rules' first when it says none. *Rules \
only*: the rules' first type on the same readings. The shipped setup (rules + fill + \
chooser, trained on our own sentences) reaches 0.682 pooled held-out country and 0.850 CASE \
5-fold (section incident-typing-cv). Data: ACLED (acleddata.com), CASE 2021 task 2 dev."""


if __name__ == "__main__":
    main()
