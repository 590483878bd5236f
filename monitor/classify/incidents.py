"""Incident types: weighted keywords and proximity patterns add up; exclusions take away.

As in EMM's alert definitions, a type fires when its score reaches its threshold. Hits in
the title and lead count more (``Scoring``); a term repeated adds up only ``max_hits_per_term``
times; a hit inside a longer hit of the same type (``strike`` in ``air strike``) is not counted.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from monitor.classify.normalize import FoldedText
from monitor.classify.schema import Scoring
from monitor.classify.terms import AnyTerm, CompiledTerm, Hit
from monitor.classify.watchlist import IncidentType
from monitor.types import Evidence


@dataclass(frozen=True)
class TypeScore:
    type: IncidentType
    score: float
    evidence: tuple[Evidence, ...]
    vetoed_by: str | None = None

    @property
    def fired(self) -> bool:
        return self.vetoed_by is None and self.score >= self.type.threshold


class CompiledType:
    def __init__(self, itype: IncidentType) -> None:
        self.type = itype
        self.keywords = [(CompiledTerm(t), w) for t, w in itype.keywords]
        self.patterns = [(p, [CompiledTerm(g) for g in p.near]) for p in itype.patterns]
        self.exclusions = [(x.scope, CompiledTerm(x.term)) for x in itype.exclude]
        terms = [t for t, _ in self.keywords] + [t for _, g in self.patterns for t in g]
        self._any = AnyTerm([*terms, *(t for _, t in self.exclusions)])

    def score(self, text: FoldedText, scoring: Scoring) -> TypeScore:
        if not self._any.may_occur(text):  # most types, in most articles: nothing to find
            return TypeScore(self.type, round(sum(()), 3), ())
        excluded: set[int] = set()
        for scope, term in self.exclusions:
            for hit in term.find(text):
                start = text.tokens[hit.first].start
                if scope == "article":
                    return TypeScore(self.type, 0.0, (), vetoed_by=term.term)
                excluded.add(text.sentence_index(start))
        # Keywords shadow shorter keywords inside them; a pattern adds to its keywords.
        hits = _outermost([(term.term, w, h) for term, w in self.keywords for h in term.find(text)])
        hits += [
            (_label(p.near), p.weight, h)
            for p, groups in self.patterns
            for h in _near(text, groups, p.within, p.ordered)
        ]
        hits.sort(key=lambda k: k[2].first)
        evidence = _evidence(text, scoring, hits, excluded)
        return TypeScore(self.type, round(sum(e.weight for e in evidence), 3), tuple(evidence))


def _label(groups: list[str]) -> str:
    return " ~ ".join(groups)


def _outermost(hits: list[tuple[str, float, Hit]]) -> list[tuple[str, float, Hit]]:
    """Drop hits lying inside a longer (or equal, weightier) hit; the longer phrase says more.

    Read longest (then weightiest) first, a hit is dropped when a kept one contains it. A
    hit read earlier that contains it is either kept or inside a kept one, so a hit is
    dropped exactly when it lies inside a longer hit, or repeats the span of an earlier one:
    found in one sorted sweep, not by comparing every pair (dense text has thousands).
    """
    ordered = sorted(hits, key=lambda h: (h[2].first - h[2].last, -h[1], h[2].first))
    inside = inside_longer({(h.first, h.last) for _, _, h in hits})
    seen: set[tuple[int, int]] = set()
    kept: list[tuple[str, float, Hit]] = []
    for hit in ordered:
        span = (hit[2].first, hit[2].last)
        if span not in inside and span not in seen:
            seen.add(span)
            kept.append(hit)
    return sorted(kept, key=lambda k: k[2].first)


def inside_longer(spans: Iterable[tuple[int, int]]) -> set[tuple[int, int]]:
    """The (first, last) spans that lie inside another, longer one.

    Sorted by start, longer first at one start, a span is inside another exactly when some
    span before it reaches as far: those before it start earlier, or at its start and longer.
    """
    inside = set()
    reach = -1
    for span in sorted(set(spans), key=lambda s: (s[0], -s[1])):
        if reach >= span[1]:
            inside.add(span)
        reach = max(reach, span[1])
    return inside


def _evidence(
    text: FoldedText, scoring: Scoring, hits: list[tuple[str, float, Hit]], excluded: set[int]
) -> list[Evidence]:
    counts: Counter[str] = Counter()
    out = []
    factors = {"title": scoring.title, "lead": scoring.lead, "body": 1.0}
    for term, weight, hit in hits:
        start, end = text.span(hit.first, hit.last)
        if text.sentence_index(start) in excluded or counts[term] >= scoring.max_hits_per_term:
            continue
        counts[term] += 1
        w = round(weight * factors[text.region(start)], 3)
        out.append(
            Evidence(
                term, text.full[start:end], w, start, end, text.sentence(start), negative=w < 0
            )
        )
    return out


def _near(text: FoldedText, groups: list[CompiledTerm], within: int, ordered: bool) -> list[Hit]:
    """Spans where every group occurs within ``within`` words of the first, in one sentence."""
    return near_hits(text, [g.find(text) for g in groups], within, ordered)


@dataclass(frozen=True)
class _Group:
    """One group's hits in text order, with their starts, ends and sentences side by side.

    ``CompiledTerm.find`` returns non-overlapping hits in text order, so both ``firsts``
    and ``lasts`` are sorted: the nearest hit on either side of an anchor is a bisection.
    """

    hits: list[Hit]
    firsts: list[int]
    lasts: list[int]
    sentences: list[int]

    @classmethod
    def of(cls, text: FoldedText, hits: list[Hit]) -> _Group:
        return cls(
            hits,
            [h.first for h in hits],
            [h.last for h in hits],
            [_sentence_of(text, h) for h in hits],
        )


def near_hits(text: FoldedText, found: list[list[Hit]], within: int, ordered: bool) -> list[Hit]:
    """``_near`` over the groups' hits (each list in text order, non-overlapping)."""
    if not all(found):
        return []
    others = [_Group.of(text, hits) for hits in found[1:]]
    out = []
    for anchor in found[0]:
        sentence = _sentence_of(text, anchor)
        span = [anchor.first, anchor.last]
        for group in others:
            best = _closest(anchor, group, within, ordered, sentence)
            if best is None:
                break
            span = [min(span[0], best.first), max(span[1], best.last)]
        else:
            out.append(Hit(span[0], span[1]))
    return out


def _sentence_of(text: FoldedText, hit: Hit) -> int:
    return text.sentence_index(text.tokens[hit.first].start)


def _closest(anchor: Hit, group: _Group, within: int, ordered: bool, sentence: int) -> Hit | None:
    """The group's hit nearest the anchor in the anchor's sentence: the first one after it
    or (unordered) the last one before it, the one before winning a tie. Any hit further
    away is further in words and no nearer in sentences, so only these two can be nearest."""
    candidates = []
    if not ordered:
        before = bisect_left(group.lasts, anchor.first) - 1
        if before >= 0:
            candidates.append((anchor.first - group.lasts[before], before))
    after = bisect_right(group.firsts, anchor.last)
    if after < len(group.hits):
        candidates.append((group.firsts[after] - anchor.last, after))
    best, best_gap = None, within + 1
    for gap, i in candidates:
        if group.sentences[i] == sentence and gap < best_gap:
            best, best_gap = group.hits[i], gap
    return best
