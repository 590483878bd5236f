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
from monitor.classify.usermodel import CV_FOLDS, L2_GRID, Fitted, best_l2, cv_guesses, decide, fit

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


# The fits run in processes of their own (fork: the training sets are module globals set
# before the pool starts, so they are not copied job by job); each fit is the command's own
# code, and the figures do not depend on the number of processes or the order of jobs.
PROCESSES = 6
_SETS: dict[str, list[usermodel.Reading]] = {}
_DATA: dict[str, object] = {}


def _cv_job(name: str, l2: float, part: int) -> list[str]:
    return cv_guesses(_SETS[name], l2, part)


def _fit_job(name: str, l2: float) -> Fitted:
    return fit(_SETS[name], l2=l2)


def train_all(given: Mapping[str, float | None]) -> dict[str, tuple[Fitted, str]]:
    """Per training set in ``_SETS``: the model the command fits (its L2 by the command's
    3-fold CV, or the one ``given``), and a note of the L2 and its inner CV F1."""
    cv = [
        (n, l2, k) for n, v in given.items() if v is None for l2 in L2_GRID for k in range(CV_FOLDS)
    ]
    with multiprocessing.get_context("fork").Pool(PROCESSES) as pool:
        guessed = dict(zip(cv, pool.starmap(_cv_job, cv), strict=True))
        chosen, notes = {}, {}
        for name, value in given.items():
            if value is not None:
                chosen[name], notes[name] = value, f"L2 {value:g} (given)"
                continue
            mine = {(l2, k): g for (n, l2, k), g in guessed.items() if n == name}
            chosen[name], scores = best_l2(_SETS[name], mine)
            notes[name] = f"L2 {chosen[name]:g} (inner CV F1 {scores[chosen[name]]:.3f})"
        names = list(given)
        fitted = pool.starmap(_fit_job, [(n, chosen[n]) for n in names])
    return {n: (f, notes[n]) for n, f in zip(names, fitted, strict=True)}


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
Readings = tuple[dict[str, Reading], dict[str, usermodel.Reading]]


def _read_job(job: str) -> Readings:
    """Every note as the fold holding country ``job`` out reads it, or (``job`` "case")
    the CASE snippets and the ACLED notes read with the taxonomy minus CASE's edits."""
    acled, case, text = _DATA["acled"], _DATA["case"], _DATA["text"]
    assert isinstance(acled, list) and isinstance(case, list) and isinstance(text, str)
    if job != "case":
        rules = read_fold(acled, text, job, (None, None))
        return rules, as_user(acled, rules)
    rules = read_all(case, taxonomy_without(text, {"case"}))
    for country in sorted({i.group for i in acled}):
        notes = [i for i in acled if i.group == country]
        rules.update(read_all(notes, taxonomy_without(text, {slug(country), "case"})))
    return rules, as_user([*case, *acled], rules)


def _scored(name: str, test: Sequence[Item], model: tuple[Fitted, str], read: Readings) -> Fold:
    rules, user = read
    guess = [predictor(model[0], user, rules)(i.id) for i in test]
    return name, [i.gold for i in test], guess, [rules[i.id].fired for i in test], model[1]


def table(folds: Sequence[Fold]) -> list[str]:
    lines = [HEAD, RULE, *(_row(*f) for f in folds)]
    gold, guess, first = ([x for f in folds for x in f[n]] for n in (1, 2, 3))
    return [*lines, _row("**pooled**", gold, guess, first, "")]


def measure(acled: list[Item], case: list[Item], text: str) -> tuple[list[str], list[str]]:
    """The ACLED table and the CASE tables (markdown lines)."""
    countries = sorted({i.group for i in acled})
    _DATA.update(acled=acled, case=case, text=text)
    jobs = countries if WORDS_ONLY else [*countries, "case"]
    with multiprocessing.get_context("fork").Pool(min(PROCESSES, len(jobs))) as pool:
        read = dict(zip(jobs, pool.map(_read_job, jobs), strict=True))
    print("read", flush=True)
    _SETS.clear()
    for c in countries:
        _SETS[f"acled {c}"] = [read[c][1][i.id] for i in acled if i.group != c]
    case_folds = kfold([i.id for i in case], CASE_FOLDS, CASE_SEED)
    if not WORDS_ONLY:
        user = read["case"][1]
        _SETS["case acled"] = [user[i.id] for i in acled]
        for f in case_folds:
            _SETS[f"case {f.name}"] = [user[i] for i in f.train]
    models = train_all(dict.fromkeys(_SETS))
    print("trained", flush=True)
    by_country = [
        _scored(c, [i for i in acled if i.group == c], models[f"acled {c}"], read[c])
        for c in countries
    ]
    if WORDS_ONLY:
        return table(by_country), []
    acled_l2 = models["case acled"][0].l2
    base = list(_SETS["case acled"])
    _SETS.clear()
    for f in case_folds:
        _SETS[f"both {f.name}"] = [*base, *(read["case"][1][i] for i in f.train)]
    models.update(train_all(dict.fromkeys(_SETS, acled_l2)))
    by_id = {i.id: i for i in case}
    out = []
    for title, key in (
        ("the other four folds", "case {}"),
        ("every ACLED note (one model; no CASE text)", "case acled"),
        ("ACLED notes + the other four folds (L2 as chosen on the ACLED notes alone)", "both {}"),
    ):
        folds = [
            _scored(f.name, [by_id[i] for i in f.test], models[key.format(f.name)], read["case"])
            for f in case_folds
        ]
        out += [f"Trained on {title}:", "", *table(folds), ""]
    return table(by_country), out


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
    acled_lines, case_lines = measure(acled, case, text)
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
            f"{wall / 60:.0f} min wall for the whole run, {PROCESSES} processes; {load}.",
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
