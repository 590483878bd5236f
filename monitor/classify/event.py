"""The main event of an article: what happened, where, who, when, and the toll.

News puts the event first (headline, lede, first paragraphs) and the background later:
an earlier attack on another base with its own toll, the group's history, the year's
total, a minister's words about something else. Each sentence gets a weight from its place
(headline and lede count fully, later paragraphs less and less) times a small factor when
it reads as background ("last year", "in December", "in 2019", "previously", "a similar
attack", a date more than a week old). Every field is then read from the weighted
sentences, so a toll or a base named only in background neither sets the alert's header
nor raises its severity:

    incident type   fired types whose evidence, so weighted, still reaches most of the
                    threshold; the strongest (the more specific of a parent and child) is
                    primary, at most two others are secondary
    place           the best-supported place, refined to the most specific place inside
                    it that the event's sentences name (a base over its city over its
                    country); "north of Baghdad" names a reference point, not the place
    actors          armed groups and forces the event's sentences name, with the role the
                    words around them give (attacker, target; "involved" when only
                    accused or unclear)
    date            the day the lede names, read against the publication time
    killed/wounded  the largest count stated outside background, from the first
                    paragraphs when they state one (or a revised total anywhere),
                    plus another side's victims told apart (the police officers hurt
                    beside the protesters);
                    "no one was killed" is 0; each with the sentence it came from
    prior           the event the news follows on from, read the same way from what
                    tells of it (below), when it has a type of its own

Background is also read below the sentence. A clause that says what the news follows on
from ("... a day after a rocket attack on Camp Taji killed three", "in retaliation for the
barrage on ...", or a plain "after"/"following" when the main clause tells an incident of
its own; prior.py finds them) speaks of a prior event: its place, toll and type are not
the main event's, even in the headline or lede. A body sentence naming a day before the
one the headline or lede gives the news ("on Wednesday evening" when the strikes came on
Thursday) is background too, with the rest of its paragraph. So is a later sentence about
the prior event's place when the news happened elsewhere: naming it, or pointing back to
it by its kind ("rockets landed on the base" after "a rocket attack on Camp Taji") when
the news has no such place of its own; one naming the news's place stays the news's. What
these say is the prior event, dated from the news's day by the gap its clause gives ("a
day after") when no sentence names its day.

A commemoration is read as background even in the headline and lede: a memorial, a marked
anniversary, "years on", a funeral weeks after, a trial or sentence over an attack. Its
words name the old attack in full (type, place, toll), and the article then has no event
of its own, so it alerts on nothing; unless the article still tells an incident without
them (police firing tear gas at an anniversary rally), which the commemoration's sentences
then tell at full weight, its place and toll with it.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from copy import copy
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from monitor.classify.casualties import (
    CountMention,
    another_group,
    count_mentions,
    no_casualties,
)
from monitor.classify.dates import event_dates_on, explicit_dates, likely_event_date
from monitor.classify.normalize import FoldedText
from monitor.classify.prior import (
    Gap,
    PriorClauses,
    Supersedes,
    dated_by_gap,
    find_prior_clauses,
    most_specific,
    set_apart,
    told_types,
)
from monitor.classify.roles import Named, Part, part_in
from monitor.types import (
    Actor,
    Casualties,
    EntityMatch,
    Event,
    EventEvidence,
    IncidentMatch,
    Mention,
    Place,
)

PLACE_KINDS = frozenset({"military_base", "facility", "location", "country"})
ACTOR_KINDS = frozenset({"armed_group", "state_force"})
NOT_SPEAKERS = frozenset({"military_base", "facility", "weapon"})  # never blame anyone
ROLE_ORDER = {"attacker": 0, "target": 1, "accused": 2, "involved": 3}
ROLE_WINDOW = 240  # characters either side of a mention that its part is read from
# Sentence weight by position: 0 is the headline, 1 the first sentence of the body.
_POSITION = (1.0, 1.0, 0.85, 0.7, 0.6, 0.5, 0.45, 0.4, 0.35, 0.3)
_LATE = 0.25
BACKGROUND = 0.1  # a background sentence keeps a tenth of its weight
# a commemoration's sentence keeps next to nothing: it names the old attack in full, type,
# place and toll, and in the headline and lede, where a tenth of that still makes an event
COMMEMORATED = BACKGROUND * BACKGROUND
RECENT = 0.6  # a sentence naming a day of the past week ("the attack Wednesday") is news
REFINE = 0.5  # event weight a place inside the best-supported one needs to refine it
REFERENCE = 0.3  # "north of Baghdad", "outside Kirkuk": a landmark, not the place
EVENT_SHARE = 0.6  # of a type's threshold its event-weighted evidence must reach
SECONDARY_SHARE = 1.0  # a secondary type must reach its whole threshold from the event
NAMED = 0.2  # event weight an entity needs to be part of the event
LEDE_SENTENCES = 4  # headline + three: where the event's day and first toll are read
EARLY = 0.5  # sentences at least this heavy are "the first paragraphs"

_MONTH_NAMES = (
    "January|February|March|April|May|June|July|August|September|October|November|December"
)
_BACKGROUND_RE = re.compile(
    r"\b(?:last (?:year|month|week|summer|winter|spring|autumn|fall)"
    r"|(?:earlier|later) this (?:year|month)|(?:so far )?this year|in recent (?:weeks|months|years)"
    r"|(?:over|during|in|for) the (?:past|last|following|previous|preceding) (?:few |several )?"
    r"(?:days|weeks|months|years|decades?)"
    rf"|in (?:early |late |mid-)?(?:{_MONTH_NAMES})\b"
    r"|(?:days?|weeks?|months?|years?|decades?) (?:ago|earlier|before)"
    # "came a week after a rocket attack on ...": what the news follows on from
    r"|(?:a|one|two|three|four|five|six|several|a few|\d+) (?:days?|weeks?|months?) after"
    r"|previous(?:ly)?"
    r"|an? (?:similar|previous|prior|separate|earlier)(?: \w+)? (?:attack|strike|incident|bombing)"
    r"|an earlier|the (?:last|first) time|anniversary|was (?:founded|formed|created) in"
    # a group blamed for, or known by, incidents before the news: "blamed X for earlier
    # kidnappings", "a string of past attacks on the base"
    r"|(?:earlier|past|previous|prior|former|similar) (?:\w+ )?(?:attacks|strikes|kidnappings"
    r"|abductions|bombings|killings|assassinations|incidents|raids|clashes|ambushes)"
    # the narrative of what came before: "had quickly responded", "had stormed"
    r"|had (?:\w+ly )?(?:responded|retaliated|attacked|struck|stormed|launched|killed|seized"
    r"|bombed|fired|targeted|blamed|accused)"
    r"|since (?:the start|its founding)|(?:19|20)\d\d)\b",
    re.IGNORECASE,
)
# A commemoration tells of an old event even in the headline and lede, where the news is
# otherwise read: the memorial, the anniversary, the years since, a funeral weeks on, a
# trial over it ("relatives of the soldiers killed at Camp Taji gathered at a memorial").
# A bare "on the anniversary of" is left out: rockets may strike on an anniversary.
_NUMBER_WORD = r"(?:\d+|two|three|four|five|six|seven|eight|nine|ten|twenty|several|many)"
_COMMEMORATION_RE = re.compile(
    r"\b(?:memorial (?:service|ceremony|ceremonies|vigil|event|day|plaque)s?"
    r"|(?:at|held|hold|holds|holding|unveil\w*|dedicat\w*|attend\w*) an? memorial"
    r"|remembrance|commemorat\w+"
    r"|remember(?:s|ed|ing)? (?:the )?(?:\w+ )?(?:troops|soldiers|victims|dead|fallen)"
    r"|(?:mark|marks|marked|marking|observ\w+) (?:the )?(?:\w+ )?anniversary"
    rf"|years on|{_NUMBER_WORD} years since"
    r"|(?:funeral|buried|laid to rest)\b.{0,80}?\b(?:weeks?|months?|years?) (?:after|later|since)"
    r"|(?:weeks?|months?|years?) (?:after|later)\b.{0,80}?\b(?:funeral|buried|laid to rest)"
    r"|sentenced|convicted|acquitted|(?:on|stand|stands|stood|goes|went) trial|trial (?:of|over)"
    r"|verdict)\b",
    re.IGNORECASE,
)
# A headline of mourning is the commemoration its lede tells ("Soldier killed in ambush laid
# to rest" over "... three weeks after the attack"), not news of the killing
_MOURNING_RE = re.compile(
    r"\b(?:funeral|buried|bury|burial|laid to rest|mourn\w*|memorial|tribute|honou?r\w*"
    r"|remember\w*|wreaths?)\b",
    re.IGNORECASE,
)
# Nouns by which a later sentence points back to a place of that kind: "the base" after
# "a rocket attack on Camp Taji"
_BACKREF_NOUNS = {
    "military_base": r"base|camp|airbase|airfield|air field|garrison|outpost",
    "facility": r"compound|embassy|consulate|facility|complex|building",
}
_YEAR_RE = re.compile(r"\b(19|20)\d\d\b")
_REFERENCE_RE = re.compile(
    r"\b(?:(?:north|south|east|west|northeast|northwest|southeast|southwest)(?:ern)?"
    r"(?: of)?|outside|near|nearby|from|outskirts of)\s+(?:the\s+)?(?:city of\s+)?$",
    re.IGNORECASE,
)
# "BASRA, Jan 21 -", "BAGHDAD (Reuters) —": where the report was filed, not the event.
# Used with ``match(text, pos)``, which anchors at ``pos``: a "^" would anchor at the
# string's start only, and no dateline after the headline would ever be found.
DATELINE = re.compile(
    r"\s*[A-Z][A-Z .'’-]{2,40}(?:,\s*[A-Z][a-z]{2,8}\.?\s+\d{1,2})?\s*(?:\([^)]{1,40}\))?"
    r"\s*[-—–:]\s*"
)
# A capital or country that speaks or acts as a state ("Baghdad lodged a protest")
_GOVERNMENT_RE = re.compile(
    r"^\s+(?:has |had |also |formally )?(?:said|says|lodged|protests|protested|condemned"
    r"|condemns|warned|warns|denied|denies|announced|vowed|demanded|demands|summoned"
    r"|rejected|rejects|responded|accused|accuses|called for|urged|urges)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class EventReading:
    """The event, and the facts rules read: only what the event's sentences support."""

    event: Event
    types: tuple[IncidentMatch, ...]
    entities: tuple[EntityMatch, ...]
    casualties: Casualties


class SentenceWeights:
    """How much each sentence of an article speaks about its main event.

    ``at`` discounts a prior clause inside a sentence. ``prior()`` is the same article
    weighed for the prior event instead: only its clauses and earlier-day sentences count.
    """

    def __init__(
        self,
        folded: FoldedText,
        published: datetime | None,
        clauses: PriorClauses,
        *,
        commemorations: bool = True,
    ) -> None:
        self.folded = folded
        self.for_prior = False
        self.clauses = clauses
        self.day, self.day_sentence, earliest = self._lede_day(published)
        weights, prior, body, paragraph_background, earlier = [], [], 0, False, False
        previous_end, paragraph = 0, 0
        # per sentence: its paragraph, and whether it is still open to be read as telling
        # the prior event by its place (a body sentence neither dated nor background)
        self.paragraphs: list[int] = []
        self.open: list[bool] = []
        self.lede = 0  # how many sentences the headline and lede are
        told = False  # whether the headline or lede tells the news (not only a commemoration)
        found = _commemorations(folded) if commemorations else set()
        self.commemorates = bool(found)
        for index, (start, end) in enumerate(folded.sentences):
            if start >= folded.title_end:  # the headline is sentence 0, the lede 1, ...
                body += 1
            if "\n" in folded.full[previous_end:start]:
                paragraph_background = earlier = False  # a new paragraph
                paragraph += 1
            main = self.main_text(start, end)
            # A sentence naming a day of the past week speaks of the news, unless that
            # day is before the news's own; one with a background marker, and what
            # follows it in its paragraph, does not. The headline and lede state the
            # news, whatever context they also give (their prior clauses aside).
            named = likely_event_date(main, published) if published else None
            recent = named is not None and (earliest is None or named >= earliest)
            sentence = folded.full[start:end]  # its prior clauses' markers count here
            # a memorial held today ("on Wednesday") is still about the old event
            commemorates = index in found
            if body > 1 and not recent:
                earlier = earlier or named is not None
                paragraph_background = paragraph_background or earlier
                paragraph_background = paragraph_background or _is_background(sentence, published)
                background = paragraph_background
            else:
                background = False
            if commemorates and body > 1:
                paragraph_background = True
            background = background or commemorates
            factor = COMMEMORATED if commemorates else BACKGROUND if background else 1.0
            weight = _position(body) * factor
            weights.append(max(weight, RECENT) if recent and not background else weight)
            told = told or (body <= 1 and not background)
            prior.append(_position(body) if body > 1 and earlier else 0.0)
            self.paragraphs.append(paragraph)
            self.open.append(body > 1 and named is None and not background)
            self.lede += body <= 1
            previous_end = end
        self.weights, self.prior_weights = weights, prior
        self.lede_tells_news = told or not weights

    def at(self, offset: int) -> float:
        if not self.weights:
            return 0.0 if self.for_prior else 1.0
        index = self.folded.sentence_index(offset)
        in_clause = self.clauses.holds(offset)
        if self.for_prior:
            clause = self.weights[index] if in_clause else 0.0
            return max(clause, self.prior_weights[index])
        return self.weights[index] * (BACKGROUND if in_clause else 1.0)

    def prior(self) -> SentenceWeights:
        view = copy(self)
        view.for_prior = True
        return view

    def sentence(self, offset: int) -> str:
        return self.folded.sentence(offset)

    def gap(self) -> Gap | None:
        """The gap the headline or lede gives between the prior event and the news."""
        return self.clauses.gap(self.folded, self.folded.sentences[: self.lede])

    def at_prior_place(self, place: EntityMatch, main: EntityMatch | None) -> SentenceWeights:
        """These weights with the body sentences about the prior event's ``place`` moved
        to it, with the rest of their paragraph: those naming that place, or pointing back
        to it ("the base" after Camp Taji) when the news is not at such a place itself.
        ``main`` is the news's own place: a sentence naming it stays the news's."""
        if main is not None and (main.id == place.id or place.id in main.ancestors):
            return self  # the news happened there too: its sentences cannot tell them apart
        view = copy(self)
        view.weights, view.prior_weights = list(self.weights), list(self.prior_weights)
        backref = self._backref(place, main)
        moved = -1  # the paragraph whose sentences follow one moved to the prior event
        for i, (start, end) in enumerate(self.folded.sentences):
            if not self.open[i]:
                continue
            names_place = self._names(place, start, end)
            # "Camp Taji, in Iraq, was hit": the news's country holds the base, which says more
            holds = names_place and main is not None and main.id in place.ancestors
            if main is not None and self._names(main, start, end) and not holds:
                moved = -1
                continue
            if (
                moved == self.paragraphs[i]
                or names_place
                or (backref is not None and backref.search(self.main_text(start, end)))
            ):
                moved = self.paragraphs[i]
                position = self.weights[i]
                view.weights[i], view.prior_weights[i] = position * BACKGROUND, position
        return view

    def without(self, place: EntityMatch) -> SentenceWeights:
        """These weights with the open body sentences naming ``place`` as background."""
        view = copy(self)
        view.weights = [
            w * BACKGROUND if self.open[i] and self._names(place, start, end) else w
            for i, (w, (start, end)) in enumerate(
                zip(self.weights, self.folded.sentences, strict=True)
            )
        ]
        return view

    def _names(self, entity: EntityMatch, start: int, end: int) -> bool:
        """Whether sentence ``start:end`` names ``entity`` outside its prior clauses."""
        return any(
            start <= m.start < end and not m.demonym and not self.clauses.holds(m.start)
            for m in entity.mentions
        )

    def _backref(self, place: EntityMatch, main: EntityMatch | None) -> re.Pattern[str] | None:
        """The definite back-references to ``place``'s kind ("the base"), unless the news
        uses such a noun for a place of its own where it is told: in the headline or lede,
        outside their prior clauses."""
        nouns = _BACKREF_NOUNS.get(place.kind)
        if nouns is None or (main is not None and main.kind == place.kind):
            return None
        own = re.compile(rf"\b(?:{nouns})s?\b", re.IGNORECASE)  # "a base", "bases"
        for start, end in self.folded.sentences[: self.lede]:
            if own.search(self.main_text(start, end)):
                return None  # "rockets hit a base in Anbar": "the base" may be the news's
        return re.compile(rf"\bthe (?:[\w-]+ ){{0,2}}(?:{nouns})\b(?!\s+of\b)", re.IGNORECASE)

    def main_text(self, start: int, end: int) -> str:
        """The sentence ``start:end`` without its prior clauses."""
        text, at = [], start
        for a, b in self.clauses.starting_in(start, end):
            text.append(self.folded.full[at:a])
            at = min(b, end)
        return "".join([*text, self.folded.full[at:end]])

    def _lede_day(self, published: datetime | None) -> tuple[date | None, str, date | None]:
        """The day the headline or lede gives the news, read outside its prior clauses;
        with the earliest day its words may mean ("overnight": the night's first date)."""
        if published is None:
            return None, "", None
        body = 0
        for start, end in self.folded.sentences:
            body += start >= self.folded.title_end
            if body > 1:
                break
            dateline = DATELINE.match(self.folded.full, start)
            sentence = self.main_text(dateline.end() if dateline else start, end)
            day = likely_event_date(sentence, published)
            if day is not None and published.date() - day <= timedelta(days=7):
                days = event_dates_on(sentence, (published.date(),))  # its own day, as above
                return day, sentence.strip(), min(d for d in days if d <= day)
        return None, "", None


def read_event(
    folded: FoldedText,
    types: tuple[IncidentMatch, ...],
    entities: tuple[EntityMatch, ...],
    published: datetime | None = None,
    *,
    supersedes: Supersedes | None = None,
) -> EventReading:
    """The news's event and the prior one it follows on from. ``supersedes``: the types
    each type outranks when both fire (the taxonomy's, with its ancestors')."""
    clauses = find_prior_clauses(folded, types)
    weights = _at_prior_place(SentenceWeights(folded, published, clauses), entities)
    outranks = supersedes or {}
    event, event_types, named = _reading(folded, types, entities, weights, published, outranks)
    if weights.commemorates and event.incident_type is not None:
        # an incident of its own beside the commemoration ("police fired tear gas at the
        # anniversary rally"): the commemoration's sentences tell it, its place and toll
        weights = SentenceWeights(folded, published, clauses, commemorations=False)
        weights = _at_prior_place(weights, entities)
        event, event_types, named = _reading(folded, types, entities, weights, published, outranks)
    prior, _, _ = _reading(folded, types, entities, weights.prior(), published, outranks)
    prior = dated_by_gap(prior, event.date, weights.gap())
    event, event_types = set_apart(event, event_types, prior, types)
    casualties = Casualties(
        event.killed,
        event.wounded,
        tuple(x.matched for x in event.evidence if x.field in ("killed", "wounded")),
    )
    return EventReading(event, tuple(event_types), named, casualties)


def _at_prior_place(weights: SentenceWeights, entities: tuple[EntityMatch, ...]) -> SentenceWeights:
    """``weights`` with the sentences about the prior event's place moved to that event
    (its toll is not the news's), when the two events have places of their own."""
    prior, _ = _place(_event_entities(entities, weights.prior()), weights.prior())
    if prior is None:
        return weights
    by_id = {e.id: e for e in entities}
    # the news's place as the rest of the article tells it: a later sentence naming the
    # prior event's base must not make that base the news's too ("Camp Taji was hit")
    told = weights.without(by_id[prior.id])
    main, _ = _place(_event_entities(entities, told), told)
    return weights.at_prior_place(by_id[prior.id], by_id[main.id] if main else None)


def _reading(
    folded: FoldedText,
    types: tuple[IncidentMatch, ...],
    entities: tuple[EntityMatch, ...],
    weights: SentenceWeights,
    published: datetime | None,
    supersedes: Supersedes,
) -> tuple[Event, list[IncidentMatch], tuple[EntityMatch, ...]]:
    """One event read from the article as ``weights`` weigh it (main or prior)."""
    event_types = _event_types(types, weights, supersedes)
    named = _event_entities(entities, weights)
    place, place_evidence = _place(named, weights)
    actors, actor_evidence = _actors(named, entities, weights)
    killed, wounded, toll_evidence = _toll(folded.full, weights)
    day, day_evidence = _date(folded, weights, published)
    evidence = [*place_evidence, *actor_evidence, *day_evidence, *toll_evidence]
    if event_types:
        best = max(
            (e for e in event_types[0].evidence if not e.negative),
            key=lambda e: e.weight,
            default=None,  # the learned part typed it without the rules' evidence
        )
        if best is not None:
            evidence.insert(0, EventEvidence("incident_type", best.sentence, best.matched))
    event = Event(
        incident_type=event_types[0].id if event_types else None,
        secondary_types=tuple(t.id for t in event_types[1:]),
        place=place,
        actors=actors,
        date=day,
        killed=killed,
        wounded=wounded,
        evidence=tuple(evidence),
        outranked=_outranked(event_types[0], types, supersedes) if event_types else (),
    )
    return event, event_types, named


def _outranked(
    primary: IncidentMatch, types: tuple[IncidentMatch, ...], supersedes: Supersedes
) -> tuple[str, ...]:
    """The types ``primary`` outranks, with their fired children: kept on the event so a
    story's consensus drops them too when another source calls one of them its primary."""
    beaten = set(supersedes.get(primary.id, ()))
    children = {t.id for t in types if not beaten.isdisjoint(t.ancestors)}
    return tuple(sorted(beaten | children))


def _position(index: int) -> float:
    return _POSITION[index] if index < len(_POSITION) else _LATE


def _commemorations(folded: FoldedText) -> set[int]:
    """The sentences that tell a commemoration of an old event, by index; the headline too
    when the lede is one and the headline speaks of mourning."""
    spans = folded.sentences
    found = {i for i, (s, e) in enumerate(spans) if _COMMEMORATION_RE.search(folded.full[s:e])}
    lede = next((i for i, (s, _) in enumerate(spans) if s >= folded.title_end), None)
    if lede in found:
        headline = enumerate(spans[:lede])
        found |= {i for i, (s, e) in headline if _MOURNING_RE.search(folded.full[s:e])}
    return found


def _is_background(sentence: str, published: datetime | None) -> bool:
    """Whether a sentence speaks of another time than the news: earlier incidents, history."""
    year = published.year if published else None
    if published and any(
        published.date() - d > timedelta(days=7) for d in explicit_dates(sentence, published)
    ):
        return True  # "On Dec. 27, a rocket attack ..."
    for m in _BACKGROUND_RE.finditer(sentence):
        if not _YEAR_RE.fullmatch(m.group(0)):
            return True
        if year is None or int(m.group(0)) < year:  # "in 2019" read in 2020; not "2020"
            return True
    return False


def _event_types(
    types: tuple[IncidentMatch, ...], weights: SentenceWeights, supersedes: Supersedes
) -> list[IncidentMatch]:
    """Fired types whose evidence survives the weighting, strongest first, at most three."""
    ratio = _type_ratios(types, weights)
    kept = [t for t in types if ratio[t.id] >= EVENT_SHARE]
    if not kept:
        return []
    # the chooser's pick of a confusable pair takes the place of the type it overruled (the
    # event may still be a third type the rules weigh more: a town seized after the fight)
    kept.sort(key=lambda t: (-ratio[t.id], t.chosen is None))
    if weights.for_prior:
        kept = told_types(kept, supersedes)
        primary = most_specific(kept)
    else:
        primary = kept[0]
        # A child type (rocket attack) says more than its parent (shelling) when both fire.
        for t in kept:
            if primary.id in t.ancestors and ratio[t.id] >= 0.5 * ratio[primary.id]:
                primary = t
    # a type the primary outranks is its consequence, not a second side of the event:
    # "the raids killed soldiers" is the strike's toll, not a battle (taxonomy's supersedes)
    outranked = set(supersedes.get(primary.id, ()))
    related = {primary.id, *primary.ancestors, *outranked}
    secondary = [
        t
        for t in kept
        if t is not primary
        and t.id not in related
        and outranked.isdisjoint(t.ancestors)
        and primary.id not in t.ancestors
        and ratio[t.id] >= SECONDARY_SHARE
    ][:2]
    return [primary, *secondary]


def _type_ratios(types: tuple[IncidentMatch, ...], weights: SentenceWeights) -> dict[str, float]:
    """Each fired type's evidence, as ``weights`` weigh it, over its threshold."""
    ratio = {
        t.id: sum(e.weight * weights.at(e.start) for e in t.evidence) / t.threshold for t in types
    }
    if weights.for_prior:
        return ratio  # the learned parts read the opening, which tells the news, not this
    # the learned part reads the title and lede, where the event is told: it is the event's,
    # unless they only commemorate an old one
    if weights.lede_tells_news:
        ratio.update({t.id: max(ratio[t.id], EVENT_SHARE) for t in types if _learned(t)})
    for t in types:
        if t.chosen is not None:
            overruled = [ratio[u.id] for u in types if u.acled == t.chosen.rules_first]
            ratio[t.id] = max([ratio[t.id], *overruled])
    return ratio


def _learned(t: IncidentMatch) -> bool:
    return t.learned is not None or t.chosen is not None


def _event_entities(
    entities: tuple[EntityMatch, ...], weights: SentenceWeights
) -> tuple[EntityMatch, ...]:
    return tuple(e for e in entities if _entity_weight(e, weights) >= NAMED)


def _entity_weight(
    entity: EntityMatch, weights: SentenceWeights, *, as_place: bool = False
) -> float:
    total = 0.0
    for m in entity.mentions:
        if as_place and (m.demonym or _GOVERNMENT_RE.match(_after(weights, m.end))):
            # "Iraqi officials", "Baghdad lodged a protest": who speaks, not where
            continue  # (rules still count them)
        w = weights.at(m.start)
        if entity.kind in PLACE_KINDS and _is_reference(weights, m.start):
            w *= REFERENCE
        total += w
    return total


def _is_reference(weights: SentenceWeights, offset: int) -> bool:
    """A landmark ("north of Baghdad") or the dateline ("BASRA, Jan 21 -")."""
    if _REFERENCE_RE.search(_before(weights, offset)):
        return True
    body = weights.folded.title_end
    dateline = DATELINE.match(weights.folded.full, body + 1) if body else None
    return dateline is not None and offset < dateline.end()


def _before(weights: SentenceWeights, offset: int, chars: int = 60) -> str:
    """The words before ``offset`` within its sentence."""
    full = weights.folded.full
    start = max(0, offset - chars)
    sentence_start = (
        weights.folded.sentences[weights.folded.sentence_index(offset)][0]
        if (weights.folded.sentences)
        else 0
    )
    return full[max(start, sentence_start) : offset]


def _after(weights: SentenceWeights, end: int, chars: int = 60) -> str:
    full = weights.folded.full
    spans = weights.folded.sentences
    stop = spans[weights.folded.sentence_index(end)][1] if spans else len(full)
    return full[end : min(end + chars, stop)]


def _best_mention_sentence(entity: EntityMatch, weights: SentenceWeights) -> tuple[str, str]:
    best = max(entity.mentions, key=lambda m: (weights.at(m.start), -m.start))
    return weights.sentence(best.start), best.text


def _place(
    named: tuple[EntityMatch, ...], weights: SentenceWeights
) -> tuple[Place | None, list[EventEvidence]]:
    places = [e for e in named if e.kind in PLACE_KINDS]
    if not places:
        return None, []
    score = {e.id: _entity_weight(e, weights, as_place=True) for e in places}
    places = [e for e in places if score[e.id] >= NAMED]
    if not places:
        return None, []
    top = max(places, key=lambda e: (score[e.id], -e.mentions[0].start))
    # The most specific place inside the best-supported one: a base over its city.
    inside = [e for e in places if e is top or (top.id in e.ancestors and score[e.id] >= REFINE)]
    chosen = max(inside, key=lambda e: (len(e.ancestors), score[e.id], -e.mentions[0].start))
    # (every place here has event weight NAMED or more: background mentions are gone)
    sentence, matched = _best_mention_sentence(chosen, weights)
    place = Place(chosen.id, chosen.name, chosen.ancestors)
    return place, [EventEvidence("place", sentence, matched)]


def _actors(
    named: tuple[EntityMatch, ...], everyone: tuple[EntityMatch, ...], weights: SentenceWeights
) -> tuple[tuple[Actor, ...], list[EventEvidence]]:
    """The event's actors, each with the part its event sentences give it. ``everyone``:
    every name of the article, for who blames an accused actor."""
    actors, evidence = [], []
    speakers = _Speakers(everyone)
    for entity in named:
        if entity.kind not in ACTOR_KINDS:
            continue
        actor, mention = _actor(entity, speakers, weights)
        actors.append(actor)
        evidence.append(EventEvidence("actors", weights.sentence(mention.start), mention.text))
    ranked = sorted(range(len(actors)), key=lambda i: ROLE_ORDER[actors[i].role])
    return tuple(actors[i] for i in ranked), [evidence[i] for i in ranked]


def _actor(
    entity: EntityMatch, speakers: _Speakers, weights: SentenceWeights
) -> tuple[Actor, Mention]:
    """The part the event's heaviest mention that states one gives (a speaker's mention
    states none: "the Houthis said"); accused when only blamed, or when the actor denies a
    part others give it and claims none ("Asaib Ahl al-Haq denied any role")."""
    ranked = sorted(entity.mentions, key=lambda m: (-weights.at(m.start), m.start))
    told = [m for m in ranked if weights.at(m.start) > BACKGROUND * 1.01] or ranked
    parts = [(m, _part(weights.folded, entity, m, speakers)) for m in told]
    stated = [(m, p) for m, p in parts if p.role in ("attacker", "target")]
    accused = [(m, p) for m, p in parts if p.role == "accused"]
    denies = any(p.denies for _, p in parts) and not any(p.claim for _, p in parts)
    if stated and not (denies and stated[0][1].role == "attacker"):
        mention, part = stated[0]
        return Actor(entity.id, entity.name, part.role), mention
    if accused or stated:
        by = tuple(dict.fromkeys(name for _, p in accused for name in p.by))
        return Actor(entity.id, entity.name, "accused", by), (accused or stated)[0][0]
    return Actor(entity.id, entity.name, "involved"), ranked[0]


class _Speakers:
    """The article's names that may blame someone (not bases, facilities or weapons), in
    text order, so each mention finds those near it by bisection: a run-on "sentence" of
    thousands of names costs no more per mention than an ordinary one."""

    def __init__(self, everyone: tuple[EntityMatch, ...]) -> None:
        found = sorted(
            (m.start, m.end, e.name, e.kind in ACTOR_KINDS)
            for e in everyone
            if e.kind not in NOT_SPEAKERS
            for m in e.mentions
        )
        self.starts = [f[0] for f in found]
        self.names = [Named(*f) for f in found]

    def between(self, start: int, end: int) -> list[Named]:
        """The names starting in ``start:end``, at offsets from ``start``."""
        lo, hi = bisect_left(self.starts, start), bisect_left(self.starts, end)
        return [n._replace(start=n.start - start, end=n.end - start) for n in self.names[lo:hi]]


def _part(folded: FoldedText, entity: EntityMatch, mention: Mention, speakers: _Speakers) -> Part:
    """What ``mention``'s sentence, near it, says of its actor's part."""
    sentence = (
        folded.sentences[folded.sentence_index(mention.start)]
        if folded.sentences
        else (0, len(folded.full))
    )
    start = max(sentence[0], mention.start - ROLE_WINDOW)
    end = min(sentence[1], mention.end + ROLE_WINDOW)
    own = Named(mention.start - start, mention.end - start, entity.name, True)
    return part_in(folded.full[start:end], own, speakers.between(start, end))


def _toll(
    text: str, weights: SentenceWeights
) -> tuple[int | None, int | None, list[EventEvidence]]:
    mentions = count_mentions(text, earlier=weights.for_prior)
    counts = [c for c in mentions if weights.at(c.start) > BACKGROUND * 1.01]
    figures: dict[str, int | None] = {}
    evidence = []
    for kind in ("killed", "wounded"):
        mine = [c for c in counts if c.kind == kind]
        early = [c for c in mine if weights.at(c.start) >= EARLY or c.toll]
        best = _largest(early or mine)
        if best is not None:
            told = [best, *_other_group(best, early or mine, weights)]
            figures[kind] = sum(c.value for c in told)
            evidence += [EventEvidence(kind, weights.sentence(c.start), c.phrase) for c in told]
    for kind, zero in no_casualties(_lede_text(text, weights)).items():
        figures.setdefault(kind, zero)
    return figures.get("killed"), figures.get("wounded"), evidence


def _other_group(
    best: CountMention, counts: list[CountMention], weights: SentenceWeights
) -> list[CountMention]:
    """The largest count of victims ``best`` does not hold, in another sentence: the
    protesters' 15 beside the 20 police officers hurt (the event's toll is both)."""
    if weights.for_prior:
        return []
    index = weights.folded.sentence_index
    others = [
        c
        for c in counts
        if index(c.start) != index(best.start) and another_group(best, c, weights.sentence(c.start))
    ]
    other = _largest(others)
    return [other] if other is not None else []


def _largest(counts: Iterable[CountMention]) -> CountMention | None:
    return max(counts, key=lambda c: (c.value, -c.start), default=None)


def _lede_text(text: str, weights: SentenceWeights) -> str:
    """The article's sentences that are not background ("no one was hurt" said of today)."""
    spans = weights.folded.sentences
    return " ".join(text[s:e] for s, e in spans if weights.at(s) > BACKGROUND * 1.01)


def _date(
    folded: FoldedText, weights: SentenceWeights, published: datetime | None
) -> tuple[date | None, list[EventEvidence]]:
    if published is None:
        return None, []
    if weights.day is not None and not weights.for_prior:
        return weights.day, [EventEvidence("date", weights.day_sentence, weights.day.isoformat())]
    spans = folded.sentences if weights.for_prior else folded.sentences[: LEDE_SENTENCES + 1]
    for start, end in spans:
        sentence = _told(weights, start, end)
        day = likely_event_date(sentence, published) if sentence else None
        if day is not None and published.date() - day <= timedelta(days=7):
            return day, [EventEvidence("date", sentence.strip(), day.isoformat())]
    return None, []


def _told(weights: SentenceWeights, start: int, end: int) -> str:
    """What sentence ``start:end`` tells of the event ``weights`` weigh, dateline aside."""
    full = weights.folded.full
    if weights.for_prior:
        clauses = [full[a:b] for a, b in weights.clauses.starting_in(start, end)]
        whole = weights.prior_weights[weights.folded.sentence_index(start)] > 0
        return full[start:end] if whole else " ".join(clauses)
    if weights.at(start) <= BACKGROUND * 1.01:
        return ""
    dateline = DATELINE.match(full, start)
    return weights.main_text(dateline.end() if dateline else start, end)


def consensus(events: Sequence[Event]) -> Event:
    """A story's event from its sources' events, earliest source first.

    The type most sources call primary (a secondary mention counts half); the place most
    sources agree with, a place inside another agreeing with it (Camp Taji agrees with
    Iraq), the more specific winning a tie; each actor with the role most sources give;
    the day most sources name; the largest toll any source states outside background
    (counts rise as an event is reported on), each with the sentence it came from; the
    prior event, read the same way from the sources that tell one.
    """
    if not events:
        return Event()
    primary, secondary = _voted_types(events)
    place = _voted_place(events)
    killed = _largest_field(events, "killed")
    wounded = _largest_field(events, "wounded")
    days = Counter(e.date for e in events if e.date)
    day = max(days, key=lambda d: (days[d], -d.toordinal())) if days else None
    evidence = [
        *_evidence_of(events, "incident_type", lambda e: e.incident_type == primary),
        *_evidence_of(events, "place", lambda e: place is not None and e.place == place),
        *_evidence_of(events, "date", lambda e: e.date == day and day is not None),
        *_evidence_of(events, "killed", lambda e: killed is not None and e.killed == killed),
        *_evidence_of(events, "wounded", lambda e: wounded is not None and e.wounded == wounded),
    ]
    return Event(
        incident_type=primary,
        secondary_types=secondary,
        place=place,
        actors=_voted_actors(events),
        date=day,
        killed=killed,
        wounded=wounded,
        evidence=tuple(evidence),
        outranked=tuple(
            sorted({x for e in events if e.incident_type == primary for x in e.outranked})
        ),
        prior=consensus(priors) if (priors := [e.prior for e in events if e.prior]) else None,
    )


def _voted_types(events: Sequence[Event]) -> tuple[str | None, tuple[str, ...]]:
    votes: Counter[str] = Counter()
    first: dict[str, int] = {}
    for i, e in enumerate(events):
        for t, weight in ((e.incident_type, 1.0), *((s, 0.5) for s in e.secondary_types)):
            if t:
                votes[t] += weight  # type: ignore[assignment]
                first.setdefault(t, i)
    primaries = Counter(e.incident_type for e in events if e.incident_type)
    ranked = sorted(votes, key=lambda t: (-votes[t], -primaries[t], first[t], t))
    if not ranked:
        return None, ()
    # a type the voted primary outranks, in a source that calls that type its primary, is
    # the primary's consequence there ("the raids killed soldiers"), not a second incident
    outranked = {x for e in events if e.incident_type == ranked[0] for x in e.outranked}
    return ranked[0], tuple(t for t in ranked[1:] if t not in outranked)[:2]


def _voted_place(events: Sequence[Event]) -> Place | None:
    places = list({p.id: p for e in events if (p := e.place) is not None}.values())
    if not places:
        return None

    def agrees(a: Place, b: Place) -> bool:
        return a.id == b.id or a.id in b.ancestors or b.id in a.ancestors

    support = {p.id: sum(1 for e in events if e.place and agrees(p, e.place)) for p in places}
    return max(places, key=lambda p: (support[p.id], len(p.ancestors)))


def _voted_actors(events: Sequence[Event]) -> tuple[Actor, ...]:
    """Each actor with the part most sources state (attacker or target); else accused,
    by whoever any source says blames it, when a source reads it so; else involved."""
    roles: dict[str, Counter[str]] = {}
    names: dict[str, str] = {}
    blamers: dict[str, dict[str, None]] = {}
    for e in events:
        for a in e.actors:
            roles.setdefault(a.id, Counter())[a.role] += 1
            names.setdefault(a.id, a.name)
            blamers.setdefault(a.id, {}).update(dict.fromkeys(a.by))
    out = []
    for actor_id, counted in roles.items():
        stated = [r for r in counted if r in ("attacker", "target")]
        role = max(stated, key=lambda r: counted[r]) if stated else "involved"
        if not stated and counted["accused"]:
            role = "accused"
        by = tuple(blamers[actor_id]) if role == "accused" else ()
        out.append(Actor(actor_id, names[actor_id], role, by))  # type: ignore[arg-type]
    return tuple(sorted(out, key=lambda a: ROLE_ORDER[a.role]))


def _largest_field(events: Sequence[Event], name: str) -> int | None:
    values = [v for e in events if (v := getattr(e, name)) is not None]
    return max(values, default=None)


def _evidence_of(
    events: Sequence[Event], name: str, chose: Callable[[Event], bool]
) -> list[EventEvidence]:
    """The evidence for field ``name`` of the first source whose value was chosen."""
    for e in events:
        if chose(e):
            return [x for x in e.evidence if x.field == name][:1]
    return []
