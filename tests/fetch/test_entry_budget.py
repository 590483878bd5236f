"""Defect #2: one feed with a huge backlog is worked off in budgeted polls, downloaded once.

A poll hands on at most fetch.max_entries_per_poll new entries, oldest first; the rest are
stored (as parsed) as the feed's backlog, and the following polls (each due after
min_interval) hand that out without downloading the feed again: none lost, none repeated,
while a feed polled in the same batch is unaffected. Run on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from monitor.errors import NotAFeedError
from monitor.fetch.http import Fetcher
from monitor.fetch.poller import FeedPoll, poll_feeds
from monitor.fetch.settings import FeedConfig, FetchSettings
from monitor.metrics import BACKLOG_CAP_HITS
from monitor.storage.db import transaction
from monitor.storage.feeds import mark_entry_seen
from monitor.storage.models import BacklogEntry, Entry, Feed

from .conftest import TWO_ITEMS, Handler, Server, rss

SETTINGS = FetchSettings(allow_private_addresses=True, jitter=0, adaptive=False)
NOW = datetime(2020, 3, 12, 22, 0, tzinfo=UTC)
ITEMS = 1000
ALL_KEYS = [f"big-{n:04d}" for n in range(ITEMS)]
# The other cases at a fifth of the size (marking entries seen is what takes the time).
SMALL = SETTINGS.model_copy(update={"max_entries_per_poll": 50})
SMALL_KEYS = ALL_KEYS[:250]
Serve = Callable[[dict[str, Callable[[Handler], None]]], Server]


def conditional(body: bytes, etag: str) -> Callable[[Handler], None]:
    def route(h: Handler) -> None:
        if h.headers.get("If-None-Match") == etag:
            h.reply(304, headers={"ETag": etag})
        else:
            h.reply(200, body, headers={"ETag": etag})

    return route


def big_feed(items: int = ITEMS) -> bytes:
    """``items`` items, newest first, one a minute."""
    start = datetime(2020, 3, 1, tzinfo=UTC)
    return rss(
        [(f"big-{n:04d}", f"Report {n}", format_datetime(start + timedelta(minutes=n),
                                                         usegmt=True))
         for n in range(items - 1, -1, -1)]
    )  # fmt: skip


async def cycle(
    feeds: list[FeedConfig], sessions: sessionmaker[Session], now: datetime,
    settings: FetchSettings = SETTINGS, *, process: bool = True,
) -> dict[str, FeedPoll]:  # fmt: skip
    """One batch; every entry handed on is processed (marked seen), as the pipeline does."""
    polls = {}
    async with Fetcher(settings, clock=lambda: now) as fetcher:
        async for poll in poll_feeds(
            feeds, fetcher=fetcher, sessions=sessions, settings=settings, now=now
        ):
            with transaction(sessions) as session:
                for entry in poll.entries if process else ():
                    mark_entry_seen(session=session, feed_url=poll.feed_url, entry=entry, now=now)
            polls[poll.feed_url] = poll
    return polls


def row(sessions: sessionmaker[Session], url: str) -> Feed:
    with sessions() as session:
        return session.scalars(select(Feed).where(Feed.configured_url == url)).one()


def count(sessions: sessionmaker[Session], table: type[Entry] | type[BacklogEntry]) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(table)) or 0


def downloads(server: Server, path: str = "/big.xml") -> int:
    """Requests for the feed that were not conditional (the server answered in full)."""
    return sum(1 for p, headers in server.hits if p == path and "if-none-match" not in headers)


def work_off(
    feed: FeedConfig, sessions: sessionmaker[Session], now: datetime,
    settings: FetchSettings = SETTINGS, skip_round: int | None = None,
) -> tuple[list[str], int, FeedPoll]:  # fmt: skip
    """Poll ``feed`` whenever due until a poll hands out nothing: (keys handed, rounds, last)."""
    handed: list[str] = []
    rounds = 0
    while True:
        poll = asyncio.run(cycle([feed], sessions, now, settings,
                                 process=rounds + 1 != skip_round))[feed.url]  # fmt: skip
        if not poll.entries:
            return handed, rounds, poll
        rounds += 1
        assert len(poll.entries) <= settings.max_entries_per_poll
        if rounds != skip_round:
            handed += [e.entry_key for e in poll.entries]
        state = row(sessions, feed.url)
        assert state.next_poll_at is not None
        if state.backlog:  # entries still wait: due again after min_interval
            assert state.next_poll_at == now + settings.min_interval
        now = state.next_poll_at


def test_a_thousand_entries_are_handed_out_over_five_polls_from_one_download(
    serve: Serve, sessions: sessionmaker[Session]
) -> None:
    server = serve({"/big.xml": conditional(big_feed(), '"big"'),
                    "/small.xml": conditional(rss(TWO_ITEMS), '"small"')})  # fmt: skip
    big, small = FeedConfig(url=server.url("/big.xml")), FeedConfig(url=server.url("/small.xml"))

    first = asyncio.run(cycle([big, small], sessions, NOW))
    # The other feed of the batch gets all its entries and its usual schedule.
    assert [e.entry_key for e in first[small.url].entries] == ["id-1", "id-2"]
    due = row(sessions, small.url).next_poll_at
    assert due is not None and NOW < due <= NOW + SETTINGS.interval  # its own next slot
    # The big feed: the oldest 200 now, the other 800 stored as parsed, validators kept.
    assert [e.entry_key for e in first[big.url].entries] == ALL_KEYS[:200]
    state = row(sessions, big.url)
    assert (state.backlog, count(sessions, BacklogEntry)) == (800, 800)
    assert state.etag == '"big"' and "800 new entries" in (state.last_warning or "")
    assert first[big.url].backlog == 800 and not first[big.url].from_backlog

    rest, rounds, last = work_off(big, sessions, state.next_poll_at or NOW)
    assert rounds == 4 and ALL_KEYS[:200] + rest == ALL_KEYS  # oldest first, each once
    assert downloads(server) == 1  # was 5: the feed downloaded and parsed on every poll
    # Backlog gone: the next poll is conditional and the server has nothing new.
    assert last.status == 304 and not last.from_backlog
    assert server.hits[-1][1].get("if-none-match") == '"big"'
    assert count(sessions, BacklogEntry) == 0 and count(sessions, Entry) == ITEMS + 2


def test_a_full_backlog_leaves_the_rest_in_the_feed_for_a_later_download(
    serve: Serve, sessions: sessionmaker[Session], caplog: pytest.LogCaptureFixture
) -> None:
    server = serve({"/big.xml": conditional(big_feed(250), '"big"')})
    feed = FeedConfig(url=server.url("/big.xml"))
    capped = SMALL.model_copy(update={"max_backlog_per_feed": 75})
    hits = BACKLOG_CAP_HITS._value.get()

    with caplog.at_level(logging.WARNING, logger="monitor.fetch.poller"):
        handed, rounds, last = work_off(feed, sessions, NOW, capped)

    assert handed == SMALL_KEYS and rounds == 6  # 50 | 50 25 | 50 (full download) | 50 25
    assert downloads(server) == 2  # the 125 left in the feed came with a second download
    assert last.status == 304
    full = [r for r in caplog.records if r.getMessage().startswith("feed backlog full")]
    assert len(full) == 1 and "125 entries beyond fetch.max_backlog_per_feed (75)" in (
        full[0].getMessage()
    )
    assert BACKLOG_CAP_HITS._value.get() == hits + 1
    assert count(sessions, BacklogEntry) == 0


def test_entries_handed_out_from_the_backlog_but_not_processed_come_again(
    serve: Serve, sessions: sessionmaker[Session]
) -> None:
    """A crash after a backlog poll: the feed is downloaded again in full once it is empty."""
    server = serve({"/big.xml": conditional(big_feed(250), '"big"')})
    feed = FeedConfig(url=server.url("/big.xml"))

    handed, _rounds, last = work_off(feed, sessions, NOW, SMALL, skip_round=2)

    assert sorted(handed) == SMALL_KEYS and len(handed) == 250  # none lost, none repeated
    assert handed[200:] == SMALL_KEYS[50:100]  # the lost round, after the rest of the backlog
    assert downloads(server) == 2 and last.status == 304
    assert count(sessions, Entry) == 250


def test_no_stored_backlog_downloads_the_feed_on_every_poll(
    serve: Serve, sessions: sessionmaker[Session]
) -> None:
    server = serve({"/big.xml": conditional(big_feed(250), '"big"')})
    feed = FeedConfig(url=server.url("/big.xml"))
    unstored = SMALL.model_copy(update={"max_backlog_per_feed": 0})

    handed, rounds, _last = work_off(feed, sessions, NOW, unstored)

    assert handed == SMALL_KEYS and rounds == 5 and downloads(server) == 5


def test_the_budgets_are_validated() -> None:
    with pytest.raises(
        ValidationError, match=r"max_entries_per_poll\n.*greater than or equal to 1"
    ):
        FetchSettings(max_entries_per_poll=0)
    with pytest.raises(
        ValidationError, match=r"max_backlog_per_feed\n.*greater than or equal to 0"
    ):
        FetchSettings(max_backlog_per_feed=-1)


class InlineExecutor(Executor):
    """Stands in for the parser process: runs each job at once, recording what it got."""

    def __init__(self) -> None:
        self.bodies: list[int] = []

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        self.bodies.append(len(args[0].content))
        future: Future[Any] = Future()
        future.set_result(fn(*args, **kwargs))
        return future


def test_a_big_body_is_parsed_in_the_parser_process_and_none_on_the_event_loop(
    serve: Serve, sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Seconds of feedparser on the loop would hold up every other feed's polls, and in a
    thread it holds the GIL the loop needs at every socket call: a big body goes to the
    parser process, a small one is parsed in a worker thread."""
    from monitor.fetch import poller

    on_loop: dict[int, bool] = {}
    parse = poller.parse_feed

    def recording(result: Any, **kwargs: Any) -> Any:
        on_loop[len(result.content)] = threading.current_thread() is threading.main_thread()
        return parse(result, **kwargs)

    process = InlineExecutor()
    monkeypatch.setattr(poller, "parse_feed", recording)
    monkeypatch.setattr(poller, "_parser", lambda: process)
    big, small = big_feed(ITEMS * 2), rss(TWO_ITEMS)
    server = serve({"/big.xml": conditional(big, '"big"'),
                    "/small.xml": conditional(small, '"small"')})  # fmt: skip
    feeds = [FeedConfig(url=server.url("/big.xml")), FeedConfig(url=server.url("/small.xml"))]

    polls = asyncio.run(cycle(feeds, sessions, NOW, process=False))

    assert len(big) > 256 * 1024 > len(small)
    assert process.bodies == [len(big)]  # the small one never goes to the process
    assert on_loop == {len(big): False, len(small): False}
    assert len(polls[feeds[0].url].entries) == SETTINGS.max_entries_per_poll


def test_the_parser_process_reads_a_feed_as_the_poller_would() -> None:
    """The parser process's answer crosses the process boundary whole (and its errors)."""
    from monitor.fetch.http import FetchResult
    from monitor.fetch.parse import parse_feed
    from monitor.fetch.poller import _parser

    result = FetchResult("http://127.0.0.1/big.xml", 200,
                         {"content-type": "application/rss+xml"}, big_feed(300))  # fmt: skip
    job = _parser().submit(parse_feed, result, feed_url=result.url, source="Wire")
    assert job.result(timeout=120) == parse_feed(result, feed_url=result.url, source="Wire")
    html = FetchResult(result.url, 200, {"content-type": "text/html"}, b"<html><body>x")
    with pytest.raises(NotAFeedError, match="HTML page"):
        _parser().submit(parse_feed, html, feed_url=html.url).result(timeout=120)


def test_no_database_call_of_a_poll_runs_on_the_event_loop(
    serve: Serve, sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Waiting for SQLite's write lock on the loop stalled every feed's fetches: state read
    and written, entries checked, backlog stored and taken, all in worker threads."""
    from monitor.fetch import poller

    opened: list[tuple[str, bool]] = []
    inner = poller.transaction

    def recording(factory: sessionmaker[Session]) -> Any:
        caller = sys._getframe(1).f_code.co_name
        opened.append((caller, threading.current_thread() is threading.main_thread()))
        return inner(factory)

    monkeypatch.setattr(poller, "transaction", recording)
    server = serve({"/big.xml": conditional(big_feed(250), '"big"'),
                    "/small.xml": conditional(rss(TWO_ITEMS), '"small"')})  # fmt: skip
    feeds = [FeedConfig(url=server.url("/big.xml")), FeedConfig(url=server.url("/small.xml"))]

    asyncio.run(cycle(feeds, sessions, NOW, SMALL))  # downloads, stores the backlog
    asyncio.run(cycle(feeds[:1], sessions, NOW + SMALL.min_interval, SMALL))  # takes from it

    callers = {caller for caller, _ in opened}
    assert {"_load_states", "_save_states", "_changed", "_carried_over",
            "_from_backlog"} <= callers  # fmt: skip
    assert not [caller for caller, loop in opened if loop]


def test_a_big_backlog_is_stored_in_batches_each_committed(
    serve: Serve, sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each batch its own transaction (the write lock is free between them); the backlog
    is still handed out whole, oldest first, each entry once."""
    from monitor.fetch import poller

    batches: list[int] = []
    store = poller.store_backlog

    def recording(**kwargs: Any) -> int:
        batches.append(len(kwargs["entries"]))
        size: int = store(**kwargs)
        assert size == sum(batches)  # what the batches before it stored is there
        return size

    monkeypatch.setattr(poller, "store_backlog", recording)
    monkeypatch.setattr(poller, "_BACKLOG_BATCH", 80)
    server = serve({"/big.xml": conditional(big_feed(250), '"big"')})
    feed = FeedConfig(url=server.url("/big.xml"))

    handed, rounds, _last = work_off(feed, sessions, NOW, SMALL)

    assert batches == [80, 80, 40]  # 200 beyond the first poll's 50
    assert handed == SMALL_KEYS and rounds == 5 and downloads(server) == 1
