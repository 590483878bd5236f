"""Incident types: weighted keywords and proximity patterns add up; exclusions take away.

As in EMM's alert definitions, a type fires when its score reaches its threshold. Hits in
the title and lead count more (``Scoring``); a term repeated adds up only ``max_hits_per_term``
times; a hit inside a longer hit of the same type (``strike`` in ``air strike``) is not counted.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from monitor.classify.normalize import FoldedText
from monitor.classify.schema import Scoring
from monitor.classify.terms import CompiledTerm, Hit
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

    def score(self, text: FoldedText, scoring: Scoring) -> TypeScore:
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
    """Drop hits lying inside a longer (or equal, weightier) hit; the longer phrase says more."""
    ordered = sorted(hits, key=lambda h: (h[2].first - h[2].last, -h[1], h[2].first))
    kept: list[tuple[str, float, Hit]] = []
    for hit in ordered:
        h = hit[2]
        if not any(k[2].first <= h.first and h.last <= k[2].last for k in kept):
            kept.append(hit)
    return sorted(kept, key=lambda k: k[2].first)


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
    found = [g.find(text) for g in groups]
    if not all(found):
        return []
    out = []
    for anchor in found[0]:
        sentence = text.sentence_index(text.tokens[anchor.first].start)
        span = [anchor.first, anchor.last]
        for hits in found[1:]:
            best = _closest(text, anchor, hits, within, ordered, sentence)
            if best is None:
                break
            span = [min(span[0], best.first), max(span[1], best.last)]
        else:
            out.append(Hit(span[0], span[1]))
    return out


def _closest(
    text: FoldedText, anchor: Hit, hits: list[Hit], within: int, ordered: bool, sentence: int
) -> Hit | None:
    best, best_gap = None, within + 1
    for h in hits:
        if h.first > anchor.last:
            gap = h.first - anchor.last
        elif not ordered and h.last < anchor.first:
            gap = anchor.first - h.last
        else:
            continue
        same = text.sentence_index(text.tokens[h.first].start) == sentence
        if same and gap < best_gap:
            best, best_gap = h, gap
    return best
