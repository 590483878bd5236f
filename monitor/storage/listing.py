"""The story list the console and the API show: filters, full-text search, keyset paging.

Newest first (by last report, then id), or most severe first (then newest); a page ends
with a cursor naming its last row, so the next page starts where it ended however deep the
reader pages (an index range scan when newest first).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from math import isqrt
from typing import Any

from sqlalchemy import and_, case, exists, func, literal, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from monitor.storage import facets
from monitor.storage.fulltext import matching_articles, query_words
from monitor.storage.models import ArticleRow, Story, StoryFacet
from monitor.types import SEVERITIES, severity_rank

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# [severity rank + 1 _] microseconds _ id; the rank only when sorting by severity.
CURSOR_PATTERN = re.compile(r"^(?:[0-5]_)?[0-9]{1,16}_[0-9]{1,10}$")
ORDERS = ("newest", "severity")
SEVERITY_RANK = case(
    {name: rank for rank, name in enumerate(SEVERITIES)}, value=Story.severity, else_=-1
)


@dataclass(frozen=True)
class StoryFilter:
    text: str = ""  # full-text search over the articles' titles and text
    severity: str | None = None
    incident_type: str | None = None  # an incident type id
    entity: str | None = None  # an entity id (actors, places, ...)
    place: str | None = None  # the event's place id
    rules: tuple[str, ...] = ()  # any of these rules fired on one of its articles
    source: str | None = None  # an outlet name
    since: datetime | None = None
    until: datetime | None = None
    order: str = "newest"  # or "severity": most severe first, then newest


@dataclass(frozen=True)
class Cursor:
    last_seen: datetime
    id: int
    rank: int | None = None  # the severity rank (-1 none ... 4 critical) by severity order

    def encode(self) -> str:
        """``[<rank + 1>_]<microseconds since 1970>_<id>``: opaque to readers, checkable by
        a pattern."""
        rank = "" if self.rank is None else f"{self.rank + 1}_"
        return f"{rank}{(self.last_seen - EPOCH) // timedelta(microseconds=1)}_{self.id}"

    @classmethod
    def decode(cls, value: str) -> Cursor:
        """ValueError when ``value`` is not a cursor this module wrote."""
        if not CURSOR_PATTERN.fullmatch(value):
            raise ValueError(f"not a cursor: {value!r}")
        *rank, micros, story_id = value.split("_")
        at = EPOCH + timedelta(microseconds=int(micros))
        return cls(at, int(story_id), int(rank[0]) - 1 if rank else None)


@dataclass(frozen=True)
class StoryPage:
    stories: list[Story]
    next: Cursor | None


def _facet_conditions(session: Session, f: StoryFilter, limit: int) -> list[ColumnElement[bool]]:
    asked: list[tuple[str, tuple[str, ...]]] = [
        (kind, (value,))
        for kind, value in (
            (facets.INCIDENT_TYPE, f.incident_type),
            (facets.ENTITY, f.entity),
            (facets.PLACE, f.place),
            (facets.SOURCE, f.source),
        )
        if value
    ]
    if f.rules:
        asked.append((facets.RULE, f.rules))
    if not asked:
        return []
    # Fetching every story with the value costs ~ how many have it (m); walking the list
    # in order until a page is found costs ~ page / (m / stories), a walked story about
    # twice a fetched one (SQLite, 100k stories). They cross near
    # m = sqrt(2 * page * stories): below it fetch, above it walk.
    stories = session.scalar(select(func.max(Story.id))) or 0  # an estimate is enough
    common = max(isqrt(2 * (limit + 1) * stories), 1)
    return [_has_facet(session, kind, values, common) for kind, values in asked]


def _has_facet(
    session: Session, kind: str, values: tuple[str, ...], common: int
) -> ColumnElement[bool]:
    """The story has one of ``values`` of this kind. Counting the value's rows up to
    ``common`` (index only) picks the plan: on few stories, those stories (a range of the
    facets' (kind, value) index) are fetched and sorted; on many, the list is walked in
    its order and each story's facets checked, until a page is full. SQLite keeps no
    per-value statistics to tell the two apart; PostgreSQL plans either form alike."""
    facet = and_(StoryFacet.kind == kind, StoryFacet.value.in_(values))
    capped = select(StoryFacet.story_id).where(facet).limit(common).subquery()
    if (session.scalar(select(func.count()).select_from(capped)) or 0) < common:
        return Story.id.in_(select(StoryFacet.story_id).where(facet))
    return exists().where(StoryFacet.story_id == Story.id, facet)


def list_stories(
    *, session: Session, filters: StoryFilter, after: Cursor | None = None, limit: int = 50
) -> StoryPage:
    query = select(Story).where(Story.merged_into_id.is_(None))
    f = filters
    if f.severity:
        query = query.where(Story.severity == f.severity)
    for condition in _facet_conditions(session, f, limit):
        query = query.where(condition)
    if f.since:
        query = query.where(Story.last_seen >= f.since)
    if f.until:
        query = query.where(Story.last_seen < f.until)
    if words := query_words(f.text):
        found = matching_articles(session.get_bind().dialect.name, words).subquery()
        hit = select(ArticleRow.story_id).where(ArticleRow.id.in_(select(found)))
        query = query.where(Story.id.in_(hit))
    by_severity = f.order == "severity"
    if after is not None:
        query = query.where(_after(after, by_severity))
    order: list[ColumnElement[Any]] = [Story.last_seen.desc(), Story.id.desc()]
    if by_severity:
        order.insert(0, SEVERITY_RANK.desc())
    rows = list(session.scalars(query.order_by(*order).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    if not (more and rows):
        return StoryPage(rows, None)
    last = rows[-1]
    rank = severity_rank(last.severity) if by_severity else None  # type: ignore[arg-type]
    return StoryPage(rows, Cursor(last.last_seen, last.id, rank))


def _after(cursor: Cursor, by_severity: bool) -> ColumnElement[bool]:
    """Rows after ``cursor`` in the list's order (a cursor of the other order: from its
    time on, so a reader switching order mid-way is never refused)."""
    newer = or_(
        Story.last_seen < cursor.last_seen,
        and_(Story.last_seen == cursor.last_seen, Story.id < cursor.id),
    )
    if not by_severity or cursor.rank is None:
        return newer
    rank = literal(cursor.rank)
    return or_(rank > SEVERITY_RANK, and_(rank == SEVERITY_RANK, newer))
