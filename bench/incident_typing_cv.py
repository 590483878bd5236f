"""Incident typing measured out-of-fold: ACLED notes by held-out country, CASE snippets by k-fold.

Anything tuned on development data is reported on data it was not tuned on (issue 13):

* ACLED notes (``acled-dev-kenya-burkina-afghanistan.tsv``): ``folds_by_country`` tunes on two
  countries and tests on the third, so wording that works for one country's coders must hold
  for another's;
* CASE 2021 dev snippets: ``kfold`` (k=5, fixed seed).

A ``ThresholdKnob`` is a parameter chosen by the data: ``evaluate_out_of_fold`` picks its value on
each fold's training part only and scores the fold's test part with it. The knob measured here is
a *fallback* that is not shipped: when no type reaches its threshold, take the type closest to
it if its score reaches ``share`` of the threshold. It asks how much of "given no type" is types
that almost fired.

Scoring follows data/incident-types/README.md: prediction = the first ACLED type of the shipped
taxonomy, else "none"; ACLED's "Other" (a strategic development outside the 24 types) counts as
"none" on both sides; weighted F1 over the gold labels.
Run: .venv/bin/python -m bench.incident_typing_cv  (``--no-write``: print, leave BENCHMARKS.md;
``--embedding``: the embedding model of bench/incident_typing_embedding.py, printed;
``--priors``: the per-class cost and the chooser's class priors of
bench/incident_typing_priors.py, printed)
"""

from __future__ import annotations

import csv
import random
import statistics
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import product
from pathlib import Path
from typing import Any

from bench._report import SHARED, missing, sample, update_section
from bench.classify_incident_types import weighted_f1
from monitor.classify.learned import CHOOSER_MODEL, Decision, TypeModel, choose, rechoose
from monitor.classify.settings import CONFUSABLE, FILL_TYPES, LearnedSettings

DATA = SHARED / "data" / "incident-types"
ACLED_FILE = DATA / "acled-dev-kenya-burkina-afghanistan.tsv"
COMMAND = ".venv/bin/python -m bench.incident_typing_cv"
CASE_FOLDS = 5
CASE_SEED = 13  # fixed: the same snippets share a fold on every run
NONE = "none"
# 1.0 = no fallback (listed first: ties keep it)
FALLBACK_SHARES = (1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3)
# the no-type fill's (min_rule_share, min_probability); "off" first (ties keep it)
OFF = 1.01
RULE_SHARES = (0.2, 0.3, 0.4, 0.5, 0.7)
MODEL_PROBABILITIES = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6)
LEARNED_GRID = ((OFF, 0.0), *product(RULE_SHARES, MODEL_PROBABILITIES))
# the chooser's (groups, min_share, min_margin): which confusable groups it decides in (the
# first one, the first two, all), from what share an unfired member is a candidate, and by
# how much the model must prefer another type; "off" first (ties keep it)
GROUP_SETS = (CONFUSABLE[:1], CONFUSABLE[:2], CONFUSABLE)
CHOOSER_SHARES = (1.0, 0.5, 0.3)
CHOOSER_MARGINS = (0.0, 0.1, 0.2, 0.3, 0.5, 0.7)
CHOOSER_GRID: tuple[tuple[int, float, float], ...] = (
    (-1, 1.0, OFF),
    *product(range(len(GROUP_SETS)), CHOOSER_SHARES, CHOOSER_MARGINS),
)


@dataclass(frozen=True)
class Item:
    id: str
    text: str
    gold: str  # ACLED sub-event type name, or "none"
    group: str  # the country for ACLED notes, "case" for CASE snippets


@dataclass(frozen=True)
class Fold:
    name: str
    train: tuple[str, ...]
    test: tuple[str, ...]


def folds_by_country(items: Sequence[Item]) -> list[Fold]:
    """One fold per country: train on the others, test on it (countries in sorted order)."""
    out = []
    for country in sorted({i.group for i in items}):
        test = tuple(i.id for i in items if i.group == country)
        train = tuple(i.id for i in items if i.group != country)
        out.append(Fold(country, train, test))
    return out


def kfold(ids: Sequence[str], k: int, seed: int) -> list[Fold]:
    """k folds of near-equal size; the assignment depends only on the ids (sorted) and seed."""
    if not 2 <= k <= len(ids):
        raise ValueError(f"k must be between 2 and {len(ids)}, got {k}")
    shuffled = sorted(ids)
    random.Random(seed).shuffle(shuffled)
    parts = [shuffled[n::k] for n in range(k)]
    return [
        Fold(
            f"fold {n + 1}",
            tuple(x for m, part in enumerate(parts) if m != n for x in part),
            tuple(parts[n]),
        )
        for n in range(k)
    ]


@dataclass(frozen=True)
class ThresholdKnob:
    """A parameter tuned on data: ``predict(item id, value)`` is the label it gives.

    A value may be a number or a tuple of numbers (several settings chosen together)."""

    name: str
    candidates: tuple[Any, ...]
    predict: Callable[[str, Any], str]
    # item id -> its data set: the objective is then the mean of the data sets' weighted F1,
    # so one setting serves ACLED notes and CASE snippets alike (it ships as one value)
    groups: Mapping[str, str] | None = None

    def choose(self, ids: Sequence[str], gold: Mapping[str, str]) -> Any:
        """The candidate with the best weighted F1 on ``ids``; ties go to the earlier one."""
        parts = [list(ids)]
        if self.groups is not None:
            by_group: dict[str, list[str]] = {}
            for i in ids:
                by_group.setdefault(self.groups[i], []).append(i)
            parts = [by_group[g] for g in sorted(by_group)]
        best, best_f1 = self.candidates[0], -1.0
        for value in self.candidates:
            f1 = statistics.fmean(
                score(part, gold, _fixed(self.predict, value))[0] for part in parts
            )
            if f1 > best_f1:
                best, best_f1 = value, f1
        return best


def _fixed(predict: Callable[[str, Any], str], value: Any) -> Callable[[str], str]:
    """``predict`` with its tuned parameter fixed at ``value``."""
    return lambda i: predict(i, value)


def score(
    ids: Sequence[str], gold: Mapping[str, str], predict: Callable[[str], str]
) -> tuple[float, float]:
    """(weighted F1, share of items given no type) over ``ids``."""
    guesses = [predict(i) for i in ids]
    f1, _ = weighted_f1([gold[i] for i in ids], guesses)
    return f1, sum(g == NONE for g in guesses) / len(ids)


@dataclass(frozen=True)
class FoldResult:
    name: str
    n: int
    f1: float
    no_type: float
    chosen: Any  # the knob's value, chosen on the fold's training part (None: no knob)


@dataclass(frozen=True)
class OutOfFold:
    folds: tuple[FoldResult, ...]
    pooled_f1: float  # every item scored once, by the fold that held it out
    pooled_no_type: float

    @property
    def mean(self) -> float:
        return statistics.fmean(f.f1 for f in self.folds)

    @property
    def spread(self) -> float:
        """Population standard deviation of the per-fold F1."""
        return statistics.pstdev(f.f1 for f in self.folds)

    @property
    def range(self) -> tuple[float, float]:
        return min(f.f1 for f in self.folds), max(f.f1 for f in self.folds)


def evaluate_out_of_fold(
    gold: Mapping[str, str],
    folds: Sequence[Fold],
    predict: Callable[[str], str] | Mapping[str, Callable[[str], str]] | None = None,
    knob: ThresholdKnob | Mapping[str, ThresholdKnob] | None = None,
) -> OutOfFold:
    """Score each fold's test ids; with a knob, its value is chosen on the fold's train ids.

    ``predict`` and ``knob`` may be given per fold name: a setup built without the fold's
    test part (the taxonomy without the edits that came from looking at that country).
    """
    if (predict is None) == (knob is None):
        raise ValueError("give exactly one of predict and knob")
    results, pooled = [], {}
    for fold in folds:
        if set(fold.train) & set(fold.test):
            raise ValueError(f"{fold.name}: train and test overlap")
        chosen = None
        if knob is not None:
            fold_knob = knob if isinstance(knob, ThresholdKnob) else knob[fold.name]
            value = chosen = fold_knob.choose(fold.train, gold)
            fold_predict: Callable[[str], str] = _fixed(fold_knob.predict, value)
        else:
            assert predict is not None
            fold_predict = predict[fold.name] if isinstance(predict, Mapping) else predict
        f1, no_type = score(fold.test, gold, fold_predict)
        results.append(FoldResult(fold.name, len(fold.test), f1, no_type, chosen))
        pooled.update({i: fold_predict(i) for i in fold.test})
    ids = list(pooled)
    f1, no_type = score(ids, gold, pooled.__getitem__)
    return OutOfFold(tuple(results), f1, no_type)


# ---- the shipped taxonomy on the development data ----


def load_acled(path: Path = ACLED_FILE) -> list[Item]:
    with path.open(encoding="utf-8", newline="") as fh:
        rows = csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
        return [
            Item(
                r["id"],
                r["notes"].replace('\\"', '"'),
                _acled_label(r["sub_event_type"]),
                r["country"],
            )
            for r in rows
        ]


def load_case() -> list[Item]:
    from bench.classify_incident_types import load

    return [Item(f"case-{rid}", text, _acled_label(gold), "case") for rid, text, gold in load()]


def _acled_label(name: str) -> str:
    return NONE if name in ("", NONE, "Other") else name


@dataclass(frozen=True)
class Reading:
    """What the classifier said about one text: its first ACLED type, and the nearest miss."""

    fired: str  # first ACLED type of the rules' fired types, or "none"
    near: str  # ACLED type of the unfired type closest to its threshold, or "none"
    near_share: float  # that type's score / threshold
    # per ACLED name, the best score / threshold of the watchlist's types with that name
    shares: Mapping[str, float] = field(default_factory=dict)
    decision: Decision | None = None  # the learned model's reading, when one was given
    fired_all: tuple[str, ...] = ()  # every fired ACLED type, best first (as given)
    choice: Decision | None = None  # the chooser model's reading, when one was given


@dataclass(frozen=True)
class Probe:
    """What a probe of another learned part is handed (``--embedding``, ``--priors``): the
    data, each fold's readings, the country and CASE folds, and each item's data set."""

    acled: Sequence[Item]
    case: Sequence[Item]
    readings: Mapping[str, Mapping[str, Reading]]
    folds: tuple[Sequence[Fold], Sequence[Fold]]
    groups: Mapping[str, str]


def slug(group: str) -> str:
    return group.lower().replace(" ", "-")


def taxonomy_without(text: str, groups: set[str]) -> str:
    """The taxonomy as it was before the edits that came from looking at ``groups``' data.

    An edit made while reading one country's errors carries ``# cv:kenya`` (several: ``# cv:
    kenya,burkina-faso``) at the end of each added line; a line it replaced stays beside it as
    ``#cv-was:kenya <the old line>``. Dropping the one and restoring the other gives the setup
    that country is scored with when held out.
    """
    out = []
    for line in text.splitlines():
        _, _, tag = line.partition("# cv:")
        if tag and {t.strip() for t in tag.split(",")} & groups:
            continue
        stripped = line.lstrip()
        if stripped.startswith("#cv-was:"):
            names, _, old = stripped[len("#cv-was:") :].partition(" ")
            if set(names.split(",")) & groups:
                out.append(line[: len(line) - len(stripped)] + old)
            continue
        out.append(line)
    # a key whose every item was an edit of those groups is left empty, not null
    for n, line in enumerate(out):
        following = next((x for x in out[n + 1 :] if not x.lstrip().startswith("#")), "")
        if line.strip() in ("patterns:", "exclude:") and _indent(following) <= _indent(line):
            out[n] = line.rstrip() + " []"
    return "\n".join(out) + "\n"


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def shipped_taxonomy() -> str:
    from monitor.resources import shipped_config_dir

    return (shipped_config_dir() / "taxonomy.yaml").read_text(encoding="utf-8")


def read_all(
    items: Sequence[Item],
    taxonomy: str | None = None,
    model: TypeModel | None = None,
    chooser: TypeModel | None = None,
) -> dict[str, Reading]:
    """Classify every item with ``taxonomy`` (YAML text; default: the shipped one) by its
    rules alone, and read it with ``model`` and ``chooser`` when given (what the learned
    parts would see)."""
    import tempfile

    from monitor.classify.classifier import Classifier, acled_shares
    from monitor.classify.watchlist import load_watchlists

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "taxonomy.yaml"
        path.write_text(taxonomy if taxonomy is not None else shipped_taxonomy(), "utf-8")
        classifier = Classifier(load_watchlists([path]))
    out = {}
    for item in items:
        folded = classifier.fold("", item.text)
        scores = classifier.scores(folded)
        fired = classifier.classify(title="", text=item.text).acled_sub_event_types
        near = max(
            (s for s in scores if not s.fired and s.vetoed_by is None and s.type.acled),
            key=lambda s: s.score / s.type.threshold,
            default=None,
        )
        out[item.id] = Reading(
            _acled_label(fired[0]) if fired else NONE,
            _acled_label(near.type.acled or "") if near else NONE,
            near.score / near.type.threshold if near else 0.0,
            acled_shares(scores),
            model.read(folded) if model is not None else None,
            tuple(fired),
            chooser.read(folded) if chooser is not None and fired else None,
        )
    return out


def read_fold(
    acled: Sequence[Item],
    text: str,
    held_out: str,
    models: tuple[TypeModel | None, TypeModel | None],
) -> dict[str, Reading]:
    """Every note as the fold holding ``held_out`` out reads it: each country's notes with
    the taxonomy minus its own edits and the held-out country's."""
    out: dict[str, Reading] = {}
    for country in sorted({i.group for i in acled}):
        notes = [i for i in acled if i.group == country]
        out.update(
            read_all(notes, taxonomy_without(text, {slug(held_out), slug(country)}), *models)
        )
    return out


def fallback_knob(
    readings: Mapping[str, Reading], groups: Mapping[str, str] | None = None
) -> ThresholdKnob:
    def predict(item: str, share: float) -> str:
        r = readings[item]
        if r.fired != NONE or share >= 1.0:
            return r.fired
        return r.near if r.near_share >= share else NONE

    return ThresholdKnob("fallback share", FALLBACK_SHARES, predict, groups)


def learned_knob(
    readings: Mapping[str, Reading], groups: Mapping[str, str], *, model: bool = True
) -> ThresholdKnob:
    """The no-type fill as the classifier runs it (``learned.choose``), its settings
    (min_rule_share, min_probability) chosen together; the first candidate is "off".
    ``model=False``: the rules' near miss alone, min_probability unused."""

    def predict(item: str, value: tuple[float, float]) -> str:
        r = readings[item]
        if r.fired != NONE or value[0] > 1:
            return r.fired
        picked = choose(
            r.shares,
            r.decision if model else None,
            FILL_TYPES,
            min_rule_share=value[0],
            min_probability=value[1],
        )
        return _acled_label(picked[0]) if picked else NONE

    grid = LEARNED_GRID if model else tuple((s, 0.0) for s in (OFF, *RULE_SHARES))
    return ThresholdKnob("fill", grid, predict, groups)


def chooser_knob(
    readings: Mapping[str, Reading], groups: Mapping[str, str], fill: tuple[float, float]
) -> ThresholdKnob:
    """The chooser between confusable candidates as the classifier runs it
    (``learned.rechoose``), its (group set, min_share, min_margin) chosen together, with the
    no-type fill at ``fill`` (chosen before it, on the same training part)."""
    fill_knob = learned_knob(readings, groups)

    def predict(item: str, value: tuple[int, float, float]) -> str:
        r = readings[item]
        if r.fired == NONE or value[0] < 0 or r.choice is None:
            return fill_knob.predict(item, fill)
        picked = rechoose(
            r.fired_all,
            r.shares,
            r.choice,
            GROUP_SETS[value[0]],
            min_share=value[1],
            min_margin=value[2],
        )
        return _acled_label(picked.name) if picked else r.fired

    return ThresholdKnob("chooser", CHOOSER_GRID, predict, groups)


def chooser_folds(
    gold: Mapping[str, str],
    folds: Sequence[Fold],
    readings: Mapping[str, Mapping[str, Reading]],
    groups: Mapping[str, str],
) -> OutOfFold:
    """Out of fold with both parts: per fold, the fill's settings are chosen on its training
    part, then the chooser's, with that fill, on the same part."""
    knobs = {}
    for fold in folds:
        r = readings[fold.name]
        fill = learned_knob(r, groups).choose(fold.train, gold)
        knobs[fold.name] = chooser_knob(r, groups, fill)
    return evaluate_out_of_fold(gold, folds, knob=knobs)


def _at(knob: ThresholdKnob, value: Any) -> Callable[[str], str]:
    return lambda i: knob.predict(i, value)


def _fired(readings: Mapping[str, Reading]) -> Callable[[str], str]:
    return lambda i: readings[i].fired


def print_misses(acled: Sequence[Item], country: str, limit: int = 400) -> None:
    """Error analysis for ONE training country, with the taxonomy of its own edits only."""
    items = [i for i in acled if slug(i.group) == country]
    others = {slug(i.group) for i in acled} - {country}
    readings = read_all(items, taxonomy_without(shipped_taxonomy(), others | {"case"}))
    gold = {i.id: i.gold for i in items}
    f1, no_type = score([i.id for i in items], gold, _fired(readings))
    print(f"{country} in-sample: weighted F1 {f1:.3f}, no type {no_type:.1%}")
    misses = [i for i in items if readings[i.id].fired != i.gold]
    random.Random(0).shuffle(misses)
    for i in misses[:limit]:
        print(f"{i.gold}\t{readings[i.id].fired}\t{i.text[:220]}")


def _fold_table(result: OutOfFold, knob: str | None = None) -> str:
    head = "| held out | n | weighted F1 | no type |" + (
        f" {knob} chosen on train |" if knob else ""
    )
    rule = "|---|---|---|---|" + ("---|" if knob else "")
    lines = [head, rule]
    for f in result.folds:
        chosen = f" {_value(f.chosen)} |" if knob else ""
        lines.append(f"| {f.name} | {f.n} | {f.f1:.3f} | {f.no_type:.1%} |{chosen}")
    low, high = result.range
    lines.append(
        f"| **pooled** | {sum(f.n for f in result.folds)} | **{result.pooled_f1:.3f}** "
        f"| {result.pooled_no_type:.1%} |" + (" |" if knob else "")
    )
    lines.append(
        f"\nPer-fold mean {result.mean:.3f} ± {result.spread:.3f} (sd), range {low:.3f}–{high:.3f}."
    )
    return "\n".join(lines)


def _value(value: Any) -> str:
    if isinstance(value, tuple) and len(value) == 3:
        if value[0] < 0:
            return "off"
        pairs = "+".join(g[0].split()[0].lower() for g in GROUP_SETS[value[0]])
        return f"groups {pairs}, share {value[1]:g}, margin {value[2]:g}"
    if isinstance(value, tuple):
        return "off" if value[0] > 1 else f"share {value[0]:g}, p {value[1]:g}"
    return f"{value:g}"


def joint_folds(acled: Sequence[Item], case: Sequence[Item]) -> tuple[list[Fold], list[Fold]]:
    """Country folds and CASE folds whose training parts also hold all of the other data set:
    a setting shipped as one value is chosen on both (``ThresholdKnob.groups``)."""
    acled_ids = tuple(i.id for i in acled)
    case_ids = tuple(i.id for i in case)
    by_country = [Fold(f.name, f.train + case_ids, f.test) for f in folds_by_country(acled)]
    case_folds = [
        Fold(f.name, f.train + acled_ids, f.test) for f in kfold(case_ids, CASE_FOLDS, CASE_SEED)
    ]
    return by_country, case_folds


def main() -> None:
    if missing(ACLED_FILE, DATA / "README.md"):
        return
    acled, case = load_acled(), load_case()
    if "--misses" in sys.argv:
        print_misses(acled, sys.argv[sys.argv.index("--misses") + 1])
        return
    # a smoke run (TINY): a few notes of each country and a few CASE snippets
    acled = [
        i
        for c in sorted({i.group for i in acled})
        for i in sample([x for x in acled if x.group == c], 40)
    ]
    case = list(sample(case, 20))
    gold = {i.id: i.gold for i in acled + case}
    groups = {i.id: "acled" if i.group != "case" else "case" for i in acled + case}
    text = shipped_taxonomy()
    model = TypeModel.load()
    chooser = TypeModel.load(CHOOSER_MODEL)
    countries = sorted({i.group for i in acled})
    # each held-out country is read with the taxonomy minus the edits made looking at it;
    # when a country trains, its notes are read as unseen too (minus its own edits and the
    # held-out country's): the knob is then chosen on readings like the ones it is scored on,
    # as the CASE folds' training part and the all-data choice below already read them
    per_fold = {c: read_fold(acled, text, c, (model, chooser)) for c in countries}
    case_read = read_all(case, taxonomy_without(text, {"case"}), model, chooser)
    acled_oof = {i.id: per_fold[i.group][i.id] for i in acled}
    by_country, case_folds = joint_folds(acled, case)
    readings = {c: {**per_fold[c], **case_read} for c in countries}
    readings.update({f.name: {**acled_oof, **case_read} for f in case_folds})
    probe = Probe(acled, case, readings, (by_country, case_folds), groups)
    if "--embedding" in sys.argv:  # a model on sentence embeddings, measured, not shipped
        from bench.incident_typing_embedding import report as embedding_report

        print(embedding_report(probe))
        return
    if "--priors" in sys.argv:  # per-class cost, and class priors for the chooser, printed
        from bench.incident_typing_priors import report as priors_report

        print(priors_report(probe, chooser))
        return
    ship, ship_chooser = shipped_settings()
    sections = []
    for title, folds in (
        ("ACLED notes, held-out country", by_country),
        (f"CASE 2021 dev, {CASE_FOLDS}-fold (seed {CASE_SEED})", case_folds),
    ):
        r = {f.name: readings[f.name] for f in folds}
        rules = evaluate_out_of_fold(gold, folds, predict={n: _fired(x) for n, x in r.items()})
        near = evaluate_out_of_fold(
            gold, folds, knob={n: learned_knob(x, groups, model=False) for n, x in r.items()}
        )
        tuned = evaluate_out_of_fold(
            gold, folds, knob={n: learned_knob(x, groups) for n, x in r.items()}
        )
        both = chooser_folds(gold, folds, r, groups)
        fixed = evaluate_out_of_fold(
            gold,
            folds,
            predict={n: _at(chooser_knob(x, groups, ship), ship_chooser) for n, x in r.items()},
        )
        old = evaluate_out_of_fold(
            gold, folds, knob={n: fallback_knob(x, groups) for n, x in r.items()}
        )
        sections.append(
            f"### {title}\n\n**Before** (rules only, `classify.learned.enabled: false`):\n\n"
            f"{_fold_table(rules)}\n\n"
            "**After** (2026-12-02, issue 13), out-of-fold: the no-type fill and the chooser "
            "between confusable types, the fill's settings then the chooser's chosen on each "
            "fold's training part (both data sets):\n\n"
            f"{_fold_table(both, 'chooser setting')}\n\n"
            "The no-type fill alone (the previous *After*), its two settings chosen on each "
            "fold's training part (both data sets):\n\n"
            f"{_fold_table(tuned, 'setting')}\n\n"
            f"The shipped settings (fill share {ship[0]:g}, p {ship[1]:g}; chooser "
            f"{_value(ship_chooser)}; chosen looking at all the data, so in-sample for "
            "those numbers):\n\n"
            f"{_fold_table(fixed)}\n\n"
            "The rules' near miss alone (no model gate), its share chosen on each fold's "
            "training part:\n\n"
            f"{_fold_table(near, 'setting')}\n\n"
            "The earlier (unshipped) fallback, the near miss of *any* type, its share chosen "
            "on the fold's training part:\n\n"
            f"{_fold_table(old, 'share')}"
        )
    every = {**acled_oof, **case_read}
    everything = learned_knob(every, groups).choose(list(gold), gold)
    chosen = chooser_knob(every, groups, everything).choose(list(gold), gold)
    sections.append(
        f"Chosen on all the data (both data sets, the same objective): fill {_value(everything)}"
        f", chooser {_value(chosen)}; shipped: fill share {ship[0]:g}, p {ship[1]:g}, chooser "
        f"{_value(ship_chooser)}."
    )
    sections.append(_in_sample(acled, case, text, (model, chooser), (ship, ship_chooser)))
    from bench.incident_typing_embedding import NOTE as EMBEDDING_NOTE

    sections.append(EMBEDDING_NOTE)
    from bench.incident_typing_priors import NOTE as PRIORS_NOTE

    sections.append(PRIORS_NOTE)
    markdown = _report(sections)
    if "--no-write" in sys.argv:
        print(markdown)
        return
    update_section("incident-typing-cv", markdown, command=COMMAND)


def shipped_settings() -> tuple[tuple[float, float], tuple[int, float, float]]:
    """The shipped (fill share, p) and chooser (group set, share, margin) as knob values."""
    shipped = LearnedSettings()
    picking = shipped.chooser
    if not picking.enabled:
        return (shipped.min_rule_share, shipped.min_probability), CHOOSER_GRID[0]
    group_set = GROUP_SETS.index(picking.groups)
    return (
        (shipped.min_rule_share, shipped.min_probability),
        (group_set, picking.min_share, picking.min_margin),
    )


def _in_sample(
    acled: Sequence[Item],
    case: Sequence[Item],
    text: str,
    models: tuple[TypeModel, TypeModel],
    ship: tuple[tuple[float, float], tuple[int, float, float]],
) -> str:
    """Every note and snippet read with the whole shipped taxonomy (every edit, also those
    made looking at it) and the shipped settings: what `monitor replay` gives, in-sample."""
    items = [*acled, *case]
    readings = read_all(items, text, *models)
    fill, choosing = ship
    knob = chooser_knob(readings, {i.id: "x" for i in items}, fill)
    gold = {i.id: i.gold for i in items}
    rows = ["| set | n | weighted F1 | no type |", "|---|---|---|---|"]
    for name in (*sorted({i.group for i in acled}), "case"):
        ids = [i.id for i in items if i.group == name]
        f1, no_type = score(ids, gold, _at(knob, choosing))
        rows.append(f"| {name} | {len(ids)} | {f1:.3f} | {no_type:.1%} |")
    ids = [i.id for i in acled]
    f1, no_type = score(ids, gold, _at(knob, choosing))
    rows.append(f"| ACLED pooled | {len(ids)} | {f1:.3f} | {no_type:.1%} |")
    return (
        "### In-sample (not a measure of unseen data)\n\nThe whole shipped taxonomy, "
        "every edit applied, also those made reading the set scored, with the shipped "
        "settings: what `monitor replay` gives on these sets.\n\n" + "\n".join(rows)
    )


# pass two, measured after each round by this benchmark (figures of its runs, kept as text)
_ROUNDS = """\
| taxonomy | Afghanistan | Burkina Faso | Kenya | ACLED pooled | per-fold mean | CASE pooled |
|---|---|---|---|---|---|---|
| before pass two | 0.828 | 0.648 | 0.603 | 0.629 | 0.693 ± 0.097 | 0.854 |
| round 1: attacks on police or soldiers read as battles, unarmed victims as attacks \
(Kenya, Burkina Faso); mob vs riot (Kenya); mutinies, looting of goods (Burkina Faso) \
| 0.811 | 0.665 | 0.639 | 0.656 | 0.705 ± 0.076 | 0.846 |
| round 2: police shooting gang members, mob justice (Kenya); abductees and detainees \
killed read as attacks (Burkina Faso) | 0.812 | 0.665 | 0.641 | 0.657 | 0.706 ± 0.076 | 0.850 |
| round 3: protests (Burkina Faso): an arrest that caused the protest, a deal not kept, \
shots into a crowd | 0.812 | 0.665 | 0.640 | 0.656 | 0.705 ± 0.076 | 0.850 |
| round 4: round 1's patterns narrowed after they outweighed air strikes and battles in \
bench.event_accuracy (soldiers and "people" out of them, "forces killed militants" in that \
order) | the tables below | | | | | |"""


_CHOOSER = (
    "*The chooser between confusable types* (2026-12-02, issue 13; `classify.learned.chooser`, "
    "`learned.rechoose`): when the rules' first ACLED type is in a group of easily confused "
    "types, a second linear model (`chooser-v1`, fitted by `make train` on the fill's "
    "sentences plus bench/data/incident-examples-confusable.tsv, ~170 sentences the project "
    "wrote for the confusable pairs from the codebook's definitions, never on these data) "
    "may put another candidate first: the candidates are the group's types the rules fired "
    "or brought within `min_share` of their threshold, and the model's pick goes first when "
    "its probability among them exceeds the rules' first by `min_margin`. Its knob, chosen "
    "on each fold's training part after the fill's settings (both data sets, the same "
    "objective): the group set (attack/clash only; plus violent demonstration/mob violence; "
    "plus the protest triple and the territory pair), `min_share` (1, 0.5, 0.3) and "
    "`min_margin` (0 to 0.7), or off. A first measurement of the chooser (all four groups "
    "at fixed settings, before the knob existed) showed that the protest and territory groups "
    "cost CASE snippets and the model over-called attacks against clashes; 23 attack/clash "
    "sentences (shots fired by or at armed people; unarmed people shot) were then added, so "
    "the example set is not blind to these figures. Every fold chose the first two groups "
    "with `min_share` 1 (only types the rules fired), which is what ships; the *After* "
    "tables below include it, the previous *After* (the fill alone) follows them. The "
    "target of issue 13 (0.84 held-out pooled) is not reached: the chooser moves the "
    "pooled figure by well under a point."
)


# pass three, measured after each round (figures of scratch runs of this benchmark's code with
# the training countries read as unseen, kept as text)
_PASS_THREE = """\
Pass three (2026-12-07, issue 13) printed the per-type confusion and per-label F1 of the \
held-out runs (Kenya, 62% of the notes, loses most on armed clash read as attack, attack or \
clash given no type, mob violence read as violent demonstration, violent and peaceful \
protests confused), then read, per training country, its own misses of those pairs with only \
its own edits applied (`--misses`), and wrote rules from the codebook's distinctions: who \
acted on whom, an armed or unarmed target, violence by a crowd with a demand or without one. \
Edits are tagged as before; those from reading Burkina Faso reach Kenya and Afghanistan, \
those from reading Kenya reach Burkina Faso and Afghanistan. Two edits that broke a CASE \
snippet were narrowed (a weapons find after a killing; fighters storming or capturing \
something), so CASE stays in-sample for the rules.

*Training countries read as unseen.* Measuring round 1 showed Kenya falling from 0.639 to \
0.612 while its figure with the shipped settings rose (0.658 -> 0.663): the Kenya fold's \
training part read Burkina Faso with Burkina Faso's own edits (in-sample for the rules), \
where the rules now fire more, and chose a stricter fill (p 0.5 instead of 0.2) that is \
wrong for a country read without its edits. Each country fold now reads each training \
country without its own edits and without the held-out country's (`read_fold`), as the CASE \
folds' training part and the all-data choice already read the ACLED notes; the knob is \
chosen on readings like those it is scored on. This changes the *before* figures too, so \
both methods are given. Round by round, the settings chosen on each fold's training part:

| taxonomy | Afghanistan | Burkina Faso | Kenya | ACLED pooled | per-fold mean | CASE pooled \
|
|---|---|---|---|---|---|---|
| before pass three | 0.790 | 0.680 | 0.662 | 0.670 | 0.711 ± 0.057 | 0.854 |
| round 1 (read Burkina Faso): an armed actor killing, executing or beating unarmed people \
is an attack, also "militants killed a pastor" (the battle pattern needs the killer first); \
armed targets (militiamen, customs, rangers) make a battle; looting in which people are \
killed or hurt is not coded as looting | 0.790 | 0.680 | 0.665 | 0.673 | 0.712 ± 0.056 | \
0.854 |
| round 2 (read Kenya): an abduction ending in a killing, a weapons find after a fight; \
words of a two-sided fight lower an attack | 0.790 | 0.688 | 0.665 | 0.676 | 0.714 ± 0.054 | \
0.854 |
| round 3 (read Burkina Faso): demonstrators who burn, wreck or assault, a crowd fighting \
the police: violent demonstration; civilians coming to blows with each other: mob violence | \
0.790 | 0.688 | 0.669 | 0.679 | 0.716 ± 0.053 | 0.850 |
| round 4 (read Kenya): an arrest ending in a beating or a killing; storming a building or \
capturing people is no territory taken | 0.790 | 0.694 | 0.669 | 0.681 | 0.718 ± 0.052 | \
0.850 |
| round 5 (read Burkina Faso): communities and self-defence militias fighting each other, an \
armed fighter killed, military operations: armed clash | 0.782 | 0.694 | 0.672 | 0.682 | \
0.716 ± 0.048 | 0.850 |

With the previous method (training countries read with their own edits): before 0.660 \
(Afghanistan 0.817, Burkina Faso 0.680, Kenya 0.639), after round 1 0.647 (Kenya 0.612), \
after round 4 0.656, after round 5 0.661 (Afghanistan 0.821, Burkina Faso 0.695, Kenya \
0.628: the Kenya fold's fill chose p 0.6). With the shipped settings (in-sample for the \
knob's numbers) the rounds read 0.671, 0.674, 0.677, 0.680, 0.682, 0.683 pooled, CASE 0.854 \
throughout. CASE's out-of-fold 0.854 -> 0.850 is the chooser's margin: its training part \
(the other folds and every ACLED note) now picks margin 0 or 0.1, which costs one snippet; \
chosen on all the data the margin is now 0.1, not the shipped 0.5 (the shipped model and \
settings are unchanged). Tried and dropped: a headline pattern ("gunmen kill two") for \
attacks, read from Kenya (shipped settings: CASE 0.854 -> 0.844, Afghanistan held out 0.815 \
-> 0.728); attacks counted as battles only when their target is armed (Kenya's own figure \
0.684 -> 0.683, the held-out countries fell too); local disputes turning to blows as mob \
violence (Burkina Faso's own figure +0.002, Kenya held out -0.002); attackers killed as the \
sign of a battle (Kenya's own figure fell). After round 2 the Afghanistan predictions it \
changed were printed once to find which edit moved them; no edit came from that. Side checks \
(the final taxonomy against the one before pass three): bench.event_accuracy primary type \
25/32 held-out both, tuning 23/33 -> 25/33; bench.false_alerts alerting 3/322 SemEval, \
0/1109 UCI, 0/181 pages both, texts given any type by the shipped config's classifier \
67/54/55 -> 66/54/54. bench.classify_speed: 10,000 / 10 aliases 1.30 (target < 2); CPU per \
article back to back, 60 SemEval articles, three rounds: 1.52-1.70 ms before, 1.54-1.59 ms \
after. The target (0.84 held-out pooled) is far: the rules one country's coders' wording \
needs move the other countries by a point or less a round."""

# side checks and run notes, kept as text (figures of the runs named)
_NOTES = """\
Pass two's side checks (2026-12-02, the chooser; a scratch run of the two benches' own code \
with the learned parts on; their sections build the `Classifier` without them, so they are \
unchanged by construction): bench.event_accuracy primary type 23/33 tuning, 25/32 held-out, \
the same rules only, fill only and fill + chooser (a first version that forced the chooser's \
pick to be the event's type lost one tuning article, a town seized after a fight; the pick \
now takes the overruled type's place); bench.false_alerts alerting texts 3/322 SemEval, \
0/1109 UCI, 0/181 extraction pages, and texts given any type 80/71/67, the same with and \
without the chooser (with `min_share` 1 it only reorders types the rules fired). CPU per \
article (67 texts, 10 aliases): 7.3–7.9 ms rules only, fill only and fill + chooser alike.

Load average during pass two's run: 11–15 on 2 CPUs (shared by other helpers); 14.8 min \
wall, 3.3 min CPU. Pass three's run (2026-12-07): load average 10–12 on 2 CPUs (shared by \
other helpers), about 9 min wall."""


def _report(sections: list[str]) -> str:
    return (
        "## Incident typing out-of-fold (ACLED by country, CASE k-fold)\n\n"
        "The shipped taxonomy (`config/taxonomy.yaml`, `Classifier` directly: the same first ACLED "
        'type as `monitor replay`), scored as data/incident-types/README.md says; ACLED "Other" '
        "counts as no type. *Held-out country*: each country's notes are scored by a setup made"
        " without looking at them: edits to the taxonomy made while reading one country's "
        "errors are tagged `# cv:<country>` in the YAML, and that country is read with the "
        "taxonomy minus its own edits (`taxonomy_without`). Pass one (2026-12-01) read, per "
        "country, a shuffled sample of up to 400 misses with only that country's own edits "
        "applied (`--misses <country>`), "
        "and edited the taxonomy from them; the held-out figures were computed twice mid-pass, "
        "and no edit was kept or dropped because of them. The CASE rules were hand-tuned on "
        "these 200 snippets in earlier passes, and this pass checked which CASE predictions its"
        " edits changed (and narrowed two edits that broke CASE snippets), so the CASE per-fold"
        " figures are **in-sample for the rules** and out-of-fold only for the knob. Data: "
        "ACLED (acleddata.com), CASE 2021 task 2.\n\n"
        "*The no-type fill* (`classify.learned`, monitor/classify/learned.py): when no type "
        "with an ACLED name fires, the closest clear violent type (clash, attack, shelling, "
        "air strike, remote explosive, suicide bomb, grenade, chemical weapon) is given if its "
        "rules reached `min_rule_share` of its threshold and the learned model's probability "
        "of those types reaches `min_probability`. The model is trained only on the project's "
        "own sentences (bench/data/incident-examples.tsv, `make train`), never on these data, "
        "so it is the same in every fold; its two settings are the knob. Each fold's training "
        "part holds the other folds of its data set **and all of the other data set**, and the"
        " knob maximises the mean of the two data sets' weighted F1 there (one shipped value "
        "must serve both). The example sentences were written without reading any ACLED or "
        "CASE text; a second batch (more 'none' sentences: crime, disasters, diplomacy, claims;"
        " more clashes and attacks) was added after a first measurement showed the model's "
        "gate did not yet spare CASE's no-type snippets, so the example set is not blind to "
        "these figures.\n\n"
        "Before pass one (the taxonomy as merged, same protocol): held-out Afghanistan 0.828, "
        "Burkina Faso 0.542, Kenya 0.509, pooled **0.542** (25.8% given no type); CASE 5-fold "
        "0.874 ± 0.063 (in-sample for the rules).\n\n"
        "Pass two (2026-12-02) read the per-type confusion of the held-out runs (which type "
        "pairs lose most: attack vs armed clash in all three countries, mob violence vs violent"
        " demonstration, looting, protests), then, per training country, samples of its own "
        "misses of those pairs with only its own edits applied; Afghanistan, read that way, "
        "had 5 misses left and got no edit. Its edits are tagged like pass one's. It checked "
        "which CASE predictions its edits changed and narrowed three that broke CASE snippets"
        " (so CASE stays in-sample for the rules); two edits came from reading CASE and carry "
        "`# cv:case`, so CASE is scored without them. Before pass two (same protocol): "
        "held-out Afghanistan 0.828, Burkina Faso 0.648, Kenya 0.603, pooled **0.629**, per-"
        "fold mean 0.693 ± 0.097 (the fill's settings chosen on each fold's training part); "
        "CASE 5-fold pooled 0.854, 0.853 ± 0.068. Each round's out-of-fold effect (the "
        "fill's settings chosen on each fold's training part; a round's Kenya edits reach only"
        " Burkina Faso and Afghanistan, and so on):\n\n"
        + _ROUNDS
        + "\n\n"
        + _CHOOSER
        + "\n\n"
        + _PASS_THREE
        + "\n\n"
        + "\n\n".join(sections)
        + "\n\n"
        + _NOTES
    )


if __name__ == "__main__":
    main()
