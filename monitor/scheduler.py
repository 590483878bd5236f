"""`monitor run`: APScheduler as a local timer around the pipeline.

APScheduler keeps its jobs in memory only: it never shares a job store between processes.
Replicas coordinate through the database instead: each tick a replica *claims* due feeds
(a lease on the feed row; SKIP LOCKED on PostgreSQL), so two replicas never poll the
same feed at once, and the outbox dispatcher leases alerts the same way.

Signals: SIGTERM/SIGINT stop cleanly (the current article finishes its transaction);
SIGHUP reloads the watchlists (an invalid edit is rejected and the old ones stay).
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import threading
import uuid
from collections.abc import Callable
from contextlib import suppress
from dataclasses import asdict
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from monitor.alert.dispatcher import DispatchReport
from monitor.alert.routes import route_health
from monitor.config import Config, current_watchlist_files
from monitor.errors import ConfigError
from monitor.extract.extractor import Extractor
from monitor.fetch.http import Fetcher
from monitor.fetch.settings import FeedConfig
from monitor.logs import RepeatedError
from monitor.metrics import POLL_LAST_SUCCESS, routes_known
from monitor.observe import UNOBSERVED, StageObserver
from monitor.pipeline import poll_cycle, processing_finished
from monitor.runtime import Runtime, dispatch, open_runtime, prune
from monitor.storage.db import transaction
from monitor.storage.feeds import (
    claim_due_feeds,
    console_feeds,
    feed_health,
    release_feed_leases,
    renew_feed_leases,
    sync_feeds,
)
from monitor.units import counted
from monitor.web.deps import Console
from monitor.web.server import WebServer
from monitor.web.status import StatusBoard

log = logging.getLogger(__name__)

# How often due feeds are claimed: a feed is polled within a second of its due time.
TICK = timedelta(seconds=1)
# Seconds in-flight polls get to finish on SIGTERM: under `docker stop`'s default 10 s.
STOP_GRACE = 5.0
# Alerts this process queues wake the dispatcher (and it sets a timer for any that come due
# later); this job looks at the outbox for the rest, e.g. what the console or a replica queued.
DISPATCH_EVERY = timedelta(seconds=5)
RELOAD_CHECK_EVERY = timedelta(seconds=30)
PRUNE_EVERY = timedelta(days=1)  # old article text and raw HTML (storage.retention)
CLAIM_BATCH = 200


class Service:
    """One replica: claims due feeds, processes them, dispatches alerts."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        # Host and pid for the operator, plus a random part: containers run with
        # --network host share the host's name and are each pid 1, and replicas sharing
        # an owner would take each other's feed leases for their own (and poll together).
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.stopping = asyncio.Event()
        self.polls: set[asyncio.Task[None]] = set()  # poll tasks running
        self.in_flight: set[str] = set()  # the URLs they poll
        self.dispatch_lock = threading.Lock()  # one dispatcher run at a time
        self.dispatch_waiting = False
        self.dispatching: asyncio.Future[None] | None = None  # the last run started by a wake-up
        self.loop: asyncio.AbstractEventLoop | None = None  # set once serving (or woken)
        self.wake_timer: asyncio.TimerHandle | None = None  # the next timed wake-up, if any
        self.next_wake_at: datetime | None = None  # when it fires (by the service's clock)
        # Each job's failures in a row: logged once with a traceback, then once a minute.
        self.failures = {name: RepeatedError(log, name) for name in ("poll", "dispatch", "prune")}
        self.board = StatusBoard(read=self._read_status, memory=self._memory, clock=rt.clock)
        self.watchlist_errors: list[str] = []  # why the files on disk are not in force
        self.config_seen = _file_signature(rt.config.path)  # monitor.yaml as read at start
        self.config_changed = False  # edited since: a restart is needed to apply it

    async def tick(self, fetcher: Fetcher, extractor: Extractor) -> None:
        """Claim the feeds that are due and poll them in a task of their own: a slow feed
        never holds back another feed's due poll."""
        try:
            # In a worker thread: the claim may wait for SQLite's write lock (an article
            # or a backlog being stored), which must not stall the loop's fetches.
            claimed = await asyncio.to_thread(self._claim_due, set(self.in_flight))
        except Exception as exc:  # the database is down, say: try again next tick
            self.failures["poll"].failed(exc)
            return
        POLL_LAST_SUCCESS.set(self.rt.clock().timestamp())
        # A feed still being polled here (a long one outliving its lease) is not polled
        # twice; read on the loop, where polls start and finish.
        feeds = [feed for feed in claimed if feed.url not in self.in_flight]
        if not feeds or self.stopping.is_set():  # stopped meanwhile: the leases run out
            return
        # One task per feed, its state written when it is done: a feed that takes minutes
        # holds back neither the others' alerts nor their next due poll.
        for feed in feeds:
            self.in_flight.add(feed.url)
            task = asyncio.create_task(self._poll(feed, fetcher, extractor))
            self.polls.add(task)
            task.add_done_callback(self.polls.discard)

    def _claim_due(self, in_flight: set[str]) -> list[FeedConfig]:
        settings = self.rt.config.settings
        lease = settings.fetch.deadline * 4 + TICK
        with transaction(self.rt.sessions) as session:
            # A feed's lease lasts until its entries are processed, not just downloaded
            # (its state is saved in between): renewed each tick while the poll runs, so
            # a long batch is not taken up and processed a second time by another replica,
            # and it runs out a lease after this replica dies.
            renew_feed_leases(session=session, owner=self.owner, urls=in_flight,
                              until=self.rt.clock() + lease)  # fmt: skip
            urls = claim_due_feeds(
                session=session, owner=self.owner, now=self.rt.clock(), limit=CLAIM_BATCH,
                lease=lease, configured={f.url for f in settings.feeds},
            )  # fmt: skip
            claimed = set(urls)
            configured = {f.url: f for f in settings.feeds if f.url in claimed}
            # Feeds added from the console are defined by their rows, read as they are
            # claimed: one added, paused or removed there counts from the next tick on.
            added = console_feeds(session=session, urls=[u for u in urls if u not in configured])
        known = {**configured, **{f.url: f for f in added}}
        return [known[url] for url in urls if url in known and not known[url].paused]

    async def _poll(self, feed: FeedConfig, fetcher: Fetcher, extractor: Extractor) -> None:
        settings = self.rt.config.settings
        try:
            reports = await poll_cycle(
                [feed],
                fetcher=fetcher,
                extractor=extractor,
                sessions=self.rt.sessions,
                fetch_settings=settings.fetch,
                stages=self.rt.stages,
                clock=self.rt.clock,
                alerted=self.wake_dispatcher,  # each alert goes out as soon as it is queued
                workers=extractor.workers,  # classification ahead, off the processing thread
            )
        except Exception as exc:
            self.failures["poll"].failed(exc)
            return
        finally:
            self.in_flight.discard(feed.url)
            # Shielded: a poll cut short at stop still hands its feed over at once.
            await asyncio.shield(self._release(feed.url))
        if not any(r.failed for r in reports):
            # articles that failed (each logged; e.g. the database dropped mid-poll) keep
            # the poll counted as failing: "works again" would be a false all-clear
            self.failures["poll"].succeeded()

    async def _release(self, url: str | None = None) -> None:
        """Give up this replica's lease on ``url`` (on every feed: None). Should the
        database not answer, the lease runs out by itself."""
        try:
            await asyncio.to_thread(self._release_leases, url)
        except Exception as exc:
            self.failures["poll"].failed(exc)

    def _release_leases(self, url: str | None) -> None:
        with transaction(self.rt.sessions) as session:
            urls = None if url is None else [url]
            release_feed_leases(session=session, owner=self.owner, urls=urls)

    def wake_dispatcher(self) -> None:
        """An alert was queued or comes due: send it now, not at the dispatcher's next run.
        Runs the dispatcher in a worker thread (it paces with sleeps), not awaited, so the
        poll that queued it carries on with its next article meanwhile. One run waiting
        behind a running one is enough: later wake-ups fold into it (it reads the outbox
        when it starts)."""
        if self.dispatch_waiting:
            return
        self.dispatch_waiting = True
        self.loop = asyncio.get_running_loop()
        self.dispatching = self.loop.run_in_executor(None, self._dispatch_next)

    def _dispatch_next(self) -> None:
        with self.dispatch_lock:
            self.dispatch_waiting = False
            wake = self._next_wake(self._dispatch_guarded())
        self._plan(wake)

    def _plan(self, wake: datetime | None) -> None:
        """Hand the next wake-up to the event loop (this runs in a worker thread)."""
        if wake is not None and self.loop is not None:
            with suppress(RuntimeError):  # the loop closed as the service stopped
                self.loop.call_soon_threadsafe(self._wake_at, wake)

    def _next_wake(self, report: DispatchReport | None) -> datetime | None:
        """When the outbox next has something to send, if a run made progress: a run that
        changed nothing (all failing, say) leaves the rest to the DISPATCH_EVERY job rather
        than wake itself again at once."""
        if report is None or report.errors:
            return None
        try:
            wake = self.rt.dispatcher.next_wake()
        except Exception as exc:
            self.failures["dispatch"].failed(exc)
            return None
        progress = report.sent + report.failed + report.skipped + report.retrying
        if wake is not None and wake <= self.rt.clock() and not progress:
            return None
        return wake

    def _wake_at(self, when: datetime) -> None:
        """Run the dispatcher at ``when`` (e.g. an update held until its story's first
        message is out, a retry, a channel's Retry-After); the DISPATCH_EVERY job covers
        anything further off, and alerts queued by other replicas or the console."""
        delay = wake_delay(when, now=self.rt.clock(), longest=DISPATCH_EVERY)
        if delay is None or self.stopping.is_set():
            return
        if self.wake_timer is not None and self.next_wake_at is not None:
            if self.next_wake_at <= when and not self.wake_timer.cancelled():
                return  # an earlier wake-up is armed; it arms the next one in turn
            self.wake_timer.cancel()
        self.next_wake_at = when
        self.wake_timer = asyncio.get_running_loop().call_later(delay, self._timer_fired)

    def _timer_fired(self) -> None:
        self.wake_timer = self.next_wake_at = None
        self.wake_dispatcher()

    async def finish_polls(self, grace: float) -> None:
        """On stop: in-flight polls get ``grace`` seconds to finish, then are cut short.
        Each article is its own transaction and a cut poll leaves its feed's unprocessed
        entries unseen (its validators unsent), so the next start fetches them again:
        nothing is lost, and a 200-entry batch does not outlast the container's stop timeout."""
        if not self.polls:
            return
        _, late = await asyncio.wait(set(self.polls), timeout=grace)
        if late:
            log.info(
                "stopping: %s cut short; their unprocessed entries come again next start",
                counted(len(late), "poll"),
            )
            await _cut_short(late)
        await processing_finished()  # the article being processed commits or rolls back

    def dispatch(self) -> None:
        """The DISPATCH_EVERY job: alerts queued elsewhere (the console, other replicas)."""
        with self.dispatch_lock:
            wake = self._next_wake(self._dispatch_guarded())
        self._plan(wake)

    def _dispatch_guarded(self) -> DispatchReport | None:
        try:
            report = dispatch(self.rt)
        except Exception as exc:
            self.failures["dispatch"].failed(exc)
            return None
        self.failures["dispatch"].succeeded()
        return report

    def prune(self) -> None:
        self._guarded("prune", self._prune)

    def _prune(self) -> None:
        report = prune(self.rt)
        if report.article_text.articles or report.raw_html.articles:
            log.info(
                "pruned old content",
                extra={"text_articles": report.article_text.articles,
                       "text_bytes": report.article_text.bytes,
                       "raw_html_articles": report.raw_html.articles,
                       "raw_html_bytes": report.raw_html.bytes},
            )  # fmt: skip

    def _guarded(self, job: str, work: Callable[[], object]) -> None:
        try:
            work()
        except Exception as exc:
            self.failures[job].failed(exc)
        else:
            self.failures[job].succeeded()

    def console(self) -> Console:
        """What the web console, /status and /metrics are served from."""
        settings = self.rt.config.settings
        routes_known(settings.alerts.routes)  # each route's counters served from 0
        return Console(
            settings=settings.web, sessions=self.rt.sessions, clock=self.rt.clock,
            alerts=settings.alerts, status=self.status,
            watchlist=lambda: self.rt.classifier.current.watchlist, paused=self._paused,
        )  # fmt: skip

    def _paused(self) -> dict[str, bool]:
        return {route: state != "ok" for route, state in self.rt.dispatcher.health().items()}

    def status(self) -> tuple[int, dict[str, Any]]:
        """/status: (HTTP status, body); 503 from memory while the database is unreachable."""
        return self.board.answer()

    def _read_status(self) -> dict[str, Any]:
        with transaction(self.rt.sessions) as session:  # database errors -> StorageError
            feeds = [asdict(h) for h in feed_health(session=session)]
            routes = route_health(
                session=session,
                settings=self.rt.config.settings.alerts,
                paused=self.rt.dispatcher.health(),
            )
        return {"feeds": feeds, "routes": routes}

    def _memory(self) -> dict[str, Any]:
        paused = {k: v for k, v in self.rt.dispatcher.health().items() if v != "ok"}
        return {
            "paused_routes": paused,
            "jobs": {name: failures.state() for name, failures in self.failures.items()},
            "watchlists": {"state": "rejected" if self.watchlist_errors else "ok",
                           "errors": self.watchlist_errors},
            "config": {"path": str(self.rt.config.path),
                       "changed_since_start": self.config_changed},
        }  # fmt: skip

    def reload_watchlists(self) -> None:
        """The RELOAD_CHECK_EVERY job: watchlist files that changed are reloaded (said
        either way: an edit taken up is logged as surely as one refused)."""
        self._check_config_file()
        try:
            files = current_watchlist_files(self.rt.config)
        except ConfigError as exc:  # a file was removed: keep the watchlists in force
            files = list(self.rt.config.watchlist_files)
            self._rejected(list(exc.errors))
        before = self.rt.classifier.current
        errors = self.rt.classifier.reload_if_changed(files)
        if errors:
            self._rejected(errors)
        elif self.rt.classifier.current is not before:
            self._reloaded()

    def force_reload(self) -> None:
        """SIGHUP: reload the watchlists whether or not their files changed."""
        self._check_config_file()
        errors = self.rt.classifier.reload()
        if errors:
            self._rejected(errors)
        else:
            self._reloaded()

    def _reloaded(self) -> None:
        self.watchlist_errors = []
        rules = len(self.rt.classifier.current.watchlist.rules)
        log.info("watchlists reloaded", extra={"rules": rules})

    def _rejected(self, errors: list[str]) -> None:
        self.watchlist_errors = errors
        for err in errors:
            log.error("watchlist reload rejected (the previous watchlists stay): %s", err)

    def _check_config_file(self) -> None:
        """monitor.yaml is read once, at start: an edit to it (a feed, a route) is said
        once, so an operator does not wait for a change that only a restart brings."""
        seen = _file_signature(self.rt.config.path)
        if seen == self.config_seen:
            return
        self.config_seen = seen
        self.config_changed = True
        log.warning(
            "%s changed on disk: its settings (feeds, routes, fetch, ...) take effect when "
            "monitor restarts; watchlist files reload by themselves",
            self.rt.config.path,
            extra={"config": str(self.rt.config.path)},
        )

    def jobs(
        self, fetcher: Fetcher, extractor: Extractor
    ) -> list[tuple[Callable[..., Any], timedelta, tuple[Any, ...]]]:
        """The scheduler's jobs: (what, how often, its arguments); each also runs at start."""
        return [
            (self.tick, TICK, (fetcher, extractor)),
            (self.dispatch, DISPATCH_EVERY, ()),
            (self.reload_watchlists, RELOAD_CHECK_EVERY, ()),
            (self.prune, PRUNE_EVERY, ()),
        ]

    async def serve(self) -> None:
        settings = self.rt.config.settings
        with transaction(self.rt.sessions) as session:
            sync_feeds(session=session, feeds=settings.feeds, now=self.rt.clock())
        loop = self.loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stopping.set)
        loop.add_signal_handler(signal.SIGHUP, self.force_reload)
        health = WebServer(self.console()) if settings.web.enabled else None
        if health:
            health.start()
        async with Fetcher(settings.fetch) as fetcher:
            extractor = Extractor(settings.extract, fetcher, observer=self.rt.stages.observer)
            await extractor.warm_up()
            scheduler = AsyncIOScheduler(timezone="UTC")
            for func, every, args in self.jobs(fetcher, extractor):
                # coalesce + one instance: a slow run is skipped, never stacked up.
                scheduler.add_job(
                    func,
                    "interval",
                    args=args,
                    seconds=every.total_seconds(),
                    next_run_time=self.rt.clock(),
                    max_instances=1,
                    coalesce=True,
                )
            scheduler.start()
            log.info("monitor running", extra={"feeds": len(settings.feeds), "owner": self.owner})
            await self.stopping.wait()
            log.info("stopping: finishing current work")
            scheduler.shutdown(wait=False)
            if self.wake_timer is not None:
                self.wake_timer.cancel()
            await self.finish_polls(STOP_GRACE)
            await self._release()  # claimed but not started: the next replica takes them
            extractor.close()
        if health:
            health.stop()
        self.dispatch()


def _file_signature(path: Path) -> tuple[int, int] | None:
    """(modification time, size) of ``path``; None when it cannot be read."""
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size


def wake_delay(when: datetime, *, now: datetime, longest: timedelta) -> float | None:
    """Seconds until ``when`` (0 when it has passed); None when it is ``longest`` or more
    away, which the periodic job reaches first anyway."""
    delay = (when - now).total_seconds()
    if delay >= longest.total_seconds():
        return None
    return max(0.0, delay)


async def _cut_short(polls: set[asyncio.Task[None]]) -> None:
    for task in polls:
        task.cancel()
    await asyncio.wait(polls)


def run_forever(config: Config, db_url: str, *, observer: StageObserver = UNOBSERVED) -> None:
    """``observer``: told as each stage of each entry starts and ends (monitor/observe.py)."""
    rt = open_runtime(config, db_url, observer=observer)
    # A route Slack refuses (a revoked token) is the route's problem, not the service's:
    # it is paused and says what to fix, while polling, storing and other routes go on.
    # Exiting would only be a crash loop under a restart policy, with every feed stopped.
    for problem in rt.verify_routes():
        rt.dispatcher.pause_route(problem.route, problem.error, problem.code)
    rt.warm_up()
    try:
        asyncio.run(Service(rt).serve())
    finally:
        rt.close()
