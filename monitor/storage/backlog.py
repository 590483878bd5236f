"""A big feed's stored backlog: parsed entries beyond the per-poll budget, oldest first.

A feed's new entries beyond fetch.max_entries_per_poll are stored here once, as parsed,
and the following polls hand them out from here instead of downloading and parsing the
whole feed again. A row is deleted when handed out; the feed's pending_keys cover a crash
before the entry is processed (the feed is then downloaded again, without validators).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from monitor.published import at_offset, offset_minutes
from monitor.storage.models import BacklogEntry, Feed
from monitor.types import FeedEntry

_CHUNK = 500  # rows per INSERT: well under bind-parameter limits (12 values a row)


def store_backlog(
    *, session: Session, feed_url: str, entries: Sequence[FeedEntry], now: datetime
) -> int:
    """Append ``entries`` (oldest first) to the feed's backlog; the backlog's new size."""
    feed_id = _feed_id(session, feed_url)
    last = session.scalar(select(func.max(BacklogEntry.position)).where(
        BacklogEntry.feed_id == feed_id))  # fmt: skip
    start = 0 if last is None else last + 1
    rows = [
        {"feed_id": feed_id, "position": start + n, "entry_key": e.entry_key, "url": e.url,
         "title": e.title, "summary": e.summary, "published_at": e.published,
         "published_offset": offset_minutes(e.published),
         "author": e.author, "source": e.source, "stored_at": now}
        for n, e in enumerate(entries)
    ]  # fmt: skip
    for begin in range(0, len(rows), _CHUNK):
        session.execute(insert(BacklogEntry), rows[begin : begin + _CHUNK])
    return _recount(session, feed_id)


def take_backlog(
    *, session: Session, feed_url: str, limit: int
) -> tuple[tuple[FeedEntry, ...], int]:
    """The oldest ``limit`` waiting entries, removed from the backlog, and how many remain.

    The taken keys become the feed's pending keys in the same transaction, so a crash
    before they are processed is noticed (fetch/poller.py: _checked_pending).
    """
    feed_id = _feed_id(session, feed_url)
    rows = session.scalars(
        select(BacklogEntry).where(BacklogEntry.feed_id == feed_id)
        .order_by(BacklogEntry.position).limit(limit)
    ).all()  # fmt: skip
    entries = tuple(_entry(feed_url, row) for row in rows)
    if not rows:
        return (), _recount(session, feed_id)
    session.execute(delete(BacklogEntry).where(
        BacklogEntry.feed_id == feed_id, BacklogEntry.position <= rows[-1].position))  # fmt: skip
    return entries, _recount(session, feed_id, pending=[e.entry_key for e in entries])


def _recount(session: Session, feed_id: int | None, pending: list[str] | None = None) -> int:
    """Count the rows and keep the feed's ``backlog`` column (read with its state) in step."""
    count = session.scalar(select(func.count()).where(BacklogEntry.feed_id == feed_id)) or 0
    values: dict[str, object] = {"backlog": count}
    if pending:
        values["pending_keys"] = pending
    session.execute(
        update(Feed).where(Feed.id == feed_id).values(values)
        .execution_options(synchronize_session=False)
    )  # fmt: skip
    return count


def _feed_id(session: Session, feed_url: str) -> int | None:
    return session.scalar(select(Feed.id).where(Feed.configured_url == feed_url))


def _entry(feed_url: str, row: BacklogEntry) -> FeedEntry:
    return FeedEntry(
        feed_url=feed_url, entry_key=row.entry_key, url=row.url, title=row.title,
        summary=row.summary, published=at_offset(row.published_at, row.published_offset),
        author=row.author, source=row.source,
    )  # fmt: skip
