"""Immutable values passed between pipeline stages.

    FeedEntry --extract--> Article --classify--> Classification
    (Article, Classification) --dedup--> StoryAssignment --alert--> AlertDecision

Library types (feedparser dicts, httpx responses, ORM rows) never leave the module
that adapts them; stages exchange only these values.
"""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Literal

Severity = Literal["info", "low", "medium", "high", "critical"]
SEVERITIES: tuple[Severity, ...] = ("info", "low", "medium", "high", "critical")
AlertKind = Literal["new", "update"]
TextSource = Literal["page", "feed", "input"]


def severity_rank(severity: Severity | None) -> int:
    """-1 for None, 0 for info ... 4 for critical, so severities compare as ints."""
    return -1 if severity is None else SEVERITIES.index(severity)


def content_hash(title: str, text: str) -> str | None:
    """Identity hash of an article's content; None when there is no content.

    Whitespace and Unicode form are normalised so a re-encoded copy hashes alike.
    An empty article must never match another empty article, hence None.
    """
    norm = " ".join(unicodedata.normalize("NFKC", f"{title}\n{text}").split()).lower()
    if not norm:
        return None
    return hashlib.sha256(norm.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """One item of a feed, as the feed described it."""

    feed_url: str
    entry_key: str  # stable identity: GUID/id, else canonical link, else hash(title+date)
    url: str | None  # canonical link to the article page
    title: str
    summary: str  # the feed's own content/summary, as plain text
    published: datetime | None
    author: str | None = None
    source: str | None = None  # outlet name (the feed's title or configured name)


@dataclass(frozen=True, slots=True)
class Article:
    """An article's text and metadata, as classified and kept as evidence."""

    key: str  # identity within monitor: the entry key, or the replay input id
    url: str | None
    title: str
    text: str
    published: datetime | None
    source: str | None = None  # outlet
    canonical_url: str | None = None
    author: str | None = None
    site_name: str | None = None
    language: str | None = None
    text_source: TextSource = "input"
    text_source_reason: str | None = None  # why the feed text was used instead of the page
    feed_url: str | None = None
    raw_html: str | None = None
    # The source's own publication time when it was not believed (a zero date, a date in
    # the future): ``published`` then holds the time monitor first saw the article.
    published_raw: str | None = None

    @property
    def content_hash(self) -> str | None:
        return content_hash(self.title, self.text)


def without_nul(article: Article) -> Article:
    """The article with NUL characters removed: PostgreSQL text cannot hold them, and a
    hostile feed must not be able to make an article unstorable (and so re-fetched forever)."""
    fields = ("title", "text", "source", "author", "site_name", "url", "canonical_url")
    dirty = {f: getattr(article, f) for f in fields if "\x00" in (getattr(article, f) or "")}
    if not dirty:
        return article
    return replace(article, **{f: v.replace("\x00", "") for f, v in dirty.items()})


@dataclass(frozen=True, slots=True)
class Mention:
    """Where a name or keyword occurs. Offsets index ``title + "\\n" + text``."""

    text: str
    start: int
    end: int
    sentence: str = ""
    fuzzy: bool = False
    demonym: bool = False  # "Iraqi officials": the entity's people, not the entity or place


@dataclass(frozen=True, slots=True)
class EntityMatch:
    id: str
    kind: str
    name: str
    mentions: tuple[Mention, ...]
    ancestors: tuple[str, ...] = ()  # parent ids, nearest first (Camp Taji -> iraq)

    @property
    def named(self) -> bool:
        """Named outright at least once, not only through a demonym ("Iraqi")."""
        return any(not m.demonym for m in self.mentions)


@dataclass(frozen=True, slots=True)
class Evidence:
    """One keyword, phrase or pattern hit that contributed to an incident type's score."""

    term: str  # the keyword/pattern as written in the watchlist
    matched: str  # the text that matched
    weight: float
    start: int
    end: int
    sentence: str = ""
    negative: bool = False  # an exclusion that lowered or vetoed the score


@dataclass(frozen=True, slots=True)
class LearnedVote:
    """Why a type no rule fired was given (classify/learned.py): its rules came close and
    the learned model agreed the text reports such an event."""

    rule_share: float  # the rules' score / threshold
    min_rule_share: float
    probability: float | None  # the model's, of the fill types; None: no model
    min_probability: float
    model: str  # the model's version
    features: tuple[str, ...] = ()  # the n-grams that pushed most toward it, "rocket +1.20"


@dataclass(frozen=True, slots=True)
class ChooserVote:
    """Why a type was put before the one the rules ranked first (classify/learned.py,
    ``rechoose``): the two are easily confused, and the chooser model preferred it."""

    chosen: str  # the ACLED type put first
    rules_first: str  # the ACLED type the rules ranked first
    candidates: tuple[tuple[str, float], ...]  # ACLED name, the model's probability among them
    min_margin: float  # by how much the model had to prefer it
    model: str  # the chooser model's version (a user model's: and its file)
    features: tuple[str, ...] = ()  # the n-grams that pushed most toward it, "civilian +0.90"
    decided: bool = False  # by a user's model (`monitor train-typing`), not the shipped chooser


@dataclass(frozen=True, slots=True)
class IncidentMatch:
    id: str
    label: str
    score: float  # the rules' score (below threshold when the learned part decided)
    threshold: float
    acled: str | None  # exact ACLED sub-event type name
    evidence: tuple[Evidence, ...] = ()  # the rules' evidence
    ancestors: tuple[str, ...] = ()  # parent type ids, nearest first
    learned: LearnedVote | None = None  # set when the learned part, not the rules, decided
    chosen: ChooserVote | None = None  # set when the chooser put it before the rules' first


@dataclass(frozen=True, slots=True)
class Casualties:
    killed: int | None = None
    wounded: int | None = None
    evidence: tuple[str, ...] = ()  # the phrases the figures came from


@dataclass(frozen=True, slots=True)
class RuleHit:
    rule_id: str
    severity: Severity
    routes: tuple[str, ...]
    reason: str


# "accused": only blamed (by a party, officials, or "allegedly"), or denying what others say
ActorRole = Literal["attacker", "target", "accused", "involved"]


@dataclass(frozen=True, slots=True)
class Place:
    id: str
    name: str
    ancestors: tuple[str, ...] = ()  # parent ids, nearest first


@dataclass(frozen=True, slots=True)
class Actor:
    id: str
    name: str
    role: ActorRole  # "involved": named in the event (or speaking of it), its part not stated
    by: tuple[str, ...] = ()  # an accused actor: the names of who blames it, when given

    @property
    def part(self) -> str:
        """Its part in plain words ("attacker", "alleged attacker, blamed by Houthi
        movement"), "" when it is only named: an accusation never reads as a finding."""
        if self.role == "accused":
            return "alleged attacker" + (f", blamed by {' and '.join(self.by)}" if self.by else "")
        return "" if self.role == "involved" else self.role


@dataclass(frozen=True, slots=True)
class EventEvidence:
    """Why a field of the event has its value: the sentence it was read from."""

    field: str  # "incident_type" | "place" | "actors" | "date" | "killed" | "wounded"
    sentence: str
    matched: str = ""  # the words that decided it ("wounding 14", "Camp Taji")


@dataclass(frozen=True, slots=True)
class Event:
    """The main event an article (or a story) reports, background discounted (event.py)."""

    incident_type: str | None = None
    secondary_types: tuple[str, ...] = ()  # at most two
    place: Place | None = None
    actors: tuple[Actor, ...] = ()
    date: date | None = None
    killed: int | None = None
    wounded: int | None = None
    evidence: tuple[EventEvidence, ...] = ()
    # The types the primary outranks (the taxonomy's supersedes): their words tell its
    # consequences here ("the raids killed soldiers" is no battle), never a second side.
    outranked: tuple[str, ...] = ()
    # The event the news follows on from ("a day after a rocket attack on Camp Taji"),
    # with its own type, place and toll, which are not this event's.
    prior: Event | None = None

    @property
    def type_ids(self) -> tuple[str, ...]:
        return ((self.incident_type,) if self.incident_type else ()) + self.secondary_types


@dataclass(frozen=True, slots=True)
class Classification:
    """What one article reports, with evidence. ``incident_types``: fired types, best first."""

    incident_types: tuple[IncidentMatch, ...] = ()
    entities: tuple[EntityMatch, ...] = ()
    casualties: Casualties = field(default_factory=Casualties)
    rules: tuple[RuleHit, ...] = ()  # rules that fired
    rules_not_fired: tuple[tuple[str, str], ...] = ()  # (rule id, why not), for explain
    # What happened, where, who, when, the toll: what rules and alerts read (event.py).
    event: Event = field(default_factory=Event)
    # Characters of the text read when it was longer than classify.max_text_chars (the
    # rest was stored, not analysed); None when all of it was.
    analysed_chars: int | None = None
    # Why the no-type fill (classify/learned.py) gave no type, when it was asked; explain
    # shows it. When it gave one, the type's ``learned`` vote says why.
    fill_note: str | None = None
    # What the chooser between confusable types read when it kept the rules' first type
    # (classify/learned.py); when it put another first, that type's ``chosen`` says why.
    chooser_note: str | None = None

    @property
    def truncated(self) -> bool:
        return self.analysed_chars is not None

    @property
    def incident_type_ids(self) -> list[str]:
        """Fired type ids by score, then their ancestors (each once)."""
        ids = [m.id for m in self.incident_types]
        for m in self.incident_types:
            ids.extend(a for a in m.ancestors if a not in ids)
        return list(dict.fromkeys(ids))

    @property
    def acled_sub_event_types(self) -> list[str]:
        """ACLED names of the fired types, best first, each once."""
        return list(dict.fromkeys(m.acled for m in self.incident_types if m.acled))

    @property
    def severity(self) -> Severity | None:
        if not self.rules:
            return None
        return max((r.severity for r in self.rules), key=severity_rank)

    @property
    def routes(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(route for r in self.rules for route in r.routes))


@dataclass(frozen=True, slots=True)
class StoryAssignment:
    """Where dedup put an article."""

    story_id: int
    is_new_story: bool
    duplicate_of: str | None = None  # key of the earlier near-copy, if any
    score: float = 0.0  # similarity to the story it joined (0 for a new story)
    reason: str = ""
    # Stories merged into ``story_id`` as this article arrived (dedup/merging.py).
    merged: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class AlertDecision:
    """Decided before routing and quiet hours: does this article alert, and how."""

    story_id: int
    kind: AlertKind | None
    severity: Severity | None
    routes: tuple[str, ...] = ()
    reason: str = ""
