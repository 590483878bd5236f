"""The story list the console and the API show: filters, full-text search, keyset paging.

Newest first (by last report, then id); a page ends with a cursor naming its last row, so
the next page is an index range scan however deep the reader pages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import String, and_, cast, exists, or_, select
from sqlalchemy.orm import Session

from monitor.storage.fulltext import matching_articles, query_words
from monitor.storage.models import ArticleRow, Story

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
CURSOR_PATTERN = re.compile(r"^[0-9]{1,16}_[0-9]{1,10}$")


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


@dataclass(frozen=True)
class Cursor:
    last_seen: datetime
    id: int

    def encode(self) -> str:
        """``<microseconds since 1970>_<id>``: opaque to readers, checkable by a pattern."""
        return f"{(self.last_seen - EPOCH) // timedelta(microseconds=1)}_{self.id}"

    @classmethod
    def decode(cls, value: str) -> Cursor:
        """ValueError when ``value`` is not a cursor this module wrote."""
        if not CURSOR_PATTERN.fullmatch(value):
            raise ValueError(f"not a cursor: {value!r}")
        micros, story_id = value.split("_")
        return cls(EPOCH + timedelta(microseconds=int(micros)), int(story_id))


@dataclass(frozen=True)
class StoryPage:
    stories: list[Story]
    next: Cursor | None


def _quoted(value: str) -> str:
    """A JSON string literal as SQLAlchemy stores it, to find a value in a JSON column."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def list_stories(
    *, session: Session, filters: StoryFilter, after: Cursor | None = None, limit: int = 50
) -> StoryPage:
    query = select(Story).where(Story.merged_into_id.is_(None))
    f = filters
    if f.severity:
        query = query.where(Story.severity == f.severity)
    if f.incident_type:
        query = query.where(cast(Story.incident_types, String).contains(_quoted(f.incident_type)))
    if f.entity:
        query = query.where(cast(Story.entities, String).contains(f'"id": {_quoted(f.entity)}'))
    if f.place:
        query = query.where(cast(Story.event, String).contains(f'"id": {_quoted(f.place)}'))
    if f.since:
        query = query.where(Story.last_seen >= f.since)
    if f.until:
        query = query.where(Story.last_seen < f.until)
    member = ArticleRow.story_id == Story.id
    if f.source:
        query = query.where(exists().where(member, ArticleRow.source == f.source))
    if f.rules:
        text_of = cast(ArticleRow.classification, String)
        fired = or_(*(text_of.contains(f'"rule_id": {_quoted(r)}') for r in f.rules))
        query = query.where(exists().where(member, fired))
    if words := query_words(f.text):
        found = matching_articles(session.get_bind().dialect.name, words).subquery()
        hit = select(ArticleRow.story_id).where(ArticleRow.id.in_(select(found)))
        query = query.where(Story.id.in_(hit))
    if after is not None:
        query = query.where(
            or_(
                Story.last_seen < after.last_seen,
                and_(Story.last_seen == after.last_seen, Story.id < after.id),
            )
        )
    rows = list(
        session.scalars(query.order_by(Story.last_seen.desc(), Story.id.desc()).limit(limit + 1))
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return StoryPage(rows, Cursor(rows[-1].last_seen, rows[-1].id) if more and rows else None)
