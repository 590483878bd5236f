"""The event the news follows on from: the clauses that tell it, the gap that dates it.

"Jets struck depots on Thursday, a day after a rocket attack on Camp Taji killed three":
the clause from "a day after" to the comma tells a prior event, with its own type, place,
actors and toll. This module finds such clauses in the text (``PriorClauses``), the gap
the headline or lede gives between the two events (``Gap``), and, once event.py has read
both events, dates the prior one by that gap and keeps its type out of the news's
secondary types. event.py weighs the sentences; this module only says which words tell
what came before.

A gap ("a day after") or a motive ("in retaliation for") always names a prior event; a
plain "after"/"following" does only when the main clause before it tells an incident of
its own ("jets hit depots after a rocket attack"), since "three were killed after a bomb
exploded" tells one event, cause first.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import NamedTuple

from monitor.classify.normalize import FoldedText
from monitor.types import Event, EventEvidence, IncidentMatch

_NUMBER_WORDS = r"(?:a|an|one|two|three|four|five|six|seven|several|a few|a couple of|\d+)"
_PRIOR_RE = re.compile(
    rf"\b(?:{_NUMBER_WORDS} (?:hours?|days?|weeks?|months?) after|the day after"
    r"|(?:hours|days|weeks|months) after"
    r"|in (?:retaliation|response|revenge|reprisal|reply) (?:for|to)|to avenge"
    r"|(?:to retaliate|retaliating) for|responding to)\b",
    re.IGNORECASE,
)
# A prior clause that says how many days before the news the prior event came ("a day
# after", "two days after", "the day after"); weeks and hours are too loose for a date.
_DAYS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6}
_GAP_RE = re.compile(
    r"\b(?:(a|an|one|two|three|four|five|six|\d{1,2}) days?|the day) after\b", re.IGNORECASE
)
# "shortly after midnight" is a time of day, not an event
_AFTER_RE = re.compile(
    r"\b(?:after|following)\b(?!\s+(?:midnight|noon|midday|dark|dawn|dusk|sunset|sunrise"
    r"|nightfall|daybreak|\d|(?:morning|evening|afternoon) prayers))",
    re.IGNORECASE,
)
# Where a prior clause stops: the sentence's end, a semicolon or dash, or a comma before
# what goes back to the main clause ("..., wounding two", "..., and", "..., officials said").
_CLAUSE_STOP_RE = re.compile(
    r";|\s[-—–]\s|,\s+(?=\w+ing\b|and\b|but\b|while\b|whereas\b|\w+ (?:said|says)\b)",
    re.IGNORECASE,
)
# Evidence words that say what an incident did, or to whom, not what it was: "were killed
# after ...", "a civilian contractor has died of his wounds after a rocket barrage hit ..."
_CONSEQUENCE_RE = re.compile(
    r"\b(?:kill|die|dead|death|wound|injur|hurt|shot|civilian)", re.IGNORECASE
)

Span = tuple[int, int]
# The types each type outranks when both fire: the taxonomy's ``supersedes``, its own and
# its ancestors' (a rocket attack, as shelling, outranks an armed clash)
Supersedes = Mapping[str, Collection[str]]


class Gap(NamedTuple):
    """How many days before the news the prior event came, and the sentence saying so."""

    days: int
    sentence: str


@dataclass(frozen=True, slots=True)
class PriorClauses:
    """Character spans of the clauses that tell a prior event, in text order."""

    spans: tuple[Span, ...] = ()

    def holds(self, offset: int) -> bool:
        return any(a <= offset < b for a, b in self.spans)

    def starting_in(self, start: int, end: int) -> tuple[Span, ...]:
        """The clauses that begin inside ``start:end`` (a sentence)."""
        return tuple((a, b) for a, b in self.spans if start <= a < end)

    def gap(self, folded: FoldedText, lede: Sequence[Span]) -> Gap | None:
        """The gap a clause of the headline or lede (sentences ``lede``) gives: "a day
        after a rocket attack ..." is one day."""
        for start, end in lede:
            for a, b in self.starting_in(start, end):
                m = _GAP_RE.match(folded.full, a, b)
                if m is not None:
                    count = (m.group(1) or "one").lower()
                    return Gap(int(_DAYS.get(count, count)), folded.full[start:end].strip())
        return None


def find_prior_clauses(folded: FoldedText, types: tuple[IncidentMatch, ...]) -> PriorClauses:
    """The clauses of ``folded`` that tell what the news follows on from; ``types`` (the
    fired types' evidence) decides whether a plain "after" is one."""
    told = sorted((e.start, e.matched) for t in types for e in t.evidence if not e.negative)
    spans: list[Span] = []
    for start, end in folded.sentences:
        sentence = folded.full[start:end]
        for m in _PRIOR_RE.finditer(sentence):
            spans.append((start + m.start(), start + _clause_end(sentence, m.start(), m.end())))
        for m in _AFTER_RE.finditer(sentence):
            if any(a <= start + m.start() < b for a, b in spans):
                continue
            clause = (start + m.start(), start + _clause_end(sentence, m.start(), m.end()))
            main = [w for o, w in told if start <= o < end and not clause[0] <= o < clause[1]]
            prior = [w for o, w in told if clause[0] <= o < clause[1]]
            if prior and any(not _CONSEQUENCE_RE.search(w) for w in main):
                spans.append(clause)
    return PriorClauses(tuple(sorted(spans)))


def _clause_end(sentence: str, begin: int, at: int) -> int:
    """Where the clause whose marker spans ``begin:at`` stops. One that opens the sentence
    ("A day after the attack, jets struck ...") stops at its first comma."""
    if not sentence[:begin].strip(" \"'“‘"):
        comma = sentence.find(",", at)
        return comma if comma >= 0 else len(sentence)
    stop = _CLAUSE_STOP_RE.search(sentence, at)
    return stop.start() if stop else len(sentence)


def dated_by_gap(prior: Event, news_day: date | None, gap: Gap | None) -> Event:
    """``prior`` dated from the news's day when only the gap says when it came: "a day
    after" strikes on Thursday is Wednesday. A day the article names for it comes first."""
    if prior.date is not None or news_day is None or gap is None:
        return prior
    day = news_day - timedelta(days=gap.days)
    evidence = EventEvidence("date", gap.sentence, day.isoformat())
    return replace(prior, date=day, evidence=(*prior.evidence, evidence))


def told_types(kept: Sequence[IncidentMatch], supersedes: Supersedes) -> list[IncidentMatch]:
    """The prior event's types (``kept``: supported by its clauses, best first) without
    those another of them outranks. A clause is short and tells consequences with the
    incident: "a rocket attack on Camp Taji that killed three soldiers" gives a battle's
    words (killed, soldiers) as many points as the rockets, but the weapon decides the
    type, as the taxonomy's ``supersedes`` says."""
    beaten = {loser for t in kept for loser in supersedes.get(t.id, ())}
    left = [t for t in kept if t.id not in beaten and beaten.isdisjoint(t.ancestors)]
    return left or list(kept)  # types outranking each other: their order stands


def most_specific(kept: Sequence[IncidentMatch]) -> IncidentMatch:
    """The first of ``kept`` (supported by the prior event's clauses, best first), or its
    deepest descendant among them: "a rocket attack" is told by one or two words, where
    its parent (shelling) counts the same words and more, so a child the clause supports
    at all says what the clause says."""
    first = kept[0]
    children = [t for t in kept if first.id in t.ancestors]
    return max(children, key=lambda t: len(t.ancestors), default=first)


def set_apart(
    event: Event,
    event_types: list[IncidentMatch],
    prior: Event,
    types: tuple[IncidentMatch, ...],
) -> tuple[Event, list[IncidentMatch]]:
    """The news's event carrying ``prior`` when it has a type: a type of the prior event
    (or of its family) is that event's mention, not a second side of the news."""
    if prior.incident_type is None:
        return event, event_types
    told = {prior.incident_type, *_family(prior.incident_type, types)}
    secondary = tuple(t for t in event.secondary_types if t not in told)
    kept = event_types[:1] + [t for t in event_types[1:] if t.id not in told]
    return replace(event, prior=prior, secondary_types=secondary), kept


def _family(type_id: str, types: tuple[IncidentMatch, ...]) -> set[str]:
    """The type's ancestors and descendants among the fired types."""
    own = next((t for t in types if t.id == type_id), None)
    related = set(own.ancestors) if own else set()
    return related | {t.id for t in types if type_id in t.ancestors}
