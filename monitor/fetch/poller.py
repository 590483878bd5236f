"""Poll one feed: conditional GET -> parse -> drop entries already seen -> record state.

A feed with more new entries than one poll's budget keeps the rest as a stored backlog;
its next polls hand that out, oldest first, without downloading the feed again.

Reads like the pipeline it serves. Never raises for a bad feed: every failure becomes the
feed's `last_error` and an exponential backoff, and the other feeds carry on.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import multiprocessing
from collections import deque
from collections.abc import AsyncGenerator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy.orm import Session, sessionmaker

from monitor.errors import FetchError, MonitorError
from monitor.fetch import schedule
from monitor.fetch.http import Fetcher, FetchResult, HostDeferred
from monitor.fetch.parse import ParsedFeed, parse_feed
from monitor.fetch.settings import FeedConfig, FetchSettings
from monitor.observe import POLL, UNOBSERVED, StageObserver
from monitor.storage.backlog import store_backlog, take_backlog
from monitor.storage.db import transaction
from monitor.storage.feeds import (
    FeedState,
    load_feed_states,
    save_feed_states,
    seen_entries,
    unseen_pending,
)
from monitor.types import FeedEntry
from monitor.units import counted

log = logging.getLogger(__name__)

# Bodies up to this size are parsed in a worker thread (milliseconds); a bigger one (50,000
# items come to ~6.6 MB, a minute of feedparser on a loaded machine) in a process of its
# own: in a thread it holds the GIL, and the event loop, queued for the GIL at each socket
# call, crawled for every other feed meanwhile (fetches of 0.1 s took 4-5 s).
_INLINE_BODY = 256 * 1024
# Backlog rows stored per transaction: each commit lets the loop's claims and state writes
# and the processing thread's articles take SQLite's write lock in between (a 50,000-entry
# backlog in one transaction held it for seconds).
_BACKLOG_BATCH = 1000


@dataclass(frozen=True)
class FeedPoll:
    feed_url: str  # configured URL (the feed's identity)
    entries: tuple[FeedEntry, ...]  # entries never seen before, oldest first
    status: int | None
    error: str | None  # human-readable, None on success/304
    warning: str | None = None  # recovered parse problem (e.g. wrong charset declaration)
    from_backlog: bool = False  # entries from the stored backlog: nothing was downloaded
    backlog: int = 0  # entries still waiting in the stored backlog after this poll


@dataclass(frozen=True)
class _Poll:
    """What one attempt did to the feed's state, and what it returns."""

    state: FeedState
    entries: tuple[FeedEntry, ...] = ()
    error: str | None = None
    from_backlog: bool = False


async def poll_feed(
    feed: FeedConfig,
    *,
    fetcher: Fetcher,
    sessions: sessionmaker[Session],
    settings: FetchSettings,
    now: datetime,
) -> FeedPoll:
    """Poll one feed (the batched ``poll_feeds`` with a batch of one)."""
    # Drained to the end, so the state is written before this returns.
    polls = [p async for p in poll_feeds([feed], fetcher=fetcher, sessions=sessions,
                                         settings=settings, now=now)]  # fmt: skip
    return polls[0]


async def poll_feeds(
    feeds: Sequence[FeedConfig],
    *,
    fetcher: Fetcher,
    sessions: sessionmaker[Session],
    settings: FetchSettings,
    now: datetime,
    observer: StageObserver = UNOBSERVED,
) -> AsyncGenerator[FeedPoll, None]:
    """Poll many feeds concurrently; yield each ``FeedPoll`` as soon as it is ready.

    Use ``async with contextlib.aclosing(poll_feeds(...)) as polls`` when the loop may stop
    early, so the states are written at once rather than whenever the generator is collected.
    States are read in one transaction up front and written in one at the end (also when
    the caller stops early). Handing entries out before the state is written is safe: until
    it is, the next poll sends the old validators and gets the new entries again, and those
    already marked seen are dropped.

    ``fetch.concurrency`` workers take the feeds in order: no more polls are under way than
    the fetcher lets download at once anyway, so a batch of thousands holds a few dozen
    polls' worth of memory rather than a task per feed (issue 15).
    """
    feeds = list({feed.url: feed for feed in feeds}.values())  # one poll per feed
    # Database work runs in worker threads throughout: waiting there for SQLite's write
    # lock (held by a backlog being stored or an article being processed) stalls one
    # feed's poll, not the event loop every feed's fetches run on.
    states = await asyncio.to_thread(_load_states, sessions, feeds, now)
    done: list[FeedState] = []
    # Results travel through a queue, not task results, so a handled poll can be let go.
    ready: asyncio.Queue[tuple[FeedPoll, FeedState | None]] = asyncio.Queue()
    waiting = deque(feeds)

    async def work() -> None:
        while waiting:
            feed = waiting.popleft()
            try:
                observer.started(POLL, feed.url)
                polled = await _poll(feed, states[feed.url], fetcher, sessions, settings, now)
                observer.ended(POLL, feed.url, entries=[e.url for e in polled[0].entries])
                ready.put_nowait(polled)
            except BaseException as exc:  # cancelled from outside: still one poll per feed
                for left in (feed, *waiting):  # those not started are not polled now either
                    ready.put_nowait((_interrupted(left, exc), None))
                waiting.clear()
                raise

    workers = [asyncio.ensure_future(work()) for _ in range(min(settings.concurrency, len(feeds)))]
    try:
        for _ in feeds:
            poll, state = await ready.get()
            if state is not None:
                done.append(state)
            yield poll
    finally:
        for worker in workers:
            worker.cancel()
        if done:
            # Shielded: cancelled again meanwhile (a stop cutting polls short), the states
            # are still written; the thread finishes the transaction either way.
            await asyncio.shield(asyncio.to_thread(_save_states, sessions, done))


def _load_states(
    sessions: sessionmaker[Session], feeds: Sequence[FeedConfig], now: datetime
) -> dict[str, FeedState]:
    with transaction(sessions) as session:
        states = load_feed_states(session=session, feeds=feeds, now=now)
        return _checked_pending(session, states)


def _save_states(sessions: sessionmaker[Session], states: Sequence[FeedState]) -> None:
    with transaction(sessions) as session:
        save_feed_states(session=session, states=states)


def _interrupted(feed: FeedConfig, exc: BaseException) -> FeedPoll:
    return FeedPoll(feed.url, (), None, f"poll interrupted: {exc!r}")


async def _poll(
    feed: FeedConfig, state: FeedState, fetcher: Fetcher,
    sessions: sessionmaker[Session], settings: FetchSettings, now: datetime,
) -> tuple[FeedPoll, FeedState | None]:  # fmt: skip
    """The feed's poll and its new state (None: nothing to write)."""
    if feed.paused or state.gone:
        return FeedPoll(feed.url, (), state.last_status, _idle_reason(state)), None
    try:
        poll = await _attempt(feed, state, fetcher, sessions, settings, now)
    except MonitorError as exc:  # storage trouble is not the feed's fault: report, keep state
        log.warning("poll failed: %s", exc, extra={"feed_url": feed.url})
        return FeedPoll(feed.url, (), state.last_status, f"{type(exc).__name__}: {exc}"), None
    except Exception as exc:  # a parser bug on one feed must not stop the others
        log.exception("poll failed unexpectedly", extra={"feed_url": feed.url})
        poll = _failed(feed, state, settings, now, f"internal error: {exc!r}", None)
    if poll.error:
        log.warning("feed error: %s", poll.error, extra={"feed_url": feed.url})
    return FeedPoll(feed.url, poll.entries, poll.state.last_status, poll.error,
                    poll.state.last_warning, poll.from_backlog,
                    poll.state.backlog), poll.state  # fmt: skip


def _checked_pending(session: Session, states: dict[str, FeedState]) -> dict[str, FeedState]:
    """Forget the validators while entries handed out last time are still unseen.

    The pipeline marks each entry seen in the transaction that processes it; if it crashed
    first, a conditional GET would get a 304 and the entry would be lost. Fetching the
    body again instead hands the unseen entries out once more.
    """
    pending = {url: state.pending_keys for url, state in states.items() if state.pending_keys}
    unseen = unseen_pending(session=session, pending=pending)
    checked = dict(states)
    for url in pending:
        if unseen.get(url):
            checked[url] = replace(states[url], etag=None, last_modified=None, body_hash=None)
        else:
            checked[url] = replace(states[url], pending_keys=())
    return checked


def _idle_reason(state: FeedState) -> str | None:
    if state.gone:
        return f"feed is gone (HTTP 410 at {state.last_attempt_at}); not polled any more"
    return None  # paused on purpose: not an error


async def _attempt(
    feed: FeedConfig, state: FeedState, fetcher: Fetcher,
    sessions: sessionmaker[Session], settings: FetchSettings, now: datetime,
) -> _Poll:  # fmt: skip
    if state.backlog:  # stored entries first: the feed is downloaded once they are handed out
        taken = await asyncio.to_thread(_from_backlog, feed, state, sessions, settings, now)
        if taken is not None:
            return taken
        state = replace(state, backlog=0)
    try:
        result = await fetcher.get(
            state.url, etag=state.etag, last_modified=state.last_modified, headers=feed.headers
        )
    except HostDeferred as exc:
        # The host, not this feed, is rate-limited: wait without counting an error.
        return _Poll(replace(state, next_poll_at=exc.until, last_attempt_at=now), (), str(exc))
    except FetchError as exc:
        return _failed(feed, state, settings, now, str(exc), None)
    if result.status in (200, 203, 304) and (moved := result.permanent_redirect()):
        state = replace(state, url=moved)  # 301/308 all the way: the feed has moved
    if result.status == 304:
        return _unchanged(feed, state, settings, now, result)
    if result.status == 410:
        return _Poll(_gone(state, now), (), "HTTP 410 Gone: the feed was removed; polling stopped")
    if not 200 <= result.status < 300:
        retry = result.retry_after(now, cap=settings.max_retry_after)
        retry = retry if result.status in (429, 503) else None
        return _failed(feed, state, settings, now, _http_error(result), result.status, retry)
    return await asyncio.to_thread(_changed, feed, state, sessions, settings, now, result)


def _changed(
    feed: FeedConfig, state: FeedState, sessions: sessionmaker[Session],
    settings: FetchSettings, now: datetime, result: FetchResult,
) -> _Poll:  # fmt: skip
    body_hash = hashlib.sha256(result.content).hexdigest()
    if body_hash == state.body_hash:  # same bytes as last time: nothing to parse
        return _unchanged(feed, state, settings, now, result)
    try:
        parsed = _parse(result, feed)
    except FetchError as exc:
        return _failed(feed, state, settings, now, str(exc), result.status)
    with transaction(sessions) as session:
        seen = seen_entries(session=session, feed_url=feed.url, entries=parsed.entries)
    new = tuple(e for e in parsed.entries if e.entry_key not in seen)
    budget = settings.max_entries_per_poll
    handed, rest = new[:budget], new[budget:]
    state = _parsed(feed, state, settings, now, result, parsed)
    state = replace(_validators(result, state), body_hash=body_hash,
                    pending_keys=tuple(e.entry_key for e in handed))  # fmt: skip
    if rest:
        state = _carried_over(feed, state, sessions, settings, now, rest)
    return _Poll(state, handed)


def _parse(result: FetchResult, feed: FeedConfig) -> ParsedFeed:
    """The feed's entries; a big body is parsed in the parser process (see _INLINE_BODY)."""
    if len(result.content) <= _INLINE_BODY:
        return parse_feed(result, feed_url=feed.url, source=feed.name)
    try:
        job = _parser().submit(parse_feed, result, feed_url=feed.url, source=feed.name)
        return job.result()
    except BrokenProcessPool as exc:  # the parser died (out of memory, say): a new one next time
        _parser.cache_clear()
        raise FetchError(f"the feed parser process died parsing this feed: {exc}") from exc


@cache
def _parser() -> ProcessPoolExecutor:
    """The process big bodies are parsed in, started on first need. One: big bodies are
    rare, and two at once would only share the same CPUs. A new process (a fork of the
    forkserver, ~60 MB RSS idle) for each body: one that parsed 50,000 items would keep
    that peak for as long as the service runs."""
    method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    return ProcessPoolExecutor(
        1, mp_context=multiprocessing.get_context(method), max_tasks_per_child=1
    )


def _carried_over(
    feed: FeedConfig, state: FeedState, sessions: sessionmaker[Session],
    settings: FetchSettings, now: datetime, rest: tuple[FeedEntry, ...],
) -> FeedState:  # fmt: skip
    """Entries beyond the budget are stored as the feed's backlog, due after min_interval.

    The validators are kept: once the backlog is handed out the feed is polled as usual.
    Entries beyond the backlog's cap are not stored but not lost either: the validators
    and body hash are dropped, so the poll after the backlog downloads the whole feed
    again and hands them out then (if the feed still lists them).
    """
    stored = rest[: settings.max_backlog_per_feed]
    for begin in range(0, len(stored), _BACKLOG_BATCH):
        # Batches committed one by one: a crash part-way leaves a shorter backlog, handed
        # out first; the validators are not saved yet, so the download after it brings
        # the entries that were not stored (those already seen are dropped).
        with transaction(sessions) as session:
            size = store_backlog(session=session, feed_url=feed.url, now=now,
                                 entries=stored[begin : begin + _BACKLOG_BATCH])  # fmt: skip
        state = replace(state, backlog=size)
    new = counted(len(stored), "new entry", "new entries")
    notes = [f"{new} beyond fetch.max_entries_per_poll "
             f"({settings.max_entries_per_poll}) stored as the feed's backlog"]  # fmt: skip
    if left := len(rest) - len(stored):
        # Imported here: the Prometheus client (~1 MB) is not otherwise needed by a poll.
        from monitor.metrics import BACKLOG_CAP_HITS

        BACKLOG_CAP_HITS.inc()
        log.warning(
            "feed backlog full: %s beyond fetch.max_backlog_per_feed (%d) left in the feed, to "
            "be downloaded again once the stored backlog is handed out",
            counted(left, "entry", "entries"), settings.max_backlog_per_feed,
            extra={"feed_url": feed.url, "stored": len(stored), "left_in_feed": left},
        )  # fmt: skip
        notes.append(f"{left} more beyond fetch.max_backlog_per_feed "
                     f"({settings.max_backlog_per_feed}) left in the feed for a later "
                     "download")  # fmt: skip
        state = replace(state, etag=None, last_modified=None, body_hash=None)
    warning = "; ".join(filter(None, [state.last_warning, *notes]))
    return replace(state, next_poll_at=_soon(feed, settings, now), last_warning=warning)


def _from_backlog(
    feed: FeedConfig, state: FeedState, sessions: sessionmaker[Session],
    settings: FetchSettings, now: datetime,
) -> _Poll | None:  # fmt: skip
    """The oldest stored entries, up to the budget; None when the backlog is empty."""
    with transaction(sessions) as session:
        entries, left = take_backlog(session=session, feed_url=feed.url,
                                     limit=settings.max_entries_per_poll)  # fmt: skip
    if not entries:
        return None
    keys = tuple(e.entry_key for e in entries)
    state = replace(state, pending_keys=keys, backlog=left, last_attempt_at=now)
    if left:
        note = f"{counted(left, 'entry', 'entries')} waiting in the feed's stored backlog"
        state = replace(state, next_poll_at=_soon(feed, settings, now), last_warning=note)
    else:  # the last of it: the next poll downloads the feed (conditionally) as usual
        when = schedule.next_poll(key=feed.url, now=now, settings=settings,
                                  delay=_interval(feed, state, settings, now))  # fmt: skip
        state = replace(state, next_poll_at=when, last_warning=None)
    return _Poll(state, entries, from_backlog=True)


def _soon(feed: FeedConfig, settings: FetchSettings, now: datetime) -> datetime:
    """When a feed with entries still waiting is polled again: after min_interval."""
    soonest = now + settings.min_interval
    return schedule.next_poll(key=feed.url, now=now, delay=settings.min_interval,
                              settings=settings, not_before=soonest)  # fmt: skip


def _parsed(
    feed: FeedConfig, state: FeedState, settings: FetchSettings, now: datetime,
    result: FetchResult, parsed: ParsedFeed,
) -> FeedState:  # fmt: skip
    interval = schedule.base_interval(feed, settings, [e.published for e in parsed.entries], now)
    state = replace(state, title=parsed.title or state.title, last_warning=parsed.warning,
                    interval_seconds=int(interval.total_seconds()))  # fmt: skip
    return _succeeded(feed, state, settings, now, result.status)


def _unchanged(
    feed: FeedConfig, state: FeedState, settings: FetchSettings, now: datetime, result: FetchResult
) -> _Poll:
    state = _validators(result, state)
    return _Poll(_succeeded(feed, state, settings, now, result.status))


def _validators(result: FetchResult, state: FeedState) -> FeedState:
    """ETag and Last-Modified exactly as received; a 304 may omit them (keep the old ones)."""
    if result.status == 304:
        etag = result.headers.get("etag", state.etag)
        modified = result.headers.get("last-modified", state.last_modified)
    else:
        etag, modified = result.headers.get("etag"), result.headers.get("last-modified")
    return replace(state, etag=etag, last_modified=modified)


def _interval(
    feed: FeedConfig, state: FeedState, settings: FetchSettings, now: datetime
) -> timedelta:
    if state.interval_seconds and feed.interval is None and settings.adaptive:
        return schedule.clamp(timedelta(seconds=state.interval_seconds), settings)
    return schedule.base_interval(feed, settings, [], now)


def _succeeded(
    feed: FeedConfig, state: FeedState, settings: FetchSettings, now: datetime, status: int
) -> FeedState:
    slot = schedule.next_slot(key=feed.url, now=now, interval=_interval(feed, state, settings, now))
    when = schedule.next_poll(key=feed.url, now=now, delay=slot - now, settings=settings)
    return replace(state, last_status=status, last_attempt_at=now, last_success_at=now,
                   consecutive_errors=0, last_error=None, next_poll_at=when)  # fmt: skip


def _failed(
    feed: FeedConfig, state: FeedState, settings: FetchSettings, now: datetime,
    error: str, status: int | None, retry_after: datetime | None = None,
) -> _Poll:  # fmt: skip
    errors = state.consecutive_errors + 1
    delay = schedule.backoff(errors, _interval(feed, state, settings, now), settings)
    when = schedule.next_poll(key=feed.url, now=now, delay=delay, settings=settings,
                              not_before=retry_after)  # fmt: skip
    state = replace(state, last_status=status, last_attempt_at=now, consecutive_errors=errors,
                    last_error=error, next_poll_at=when)  # fmt: skip
    return _Poll(state, (), error)


def _gone(state: FeedState, now: datetime) -> FeedState:
    error = "HTTP 410 Gone: the publisher removed this feed; polling stopped"
    return replace(state, gone=True, last_status=410, last_attempt_at=now, next_poll_at=None,
                   last_error=error)  # fmt: skip


def _http_error(result: FetchResult) -> str:
    reason = {404: "Not Found", 429: "Too Many Requests", 503: "Service Unavailable"}
    text = reason.get(result.status, "")
    return f"HTTP {result.status}{' ' + text if text else ''} from {result.url}"
