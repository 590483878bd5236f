"""Defect #13: feed state kept under load.

Many feeds queued behind a low concurrency limit, each answering well within the
deadline once its request is on the wire. The time a request waits for a slot is not
its own slowness: every feed's first poll must succeed and keep its validators, so the
second poll is conditional everywhere and hands out nothing again.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from monitor.fetch.http import Fetcher
from monitor.fetch.poller import FeedPoll, poll_feeds
from monitor.fetch.settings import FeedConfig, FetchSettings
from monitor.storage.db import session_factory, transaction
from monitor.storage.feeds import mark_entry_seen

from .conftest import TWO_ITEMS, Handler, Server, rss

FEEDS = 40
# One request at a time, each taking ~50 ms on the server: the last feed waits ~2 s for
# its slot, twice the deadline, yet spends a twentieth of the deadline on the wire (a
# margin that holds on a loaded machine: at 0.5 s and 20 feeds one request overran it).
SETTINGS = FetchSettings(
    allow_private_addresses=True,
    concurrency=1,
    per_host=1,
    deadline=timedelta(seconds=1),
    read_timeout=timedelta(seconds=1),
    connect_timeout=timedelta(seconds=1),
    jitter=0,
    adaptive=False,
)
NOW = datetime(2020, 3, 12, 22, 0, tzinfo=UTC)


def slow_conditional(i: int) -> Callable[[Handler], None]:
    body = rss([(f"f{i}-{guid}", title, when) for guid, title, when in TWO_ITEMS])
    etag = f'"f{i}-v1"'

    def route(h: Handler) -> None:
        time.sleep(0.05)  # a server doing some work per request
        if h.headers.get("If-None-Match") == etag:
            h.reply(304, headers={"ETag": etag})
        else:
            h.reply(200, body, headers={"ETag": etag})

    return route


async def one_cycle(feeds: list[FeedConfig], sessions: sessionmaker[Session]) -> list[FeedPoll]:
    """As the pipeline does: one batch; each poll's entries marked seen once handled."""
    polls = []
    async with Fetcher(SETTINGS, clock=lambda: NOW) as fetcher:
        async for poll in poll_feeds(
            feeds, fetcher=fetcher, sessions=sessions, settings=SETTINGS, now=NOW
        ):
            with transaction(sessions) as session:
                for entry in poll.entries:
                    mark_entry_seen(session=session, feed_url=poll.feed_url, entry=entry, now=NOW)
            polls.append(poll)
    return polls


def test_feeds_queued_behind_the_limit_keep_their_state(
    serve: Callable[[dict[str, Callable[[Handler], None]]], Server], sqlite_engine: Engine
) -> None:
    server = serve({f"/feed/{i}.xml": slow_conditional(i) for i in range(FEEDS)})
    sessions = session_factory(sqlite_engine)
    feeds = [FeedConfig(url=server.url(f"/feed/{i}.xml")) for i in range(FEEDS)]

    first = asyncio.run(one_cycle(feeds, sessions))
    assert [p.error for p in first if p.error] == []
    assert sorted(len(p.entries) for p in first) == [2] * FEEDS

    server.hits.clear()
    second = asyncio.run(one_cycle(feeds, sessions))
    sent = {path: headers.get("if-none-match") for path, headers in server.hits}
    assert sent == {f"/feed/{i}.xml": f'"f{i}-v1"' for i in range(FEEDS)}
    assert [p.status for p in second] == [304] * FEEDS
    assert [e.entry_key for p in second for e in p.entries] == []
