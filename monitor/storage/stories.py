"""Purpose-named story queries for the dedup stage and the `monitor stories` commands."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select, text, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from monitor.storage.models import ArticleRow, Story

# Any constant works; it only has to be the same for every replica.
_ASSIGNMENT_LOCK = 0x6D6F6E64  # "mond"


@dataclass(frozen=True, slots=True)
class StorySpan:
    """What the story index needs of a story before it is a candidate: no features."""

    id: int
    first_seen: datetime
    last_seen: datetime
    revision: int
    index_keys: list[str] | None


@dataclass(frozen=True, slots=True)
class StoryEntry:
    """A story as the story index stores it for a start (``index_hashes``, ``index_members``);
    None where it was written without them."""

    id: int
    first_seen: datetime
    last_seen: datetime
    revision: int
    hashes: bytes | None
    members: bytes | None


@dataclass(frozen=True, slots=True)
class StoredMember:
    """An article of a story, with the compact parts of its sketch."""

    article_id: int
    story_id: int | None
    bands: bytes | None
    terms: str | None


def lock_story_assignment(*, session: Session) -> None:
    """Serialise story assignment across replicas until this transaction ends.

    Two replicas deciding at once could each start a story for the same event. SQLite
    already serialises writers, so only PostgreSQL needs the advisory lock.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _ASSIGNMENT_LOCK})


def latest_revision(*, session: Session) -> int:
    return int(session.scalar(select(func.coalesce(func.max(Story.revision), 0))) or 0)


def bump_revision(*, session: Session, stories: Sequence[Story], latest: int | None = None) -> int:
    """Give ``stories`` the next revision, so other replicas reload them. ``latest``: the
    latest revision, when the caller read it in this transaction, after taking the story
    assignment lock (else it is read here)."""
    revision = (latest_revision(session=session) if latest is None else latest) + 1
    for story in stories:
        story.revision = revision
    return revision


_SPAN_COLUMNS = (Story.id, Story.first_seen, Story.last_seen, Story.revision, Story.index_keys)


def story_spans(
    *, session: Session, since: datetime, before: datetime | None = None
) -> list[StorySpan]:
    """Stories last seen since ``since`` (and before ``before``), oldest first; merged ones
    too: what fits them joins the survivor."""
    query = select(*_SPAN_COLUMNS).where(Story.last_seen >= since)
    if before is not None:
        query = query.where(Story.last_seen < before)
    query = query.order_by(Story.id)
    return [StorySpan(*row) for row in session.execute(query)]


def index_entries(*, session: Session, since: datetime) -> list[StoryEntry]:
    """``story_spans`` with the index's packed keys and members instead of ``index_keys``."""
    query = (
        select(
            Story.id,
            Story.first_seen,
            Story.last_seen,
            Story.revision,
            Story.index_hashes,
            Story.index_members,
        )
        .where(Story.last_seen >= since)
        .order_by(Story.id)
    )
    # On the session's connection: ORM rows cost a quarter more for 40,000 plain tuples.
    return [StoryEntry(*row) for row in session.connection().execute(query)]


def index_keys_of(*, session: Session, story_ids: Sequence[int]) -> dict[int, list[str] | None]:
    keys: dict[int, list[str] | None] = {}
    ids = list(story_ids)
    for start in range(0, len(ids), 500):  # keep IN lists short for every backend
        query = select(Story.id, Story.index_keys).where(Story.id.in_(ids[start : start + 500]))
        keys.update((i, k) for i, k in session.execute(query))
    return keys


def spans_changed_since(*, session: Session, revision: int) -> list[StorySpan]:
    """Stories changed since ``revision``, oldest first. Sorted here, not by the query: with
    ORDER BY id, SQLite walked every story in id order (~100 ms per article at 40,000
    stories) instead of the few past ``revision`` in its index."""
    query = select(*_SPAN_COLUMNS).where(Story.revision > revision)
    return sorted((StorySpan(*row) for row in session.execute(query)), key=lambda s: s.id)


def stories_by_id(*, session: Session, story_ids: Sequence[int]) -> list[Story]:
    ids = list(story_ids)
    stories: list[Story] = []
    for start in range(0, len(ids), 500):  # keep IN lists short for every backend
        batch = ids[start : start + 500]
        stories.extend(session.scalars(select(Story).where(Story.id.in_(batch))))
    return stories


def members_of_stories(*, session: Session, story_ids: Sequence[int]) -> list[StoredMember]:
    """The stories' articles (id, story, near-copy sketch), each story's in article order."""
    rows: list[StoredMember] = []
    ids = list(story_ids)
    for start in range(0, len(ids), 500):  # keep IN lists short for every backend
        query = select(
            ArticleRow.id, ArticleRow.story_id, ArticleRow.sketch_bands, ArticleRow.sketch_terms
        ).where(ArticleRow.story_id.in_(ids[start : start + 500]))
        # In article order on every backend: the near-copy index is filled in this order,
        # and ties among near-copy candidates must not differ between SQLite and PostgreSQL.
        query = query.order_by(ArticleRow.id)
        rows.extend(StoredMember(*row) for row in session.execute(query))
    return rows


def recent_terms(*, session: Session, limit: int) -> list[tuple[int, str]]:
    """(article id, terms) of the latest ``limit`` articles, newest first, to relearn
    document frequencies."""
    query = (
        select(ArticleRow.id, ArticleRow.sketch_terms)
        .where(ArticleRow.sketch_terms.is_not(None))
        .order_by(ArticleRow.id.desc())
        .limit(limit)
    )
    return [(a, t or "") for a, t in session.execute(query)]


def article_placement(*, session: Session, article_id: int) -> tuple[str, int | None] | None:
    """(key, story id) of an article, following operator merges to the surviving story."""
    row = session.execute(
        select(ArticleRow.key, ArticleRow.story_id).where(ArticleRow.id == article_id)
    ).first()
    if row is None:
        return None
    return row[0], surviving_story_id(session=session, story_id=row[1])


def surviving_story_id(*, session: Session, story_id: int | None) -> int | None:
    seen: set[int] = set()
    while story_id is not None and story_id not in seen:
        seen.add(story_id)
        target = session.scalar(select(Story.merged_into_id).where(Story.id == story_id))
        if target is None:
            return story_id
        story_id = target
    return story_id


def same_item_key(
    *, session: Session, key: str, urls: Sequence[str], content_hash: str | None
) -> str | None:
    """Key of the earliest other article with one of ``urls`` or ``content_hash``."""
    conditions: list[ColumnElement[bool]] = []
    if urls:
        conditions += [ArticleRow.canonical_url.in_(urls), ArticleRow.url.in_(urls)]
    if content_hash:
        conditions.append(ArticleRow.text_hash == content_hash)
    if not conditions:
        return None
    query = (
        select(ArticleRow.key)
        .where(or_(*conditions), ArticleRow.key != key)
        .order_by(ArticleRow.id)
        .limit(1)
    )
    return session.scalar(query)


def recent_story_list(*, session: Session, since: datetime, limit: int) -> list[Story]:
    query = (
        select(Story)
        .where(Story.last_seen >= since, Story.merged_into_id.is_(None))
        .order_by(Story.last_seen.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


def story_articles(*, session: Session, story_id: int) -> list[ArticleRow]:
    query = select(ArticleRow).where(ArticleRow.story_id == story_id).order_by(ArticleRow.id)
    return list(session.scalars(query))


def member_events(*, session: Session, story_id: int) -> list[tuple[datetime, str | None]]:
    """(published, else processed, time; the ``event`` of its stored classification as
    JSON text, None when it has none) of a story's articles, earliest first. The database
    picks the event out, and as text: a story of hundreds of articles would otherwise
    decode hundreds of whole classifications for every article that joins it, and the
    caller decodes an event it has seen before only once."""
    when = func.coalesce(ArticleRow.published_at, ArticleRow.processed_at)
    query = (
        select(when, ArticleRow.classification["event"].as_string())
        .where(ArticleRow.story_id == story_id)
        .order_by(when, ArticleRow.id)
    )
    return [(at, event) for at, event in session.execute(query)]


@dataclass(frozen=True, slots=True)
class MemberReading:
    """What a story's row is aggregated from, of one of its articles."""

    article_id: int
    at: datetime  # published, else processed
    key: str
    url: str | None
    canonical_url: str | None
    source: str | None
    site_name: str | None
    classification: dict[str, Any]


def member_readings(*, session: Session, story_id: int) -> list[MemberReading]:
    """A story's articles in the order they came (by id): their outlet and classification,
    without their text or page."""
    query = (
        select(
            ArticleRow.id, ArticleRow.published_at, ArticleRow.processed_at, ArticleRow.key,
            ArticleRow.url, ArticleRow.canonical_url, ArticleRow.source, ArticleRow.site_name,
            ArticleRow.classification,
        )
        .where(ArticleRow.story_id == story_id)
        .order_by(ArticleRow.id)
    )  # fmt: skip
    return [
        MemberReading(i, published or processed, key, url, canonical, source, site, dict(c or {}))
        for i, published, processed, key, url, canonical, source, site, c in session.execute(query)
    ]


def move_articles(
    *, session: Session, from_story: int, to_story: int, note: str | None = None
) -> None:
    """Every article of ``from_story`` into ``to_story``; ``note``: appended to each moved
    article's ``story_reason`` (why it is where it now is)."""
    values: dict[str, Any] = {"story_id": to_story}
    if note is not None:
        values["story_reason"] = func.coalesce(ArticleRow.story_reason, "") + note
    session.execute(
        update(ArticleRow).where(ArticleRow.story_id == from_story).values(**values),
        execution_options={"synchronize_session": "fetch"},
    )


def has_pinned_article(*, session: Session, story_id: int) -> bool:
    """Whether an operator pinned one of the story's articles (split it out)."""
    pinned = ArticleRow.pinned.is_(True)
    query = select(ArticleRow.id).where(ArticleRow.story_id == story_id, pinned)
    return session.scalar(query.limit(1)) is not None
