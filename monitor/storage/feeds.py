"""Feed state and entry identity. The feed *list* is config plus the feeds added at run time
(origin "console", whose row is their definition); config feeds' rows hold only state.

Entry rows are never pruned: an entry seen once never counts as new again.
"""

from __future__ import annotations

from collections.abc import Container, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from functools import cache
from itertools import islice
from typing import Any, TypeVar, cast

from sqlalchemy import Select, Table, bindparam, func, or_, select, tuple_, update
from sqlalchemy.orm import Session

from monitor.fetch.settings import FeedConfig
from monitor.storage.models import Entry, Feed
from monitor.types import FeedEntry

T = TypeVar("T")


@dataclass(frozen=True)
class FeedState:
    """What the poller reads and writes of one feed's row."""

    configured_url: str
    url: str
    title: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    last_status: int | None = None
    last_attempt_at: datetime | None = None
    last_success_at: datetime | None = None
    consecutive_errors: int = 0
    last_error: str | None = None
    last_warning: str | None = None
    next_poll_at: datetime | None = None
    interval_seconds: int | None = None
    gone: bool = False
    paused: bool = False
    pending_keys: tuple[str, ...] = ()  # new entries returned, maybe not yet marked seen
    backlog: int = 0  # entries waiting in the stored backlog (storage/backlog.py)


@dataclass(frozen=True)
class FeedHealth:
    """One line of `monitor feeds`."""

    configured_url: str
    url: str
    title: str | None
    state: str  # ok | failing | gone | paused | new | removed
    last_status: int | None
    last_success_at: datetime | None
    consecutive_errors: int
    last_error: str | None
    last_warning: str | None
    next_poll_at: datetime | None
    entries_seen: int
    origin: str = "config"  # config (YAML) | console (added at run time)
    operator_paused: bool = False  # paused from the console


CONFIG, CONSOLE = "config", "console"
_STATE_FIELDS = tuple(f.name for f in fields(FeedState))


def sync_feeds(*, session: Session, feeds: Sequence[FeedConfig], now: datetime) -> None:
    """A row for every configured feed (due at once when new); other config rows marked out
    of config. Console-added feeds are their own definition and stay as they are, unless
    the YAML now lists the same URL: then the YAML defines it."""
    configured = {feed.url: feed for feed in feeds}
    known = set(session.scalars(select(Feed.configured_url)))
    _insert_missing(session, [url for url in configured if url not in known], now)
    for row in session.scalars(select(Feed)):
        feed = configured.get(row.configured_url)
        if feed is not None:
            row.origin, row.in_config, row.paused = CONFIG, True, feed.paused
        elif row.origin != CONSOLE:
            row.in_config = False


def _insert_missing(session: Session, urls: list[str], now: datetime) -> None:
    # ON CONFLICT DO NOTHING: replicas starting together on a fresh database both find
    # the feed missing; the second insert must not fail (and stop that replica).
    if not urls:
        return
    insert = _upsert(session)
    # 90 rows x 11 values stays under SQLite's old 999-variable limit; sorted, so replicas
    # inserting the same feeds take their row locks in the same order (no deadlock).
    for chunk in _chunks(sorted(set(urls)), 90):
        values = [
            {"configured_url": url, "url": url, "next_poll_at": now, "consecutive_errors": 0,
             "gone": False, "paused": False, "in_config": True, "entries_seen": 0,
             "origin": CONFIG, "operator_paused": False, "backlog": 0}
            for url in chunk
        ]  # fmt: skip
        stmt = insert(Feed).values(values)
        session.execute(stmt.on_conflict_do_nothing(index_elements=["configured_url"]))


def _upsert(session: Session) -> Any:
    """The dialect's INSERT (the one with ON CONFLICT). Imported when first used: the
    PostgreSQL dialect is ~2 MB a SQLite poller would otherwise hold (and an engine for
    PostgreSQL has loaded it already)."""
    return _upsert_for(session.get_bind().dialect.name)


def _upsert_for(dialect: str) -> Any:
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert


def _due(now: datetime) -> Select[Feed]:
    return (
        select(Feed)
        .where(Feed.in_config, ~Feed.paused, ~Feed.operator_paused, ~Feed.gone)
        .where(or_(Feed.next_poll_at.is_(None), Feed.next_poll_at <= now))
        .order_by(Feed.next_poll_at, Feed.id)
    )


def due_feeds(*, session: Session, now: datetime) -> list[str]:
    """Configured URLs due for polling, most overdue first (paused and gone feeds never)."""
    return [row.configured_url for row in session.scalars(_due(now))]


def claim_due_feeds(
    *,
    session: Session,
    owner: str,
    now: datetime,
    limit: int,
    lease: timedelta,
    configured: Container[str] | None = None,
) -> list[str]:
    """Lease up to ``limit`` due feeds to ``owner`` so replicas sharing a database split work.

    PostgreSQL skips rows another replica has locked; the conditional UPDATE makes the claim
    safe on SQLite too (only an unleased or expired row changes hands).

    ``configured``: the YAML feeds ``owner`` knows how to poll (None: all). During a rolling
    restart a replica still on the old monitor.yaml would otherwise lease a feed only the new
    one lists, drop it for want of its definition, and renew that lease every tick: the new
    feed would never be polled while the old replica lives. Console feeds are defined by
    their rows, so every replica can poll them.
    """
    free = or_(Feed.lease_until.is_(None), Feed.lease_until <= now, Feed.lease_owner == owner)
    query = _due(now).where(free).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    ids = [
        row.id
        for row in session.scalars(query)
        if configured is None or row.origin == CONSOLE or row.configured_url in configured
    ]
    if not ids:
        return []
    session.execute(
        update(Feed)
        .where(Feed.id.in_(ids), free)
        .values(lease_owner=owner, lease_until=now + lease)
        .execution_options(synchronize_session=False)
    )
    claimed = select(Feed.configured_url).where(Feed.id.in_(ids), Feed.lease_owner == owner)
    return list(session.scalars(claimed.order_by(Feed.next_poll_at, Feed.id)))


def renew_feed_leases(
    *, session: Session, owner: str, urls: Iterable[str], until: datetime
) -> None:
    """Extend ``owner``'s leases on ``urls`` (feeds whose entries it is still processing)."""
    for chunk in _chunks(sorted(set(urls)), 400):
        session.execute(
            update(Feed)
            .where(Feed.configured_url.in_(chunk), Feed.lease_owner == owner)
            .values(lease_until=until)
            .execution_options(synchronize_session=False)
        )


def release_feed_leases(*, session: Session, owner: str, urls: Iterable[str] | None = None) -> None:
    """Give up ``owner``'s leases (on ``urls`` only, when given): its poll is done."""
    query = update(Feed).where(Feed.lease_owner == owner)
    if urls is not None:
        query = query.where(Feed.configured_url.in_(sorted(set(urls))))
    session.execute(
        query.values(lease_owner=None, lease_until=None).execution_options(
            synchronize_session=False
        )
    )


# Built once: these run for every feed on every poll, and building statements is costly.
# The lease is not written: it outlives the state, which is saved once the feed is
# downloaded, while its entries are still being processed (see release_feed_leases).
_SAVE = (
    update(Feed)
    .where(Feed.configured_url == bindparam("key"))
    .values({name: bindparam(name) for name in _STATE_FIELDS})
    .execution_options(synchronize_session=False)
)


_IDS = select(Feed.id).where(Feed.configured_url == bindparam("key"))


def load_feed_state(*, session: Session, feed: FeedConfig, now: datetime) -> FeedState:
    """The feed's state, creating its row on first sight."""
    return load_feed_states(session=session, feeds=[feed], now=now)[feed.url]


def load_feed_states(
    *, session: Session, feeds: Sequence[FeedConfig], now: datetime
) -> dict[str, FeedState]:
    """Every feed's state by configured URL, in one query per 400 feeds; rows made as needed."""
    found = _state_rows(session, [f.url for f in feeds])
    missing = [f.url for f in feeds if f.url not in found]
    _insert_missing(session, missing, now)
    if missing:
        found.update(_state_rows(session, missing))
    states = {}
    for feed in feeds:
        values: dict[str, Any] = dict(zip(_STATE_FIELDS, found[feed.url], strict=True))
        values["pending_keys"] = tuple(values["pending_keys"] or ())
        values["paused"] = feed.paused
        states[feed.url] = FeedState(**values)
    return states


def _state_rows(session: Session, urls: list[str]) -> dict[str, Sequence[object]]:
    columns = [getattr(Feed, name) for name in _STATE_FIELDS]
    rows: dict[str, Sequence[object]] = {}
    for chunk in _chunks(urls, 400):  # stay under bind-parameter limits
        for row in session.execute(select(*columns).where(Feed.configured_url.in_(chunk))):
            rows[row[0]] = tuple(row)
    return rows


def save_feed_state(*, session: Session, state: FeedState) -> None:
    """Write the poller's new state (a lease on the feed stays: release_feed_leases)."""
    values = _save_params(state)
    if not session.execute(_SAVE, values).rowcount:  # type: ignore[attr-defined]
        raise LookupError(f"no feed row for {state.configured_url}")


def save_feed_states(*, session: Session, states: Sequence[FeedState]) -> None:
    """Write many feeds' states in one batched statement (rows exist: states were loaded)."""
    # In batches: 2,000 states' parameters at once (and SQLAlchemy's processed copy of
    # them) were ~4 MB of the poller's peak (issue 15); one transaction all the same.
    for chunk in _chunks(list(states), 200):
        session.connection().execute(_SAVE, [_save_params(state) for state in chunk])


def _save_params(state: FeedState) -> dict[str, object]:
    values: dict[str, object] = {name: getattr(state, name) for name in _STATE_FIELDS}
    values["pending_keys"] = list(state.pending_keys) or None
    return {**values, "key": state.configured_url}


def _feed_id(session: Session, configured_url: str) -> int | None:
    return session.execute(_IDS, {"key": configured_url}).scalar()


def seen_entries(*, session: Session, feed_url: str, entries: Iterable[FeedEntry]) -> set[str]:
    """Keys of ``entries`` already seen on this feed, by key or by canonical link."""
    entries = list(entries)
    feed_id = _feed_id(session, feed_url) if entries else None
    if feed_id is None:
        return set()
    keys = {e.entry_key for e in entries}
    urls = {e.url for e in entries if e.url}
    seen_keys: set[str] = set()
    seen_urls: set[str] = set()
    for chunk in _chunks(sorted(keys | urls), 400):  # stay under bind-parameter limits
        query = select(Entry.entry_key, Entry.url).where(
            Entry.feed_id == feed_id, or_(Entry.entry_key.in_(chunk), Entry.url.in_(chunk))
        )
        for key, url in session.execute(query):
            seen_keys.add(key)
            if url:
                seen_urls.add(url)
    return {e.entry_key for e in entries if e.entry_key in seen_keys or e.url in seen_urls}


def unseen_keys(*, session: Session, feed_url: str, keys: Iterable[str]) -> set[str]:
    """The entry keys among ``keys`` not yet marked seen on this feed."""
    return unseen_pending(session=session, pending={feed_url: keys}).get(feed_url, set())


def unseen_pending(
    *, session: Session, pending: Mapping[str, Iterable[str]]
) -> dict[str, set[str]]:
    """For many feeds at once: the keys among each feed's ``pending`` keys not yet seen.

    Streamed 400 pairs at a time and only the unseen kept: a round after one that handed
    out 2,000 feeds' entries checks ~40,000 keys, and holding them all as (id, key) pairs
    plus the seen ones came to ~12 MB at the top of the poller's peak (issue 15)."""
    wanted = {url: keys for url, keys in pending.items() if keys}
    ids = _feed_ids(session, list(wanted)) if wanted else {}
    unseen = {url: set(keys) for url, keys in wanted.items() if url not in ids}
    urls = {feed_id: url for url, feed_id in ids.items()}
    for url in ids:
        unseen[url] = set()
    for chunk in _batches(_pending_pairs(wanted, ids), 400):
        query = select(Entry.feed_id, Entry.entry_key).where(  # the (feed_id, entry_key) index
            tuple_(Entry.feed_id, Entry.entry_key).in_(chunk)
        )
        seen = {(feed_id, key) for feed_id, key in session.execute(query)}
        for pair in chunk:
            if pair not in seen:
                unseen[urls[pair[0]]].add(pair[1])
    return unseen


def _pending_pairs(
    wanted: Mapping[str, Iterable[str]], ids: Mapping[str, int]
) -> Iterator[tuple[int, str]]:
    """(feed id, key) in index order, made as they are queried rather than all at once."""
    for url in sorted(ids, key=ids.__getitem__):
        for key in sorted(set(wanted[url])):
            yield ids[url], key


def _feed_ids(session: Session, urls: list[str]) -> dict[str, int]:
    ids: dict[str, int] = {}
    for chunk in _chunks(urls, 400):
        query = select(Feed.configured_url, Feed.id).where(Feed.configured_url.in_(chunk))
        ids.update((url, feed_id) for url, feed_id in session.execute(query))
    return ids


def _chunks(items: list[T], size: int) -> Iterable[list[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _batches(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """``_chunks`` of an iterator (itertools.batched is Python 3.12)."""
    it = iter(items)
    while batch := list(islice(it, size)):
        yield batch


def mark_entry_seen(*, session: Session, feed_url: str, entry: FeedEntry, now: datetime) -> None:
    """Record the entry's identity (idempotent), in the caller's transaction."""
    feed_id = _feed_id(session, feed_url)
    if feed_id is None:
        _insert_missing(session, [feed_url], now)
        feed_id = _feed_id(session, feed_url)
    url = entry.url if entry.url and len(entry.url) <= 2048 else None
    values = dict(feed_id=feed_id, entry_key=entry.entry_key, url=url,
                  title=entry.title, published_at=entry.published, first_seen_at=now)  # fmt: skip
    new_entry, counted = _seen_statements(session.get_bind().dialect.name)
    if session.execute(new_entry, values).scalar() is not None:  # None: seen before
        session.execute(counted, {"feed": feed_id, "now": now})


@cache
def _seen_statements(dialect: str) -> tuple[Any, Any]:
    """mark_entry_seen's two statements, built once per dialect and filled in by parameters:
    building them anew took more CPU than SQLite's running them. Core statements on the
    tables: the session holds no Entry and need not update a Feed it holds (the count is
    read back by the next poll's batch)."""
    entries, feeds = cast(Table, Entry.__table__), cast(Table, Feed.__table__)
    new_entry = (
        _upsert_for(dialect)(entries)
        .on_conflict_do_nothing(index_elements=["feed_id", "entry_key"])
        .returning(entries.c.id)
    )
    counted = (
        update(feeds)
        .where(feeds.c.id == bindparam("feed"))
        .values(entries_seen=func.coalesce(feeds.c.entries_seen, 0) + 1,
                last_new_entry_at=bindparam("now"))
    )  # fmt: skip
    return new_entry, counted


def feed_health(*, session: Session) -> list[FeedHealth]:
    """Every feed row, listed ones (YAML or console) first, for `monitor feeds`."""
    rows = session.scalars(select(Feed).order_by(~Feed.in_config, Feed.configured_url))
    return [_health(row) for row in rows]


def _health(row: Feed) -> FeedHealth:
    return FeedHealth(
        configured_url=row.configured_url, url=row.url, title=row.name or row.title,
        state=_state(row), last_status=row.last_status, last_success_at=row.last_success_at,
        consecutive_errors=row.consecutive_errors, last_error=row.last_error,
        last_warning=row.last_warning, next_poll_at=row.next_poll_at,
        entries_seen=row.entries_seen, origin=row.origin, operator_paused=row.operator_paused,
    )  # fmt: skip


def _state(row: Feed) -> str:
    if not row.in_config:
        return "removed"
    if row.gone:
        return "gone"
    if row.paused or row.operator_paused:
        return "paused"
    if row.consecutive_errors:
        return "failing"
    return "ok" if row.last_attempt_at else "new"


# Feeds added at run time (the console and /api/v1). Validation of the URL is the caller's
# (FeedConfig's rules); these only keep the rows consistent.


def console_feeds(*, session: Session, urls: Iterable[str] | None = None) -> list[FeedConfig]:
    """Listed console-added feeds (all, or those among ``urls``) as feed definitions."""
    query = select(Feed.configured_url, Feed.name).where(Feed.origin == CONSOLE, Feed.in_config)
    if urls is not None:
        wanted = sorted(set(urls))
        if not wanted:
            return []
        query = query.where(Feed.configured_url.in_(wanted))
    rows = session.execute(query.order_by(Feed.id))
    return [FeedConfig(url=url, name=name) for url, name in rows]


def add_console_feed(*, session: Session, feed: FeedConfig, actor: str, now: datetime) -> bool:
    """List ``feed`` as a console feed, due at once; False when it is listed already.
    A feed removed earlier comes back with its history (its seen entries stay seen)."""
    row = session.scalars(select(Feed).where(Feed.configured_url == feed.url)).first()
    if row is not None and row.in_config:
        return False
    if row is None:
        row = Feed(configured_url=feed.url, url=feed.url, consecutive_errors=0, gone=False,
                   paused=False, entries_seen=0)  # fmt: skip
        session.add(row)
    row.origin, row.in_config, row.operator_paused, row.paused = CONSOLE, True, False, False
    row.name, row.added_by, row.added_at, row.next_poll_at = feed.name, actor, now, now
    row.gone = False  # a 410 answered before its removal is not held against the new listing
    session.flush()
    return True


def listed_feed(*, session: Session, url: str) -> Feed | None:
    """The row of a listed feed (YAML or console) by its configured URL."""
    return session.scalars(select(Feed).where(Feed.configured_url == url, Feed.in_config)).first()


def unlist_console_feed(*, session: Session, row: Feed) -> None:
    """Stop polling a console feed; the row and its seen entries stay (re-adding it later
    never alerts on what was seen before)."""
    row.in_config, row.lease_owner, row.lease_until = False, None, None
