"""Defect #13: feed state kept under load.

Many feeds queued behind the per-host limit, one host, one request on it at a time. The
first request hangs until the fetcher gives up on it, so every other feed waits a whole
fetch.deadline for its slot: by construction, not by how fast the machine is. That wait is
not their own slowness: each of their first polls must succeed and keep its validators, so
the second poll is conditional everywhere and hands out nothing again.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from monitor.fetch.http import Fetcher
from monitor.fetch.poller import FeedPoll, poll_feeds
from monitor.fetch.settings import FeedConfig, FetchSettings
from monitor.storage.db import session_factory, transaction
from monitor.storage.feeds import mark_entry_seen

from .conftest import TWO_ITEMS, Handler, Server, rss

FEEDS = 12
# Every poll under way at once (concurrency), all queued for the one host's slot (per_host).
# The deadline is generous for a request to 127.0.0.1 on a loaded machine; the read and
# connect timeouts are longer still, so it is the deadline that cuts the hanging request.
SETTINGS = FetchSettings(
    allow_private_addresses=True,
    concurrency=FEEDS + 1,
    per_host=1,
    deadline=timedelta(seconds=5),
    read_timeout=timedelta(seconds=60),
    connect_timeout=timedelta(seconds=60),
    jitter=0,
    adaptive=False,
)
NOW = datetime(2020, 3, 12, 22, 0, tzinfo=UTC)


def hangs_until_the_client_gives_up(h: Handler) -> None:
    """No answer: waits for the client to close the connection (60 s at most)."""
    h.connection.settimeout(60)
    with contextlib.suppress(OSError):
        while h.connection.recv(1024):
            pass
    h.close_connection = True


def conditional(i: int) -> Callable[[Handler], None]:
    body = rss([(f"f{i}-{guid}", title, when) for guid, title, when in TWO_ITEMS])
    etag = f'"f{i}-v1"'

    def route(h: Handler) -> None:
        if h.headers.get("If-None-Match") == etag:
            h.reply(304, headers={"ETag": etag})
        else:
            h.reply(200, body, headers={"ETag": etag})

    return route


async def one_cycle(
    feeds: Sequence[FeedConfig], sessions: sessionmaker[Session]
) -> dict[str, FeedPoll]:
    """As the pipeline does: one batch; each poll's entries marked seen once handled."""
    polls = {}
    async with Fetcher(SETTINGS, clock=lambda: NOW) as fetcher:
        async for poll in poll_feeds(
            feeds, fetcher=fetcher, sessions=sessions, settings=SETTINGS, now=NOW
        ):
            with transaction(sessions) as session:
                for entry in poll.entries:
                    mark_entry_seen(session=session, feed_url=poll.feed_url, entry=entry, now=NOW)
            polls[poll.feed_url] = poll
    return polls


def test_feeds_queued_behind_the_limit_keep_their_state(
    serve: Callable[[dict[str, Callable[[Handler], None]]], Server], sqlite_engine: Engine
) -> None:
    routes = {f"/feed/{i}.xml": conditional(i) for i in range(FEEDS)}
    server = serve({"/hangs.xml": hangs_until_the_client_gives_up, **routes})
    sessions = session_factory(sqlite_engine)
    # The hanging feed first: its poll takes the host's slot before the others ask for it.
    hanging = FeedConfig(url=server.url("/hangs.xml"))
    queued = [FeedConfig(url=server.url(path)) for path in routes]

    first = asyncio.run(one_cycle([hanging, *queued], sessions))
    # It held the slot for the whole deadline, so each other feed waited that long.
    assert "fetch.deadline" in (first.pop(hanging.url).error or "")
    assert {url: p.error for url, p in first.items() if p.error} == {}
    assert sorted(len(p.entries) for p in first.values()) == [2] * FEEDS

    server.hits.clear()
    second = asyncio.run(one_cycle(queued, sessions))
    sent = {path: headers.get("if-none-match") for path, headers in server.hits}
    assert sent == {f"/feed/{i}.xml": f'"f{i}-v1"' for i in range(FEEDS)}
    assert [p.status for p in second.values()] == [304] * FEEDS
    assert [e.entry_key for p in second.values() for e in p.entries] == []
