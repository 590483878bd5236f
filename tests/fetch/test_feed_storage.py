"""Feed state and entry identity on SQLite and PostgreSQL."""

from __future__ import annotations

import sqlite3
import threading
import time
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session, sessionmaker

from monitor.fetch.settings import FeedConfig
from monitor.storage.db import make_engine, session_factory, upgrade
from monitor.storage.feeds import (
    claim_due_feeds,
    due_feeds,
    feed_health,
    load_feed_states,
    mark_entry_seen,
    release_feed_leases,
    renew_feed_leases,
    save_feed_states,
    seen_entries,
    sync_feeds,
    unseen_pending,
)
from monitor.storage.models import Entry, Feed
from monitor.types import FeedEntry

A, B, C = "http://127.0.0.1:8001/rss", "http://127.0.0.1:8002/rss", "http://127.0.0.1:8003/rss"


def entry(key: str, url: str | None = None, title: str = "t") -> FeedEntry:
    return FeedEntry(feed_url=A, entry_key=key, url=url, title=title, summary="", published=None)


def test_due_feeds_skip_paused_gone_removed_and_not_yet_due(
    sessions: sessionmaker[Session], now: datetime
) -> None:
    with sessions.begin() as s:
        sync_feeds(session=s, feeds=[FeedConfig(url=u) for u in (A, B, C)], now=now)
    with sessions.begin() as s:
        sync_feeds(session=s, feeds=[FeedConfig(url=A), FeedConfig(url=B, paused=True)], now=now)
        assert due_feeds(session=s, now=now) == [A]  # C left the config, B is paused
        s.scalars(select(Feed).where(Feed.configured_url == A)).one().next_poll_at = (
            now + timedelta(minutes=1)
        )
    with sessions() as s:
        assert due_feeds(session=s, now=now) == []
        assert due_feeds(session=s, now=now + timedelta(minutes=2)) == [A]
        states = {h.configured_url: h.state for h in feed_health(session=s)}
    assert states == {A: "new", B: "paused", C: "removed"}


def test_claims_split_due_feeds_between_replicas_until_the_lease_ends(
    sessions: sessionmaker[Session], now: datetime
) -> None:
    with sessions.begin() as s:
        sync_feeds(session=s, feeds=[FeedConfig(url=u) for u in (A, B, C)], now=now)
    lease = timedelta(minutes=5)
    with sessions.begin() as s:
        first = claim_due_feeds(session=s, owner="r1", now=now, limit=2, lease=lease)
    with sessions.begin() as s:
        second = claim_due_feeds(session=s, owner="r2", now=now, limit=2, lease=lease)
    assert len(first) == 2 and len(second) == 1 and not set(first) & set(second)
    later = now + lease + timedelta(seconds=1)
    with sessions.begin() as s:  # r1 died: its leases expire and r2 takes over
        assert set(claim_due_feeds(session=s, owner="r2", now=later, limit=5, lease=lease)) == {
            A,
            B,
            C,
        }


def test_a_lease_outlives_the_saved_state_until_its_owner_releases_it(
    sessions: sessionmaker[Session], now: datetime
) -> None:
    """A poll's state is saved once its feed is downloaded, while its entries are still
    being processed: another replica must not take the feed up (and process the same
    entries) before the owner says it is done, or the lease runs out."""
    with sessions.begin() as s:
        sync_feeds(session=s, feeds=[FeedConfig(url=A)], now=now)
    lease = timedelta(minutes=5)
    with sessions.begin() as s:
        assert claim_due_feeds(session=s, owner="r1", now=now, limit=5, lease=lease) == [A]
    with sessions.begin() as s:  # downloaded: state saved, due again at once (interval 0)
        state = load_feed_states(session=s, feeds=[FeedConfig(url=A)], now=now)[A]
        save_feed_states(session=s, states=[state])
    with sessions.begin() as s:  # r1 is still processing its entries
        assert claim_due_feeds(session=s, owner="r2", now=now, limit=5, lease=lease) == []
    later = now + lease - timedelta(seconds=1)
    with sessions.begin() as s:  # r1, still at work, renews; r2 still waits
        renew_feed_leases(session=s, owner="r1", urls=[A], until=later + lease)
        renew_feed_leases(session=s, owner="r2", urls=[A], until=later + 2 * lease)  # not its
    with sessions.begin() as s:
        assert claim_due_feeds(session=s, owner="r2", now=now + lease, limit=5, lease=lease) == []
    with sessions.begin() as s:
        release_feed_leases(session=s, owner="r2")  # holds nothing: changes nothing
    with sessions.begin() as s:
        assert claim_due_feeds(session=s, owner="r3", now=now + lease, limit=5, lease=lease) == []
    with sessions.begin() as s:
        release_feed_leases(session=s, owner="r1", urls=[A])
    with sessions.begin() as s:
        assert claim_due_feeds(session=s, owner="r2", now=now + lease, limit=5, lease=lease) == [A]


def test_mark_entry_seen_is_idempotent_and_matches_by_key_or_link(
    sessions: sessionmaker[Session], now: datetime
) -> None:
    with sessions.begin() as s:
        sync_feeds(session=s, feeds=[FeedConfig(url=A)], now=now)
        mark_entry_seen(
            session=s, feed_url=A, entry=entry("g1", "http://127.0.0.1:8009/1"), now=now
        )
        mark_entry_seen(
            session=s, feed_url=A, entry=entry("g1", "http://127.0.0.1:8009/1"), now=now
        )
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Entry)) == 1
        assert s.scalars(select(Feed)).one().entries_seen == 1
        candidates = [
            entry("g1", title="edited title"),  # same GUID, new title: still seen
            entry("g2", "http://127.0.0.1:8009/1"),  # GUID regenerated, same page: seen
            entry("g3", "http://127.0.0.1:8009/3"),  # new
        ]
        assert seen_entries(session=s, feed_url=A, entries=candidates) == {"g1", "g2"}
        assert seen_entries(session=s, feed_url=B, entries=candidates) == set()


def test_replicas_starting_together_both_sync_the_same_new_feeds(
    sessions: sessionmaker[Session], now: datetime
) -> None:
    # Two replicas on a fresh database: each finds the feeds missing and inserts them. The
    # second insert waits for the first transaction and must then pass, not stop the replica.
    feeds = [FeedConfig(url=u) for u in (A, B)]
    first = sessions()
    first.begin()
    sync_feeds(session=first, feeds=feeds, now=now)
    errors: list[BaseException] = []

    def second_replica() -> None:
        try:
            with sessions.begin() as s:
                sync_feeds(session=s, feeds=[*feeds, FeedConfig(url=C)], now=now)
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=second_replica)
    thread.start()
    time.sleep(0.3)  # let it reach the insert and wait on the first transaction
    first.commit()
    first.close()
    thread.join(timeout=30)
    assert not errors, errors
    with sessions() as s:
        urls = sorted(s.scalars(select(Feed.configured_url)))
    assert urls == sorted([A, B, C])


def test_many_new_feeds_fit_old_sqlite_variable_limits(tmp_path: Path, now: datetime) -> None:
    # SQLite before 3.32 binds at most 999 values per statement; 250 feeds of 8 values
    # each must go in several inserts.
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(engine)

    @event.listens_for(engine, "connect")
    def old_limit(dbapi_connection: sqlite3.Connection, _record: object) -> None:
        dbapi_connection.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 999)

    engine.dispose()  # new connections get the limit
    sessions = session_factory(engine)
    feeds = [FeedConfig(url=f"http://127.0.0.1/f{i}/rss") for i in range(250)]
    with sessions.begin() as s:
        sync_feeds(session=s, feeds=feeds, now=now)
    with sessions() as s:
        assert s.scalar(select(func.count(Feed.id))) == 250
    engine.dispose()


def test_unseen_pending_over_several_batches_keeps_only_the_unseen_keys(
    sessions: sessionmaker[Session], now: datetime
) -> None:
    # 450 keys on A (every third seen) and 5 on B (all seen) span two 400-pair queries;
    # C has no row yet, so none of its keys can have been seen.
    keys = [f"k{i:03}" for i in range(450)]
    with sessions.begin() as s:
        sync_feeds(session=s, feeds=[FeedConfig(url=A), FeedConfig(url=B)], now=now)
        for key in keys[::3]:
            mark_entry_seen(session=s, feed_url=A, entry=entry(key), now=now)
        for key in keys[:5]:
            mark_entry_seen(session=s, feed_url=B, entry=entry(key), now=now)
    pending = {A: keys, B: keys[:5], C: ["c1", "c2"]}
    with sessions() as s:
        unseen = unseen_pending(session=s, pending=pending)
    assert unseen == {A: set(keys) - set(keys[::3]), B: set(), C: {"c1", "c2"}}


def test_save_feed_states_writes_every_state_of_a_batch_bigger_than_one_statement(
    sessions: sessionmaker[Session], now: datetime
) -> None:
    feeds = [FeedConfig(url=f"http://127.0.0.1/f{i}/rss") for i in range(450)]
    with sessions.begin() as s:
        sync_feeds(session=s, feeds=feeds, now=now)
        states = load_feed_states(session=s, feeds=feeds, now=now)
    saved = [replace(state, etag=f'"{state.configured_url}"') for state in states.values()]
    with sessions.begin() as s:
        save_feed_states(session=s, states=saved)
    with sessions() as s:
        rows = s.execute(select(Feed.configured_url, Feed.etag)).all()
    assert sorted(rows) == sorted((f.url, f'"{f.url}"') for f in feeds)
