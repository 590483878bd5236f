"""The place veto (monitor/dedup/places.py) on pairs of development reports: how often it
keeps two reports of other events apart, and how often it wrongly splits one event.

    .venv/bin/python -m bench.dedup_veto

Article against article, full reports only (the grouper never vetoes a headline-only item:
a headline names too little). Pairs: SemEval train pairs (same: overall <= 1.5, other:
>= 2.5) and every pair of reports within an ECB+ topic (two same-kind events each). The
one choice, how many sentences must name a lede place (``places.REPEATED``, 1 or 2), is
made by grouped 5-fold cross-validation (by SemEval pair and ECB+ topic, seed 13): on the
training folds, the variant that vetoes most other-event pairs at veto precision >= 0.95
(else the most precise); the figures are the held-out folds'.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any

from bench import _dedup
from bench._report import sample, update_section
from monitor.dedup.places import MAX_WORDS, REPEATED, places_apart, whereabouts
from monitor.dedup.text import clean_title, sentences

COMMAND = ".venv/bin/python -m bench.dedup_veto"
VARIANTS = (1, 2)  # sentences that must name a lede place
FOLDS = 5
SEED = 13
MIN_PRECISION = 0.95
FULL_WORDS = 40  # features.MEANING_MIN_WORDS: shorter items are never vetoed


@dataclass(frozen=True, slots=True)
class Pair:
    group: str  # the unit of cross-validation
    same: bool  # one event
    vetoed: tuple[bool, ...]  # per variant of VARIANTS


def vetoes(a: dict[str, Any], b: dict[str, Any]) -> tuple[bool, ...]:
    return tuple(places_apart(_where(a, n), _where(b, n)) for n in VARIANTS)


def _where(line: dict[str, Any], repeated: int) -> Any:
    body = sentences(line["text"])
    if len(" ".join(body).split()) < FULL_WORDS:
        return whereabouts("", [], repeated=repeated)
    return whereabouts(clean_title(line["title"]), body, repeated=repeated)


def semeval_pairs() -> list[Pair]:
    lines, pairs = _dedup.semeval_inputs()
    by_id = {x["id"]: x for x in lines}
    scored = [(a, b, o) for a, b, o in sample(pairs, 16) if o <= 1.5 or o >= 2.5]
    return [Pair(f"semeval-{a}", o <= 1.5, vetoes(by_id[a], by_id[b])) for a, b, o in scored]


def ecbplus_pairs() -> list[Pair]:
    lines, gold = _dedup.ecbplus_inputs()
    topics: dict[str, list[dict[str, Any]]] = {}
    for x in sample(lines, 40):
        topics.setdefault(gold[x["id"]].rsplit("-", 1)[0], []).append(x)
    return [
        Pair(f"ecb-{topic}", gold[a["id"]] == gold[b["id"]], vetoes(a, b))
        for topic, members in sorted(topics.items())
        for a, b in combinations(members, 2)
    ]


def counts(pairs: Iterable[Pair], variant: int) -> tuple[int, int, int, int]:
    """(same-event pairs, of them vetoed, other-event pairs, of them vetoed)."""
    same = same_vetoed = other = other_vetoed = 0
    for p in pairs:
        vetoed = p.vetoed[variant]
        if p.same:
            same, same_vetoed = same + 1, same_vetoed + vetoed
        else:
            other, other_vetoed = other + 1, other_vetoed + vetoed
    return same, same_vetoed, other, other_vetoed


def precision(c: tuple[int, int, int, int]) -> float:
    return c[3] / (c[1] + c[3]) if c[1] + c[3] else 1.0


def choose(pairs: Sequence[Pair]) -> int:
    """The variant (index) vetoing most other-event pairs at MIN_PRECISION, else the most
    precise one."""
    scored = [(precision(counts(pairs, v)), counts(pairs, v)[3], v) for v in range(len(VARIANTS))]
    good = [s for s in scored if s[0] >= MIN_PRECISION]
    if good:
        return max(good, key=lambda s: (s[1], -s[2]))[2]
    return max(scored, key=lambda s: (s[0], -s[2]))[2]


def cross_validate(pairs: Sequence[Pair]) -> tuple[list[tuple[int, int, int, int]], list[int]]:
    groups = sorted({p.group for p in pairs})
    random.Random(SEED).shuffle(groups)
    fold = {g: i % FOLDS for i, g in enumerate(groups)}
    held, chosen = [], []
    for k in range(FOLDS):
        variant = choose([p for p in pairs if fold[p.group] != k])
        chosen.append(VARIANTS[variant])
        held.append(counts([p for p in pairs if fold[p.group] == k], variant))
    return held, chosen


def _row(name: str, c: Sequence[int]) -> str:
    same, sv, other, ov = c
    return (
        f"| {name} | {same} | {sv} ({100 * sv / max(same, 1):.1f} %) | {other} | "
        f"{ov} ({100 * ov / max(other, 1):.1f} %) | {precision((same, sv, other, ov)):.3f} |"
    )


def main() -> None:
    data = {}
    if _dedup.SEMEVAL.exists():
        data["SemEval pairs"] = semeval_pairs()
    if _dedup.ECBPLUS.exists():
        data["ECB+ topics 1-22, pairs within a topic"] = ecbplus_pairs()
    if not data:
        print("skipped: no development data")
        return
    everything = [p for pairs in data.values() for p in pairs]
    held, chosen = cross_validate(everything)
    same, vetoed, other, other_vetoed = (sum(c[i] for c in held) for i in range(4))
    oof = (same, vetoed, other, other_vetoed)
    per_fold = [precision(c) for c in held]
    mean = sum(per_fold) / len(per_fold)
    sd = (sum((x - mean) ** 2 for x in per_fold) / len(per_fold)) ** 0.5
    shipped = VARIANTS.index(REPEATED)
    if choose(everything) != shipped:  # the rule, applied to all of the data, ships
        print(f"note: on all pairs the rule chooses {VARIANTS[choose(everything)]}, "
              f"places.REPEATED is {REPEATED}")  # fmt: skip
    rows = [_row("all, **out-of-fold** (variant chosen per fold)", oof)]
    rows += [_row(f"{name}, in-sample, shipped ({REPEATED})", counts(p, shipped))
             for name, p in data.items()]  # fmt: skip
    rows += [
        _row(f"{name}, in-sample, {VARIANTS[v]} sentence(s)", counts(p, v))
        for name, p in data.items()
        for v in range(len(VARIANTS))
        if v != shipped
    ]
    md = (
        "## dedup-veto: the place veto on pairs of development reports\n\n"
        "Article against article, full reports only: both name the event's place in their "
        "lede (headline or first sentence, a capitalised name of at most "
        f"{MAX_WORDS} words after a locative preposition, landmarks skipped), named by at "
        "least `REPEATED` of their sentences, and neither names the other's anywhere "
        "(`monitor/dedup/places.py`). A veto on a same-event pair is a wrong split; on an "
        "other-event pair it keeps a twin apart. Headline-only items (UCI) are never "
        "vetoed. `REPEATED` (1 or 2) chosen by grouped 5-fold CV (SemEval pair, ECB+ topic; "
        f"seed {SEED}): most other-event vetoes at veto precision ≥ {MIN_PRECISION} on the "
        f"training folds; chosen per fold: {chosen}. Veto precision per held-out fold: "
        f"{mean:.3f} ± {sd:.3f} ({min(per_fold):.2f}-{max(per_fold):.2f}).\n\n"
        "| pairs | same-event | vetoed (wrong) | other-event | vetoed | veto precision |\n"
        "|---|---|---|---|---|---|\n" + "\n".join(rows)
    )
    update_section("dedup-veto", md, command=COMMAND)


if __name__ == "__main__":
    main()
