"""Defect #2: one feed with a huge backlog is worked off in budgeted polls.

A poll hands on at most fetch.max_entries_per_poll new entries, oldest first; the rest
are not marked seen and come on the following polls (each due after min_interval),
none lost and none repeated, while a feed polled in the same batch is unaffected.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from monitor.fetch.http import Fetcher
from monitor.fetch.poller import FeedPoll, poll_feeds
from monitor.fetch.settings import FeedConfig, FetchSettings
from monitor.storage.db import session_factory, transaction
from monitor.storage.feeds import mark_entry_seen
from monitor.storage.models import Feed

from .conftest import TWO_ITEMS, Handler, Server, rss

SETTINGS = FetchSettings(allow_private_addresses=True, jitter=0, adaptive=False)
NOW = datetime(2020, 3, 12, 22, 0, tzinfo=UTC)
ITEMS = 1000


def conditional(body: bytes, etag: str) -> Callable[[Handler], None]:
    def route(h: Handler) -> None:
        if h.headers.get("If-None-Match") == etag:
            h.reply(304, headers={"ETag": etag})
        else:
            h.reply(200, body, headers={"ETag": etag})

    return route


def big_feed() -> bytes:
    """1,000 items, newest first, one a minute."""
    start = datetime(2020, 3, 1, tzinfo=UTC)
    return rss(
        [(f"big-{n:04d}", f"Report {n}", format_datetime(start + timedelta(minutes=n),
                                                         usegmt=True))
         for n in range(ITEMS - 1, -1, -1)]
    )  # fmt: skip


async def cycle(
    feeds: list[FeedConfig], sessions: sessionmaker[Session], now: datetime
) -> dict[str, FeedPoll]:
    """One batch; every entry handed on is processed (marked seen), as the pipeline does."""
    polls = {}
    async with Fetcher(SETTINGS, clock=lambda: now) as fetcher:
        async for poll in poll_feeds(
            feeds, fetcher=fetcher, sessions=sessions, settings=SETTINGS, now=now
        ):
            with transaction(sessions) as session:
                for entry in poll.entries:
                    mark_entry_seen(session=session, feed_url=poll.feed_url, entry=entry, now=now)
            polls[poll.feed_url] = poll
    return polls


def row(sessions: sessionmaker[Session], url: str) -> Feed:
    with sessions() as session:
        return session.scalars(select(Feed).where(Feed.configured_url == url)).one()


def test_a_thousand_entries_arrive_over_several_polls_none_lost_none_repeated(
    serve: Callable[[dict[str, Callable[[Handler], None]]], Server], sqlite_engine: Engine
) -> None:
    server = serve({"/big.xml": conditional(big_feed(), '"big"'),
                    "/small.xml": conditional(rss(TWO_ITEMS), '"small"')})  # fmt: skip
    sessions = session_factory(sqlite_engine)
    big, small = FeedConfig(url=server.url("/big.xml")), FeedConfig(url=server.url("/small.xml"))

    now, handed, rounds = NOW, [], 0
    first = asyncio.run(cycle([big, small], sessions, now))
    # The other feed of the batch gets all its entries and its usual schedule.
    assert [e.entry_key for e in first[small.url].entries] == ["id-1", "id-2"]
    assert row(sessions, small.url).next_poll_at == NOW + SETTINGS.interval
    polls = first
    while polls[big.url].entries:
        rounds += 1
        keys = [e.entry_key for e in polls[big.url].entries]
        assert len(keys) <= SETTINGS.max_entries_per_poll
        handed += keys
        state = row(sessions, big.url)
        if len(handed) < ITEMS:  # a backlog remains: due again after min_interval
            assert state.next_poll_at == now + SETTINGS.min_interval
            assert state.etag is None and "carried over" in (state.last_warning or "")
            now = state.next_poll_at
        else:
            now = now + SETTINGS.interval
        polls = asyncio.run(cycle([big], sessions, now))

    assert rounds == ITEMS // SETTINGS.max_entries_per_poll == 5
    assert handed == [f"big-{n:04d}" for n in range(ITEMS)]  # oldest first, each once
    # Backlog gone: the validators are kept again and the next poll is conditional.
    assert polls[big.url].status == 304
    assert server.hits[-1][1].get("if-none-match") == '"big"'


def test_the_budget_is_validated() -> None:
    with pytest.raises(
        ValidationError, match=r"max_entries_per_poll\n.*greater than or equal to 1"
    ):
        FetchSettings(max_entries_per_poll=0)
