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
from collections.abc import Callable
from dataclasses import asdict
from datetime import timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from monitor.alert.routes import route_health
from monitor.config import Config, current_watchlist_files
from monitor.errors import ConfigError, NotifyError
from monitor.extract.extractor import Extractor
from monitor.fetch.http import Fetcher
from monitor.logs import RepeatedError
from monitor.pipeline import poll_cycle
from monitor.runtime import Runtime, dispatch, open_runtime, prune
from monitor.storage.db import transaction
from monitor.storage.feeds import claim_due_feeds, feed_health, sync_feeds
from monitor.web.deps import Console
from monitor.web.server import WebServer
from monitor.web.status import StatusBoard

log = logging.getLogger(__name__)

TICK = timedelta(seconds=15)  # how often due feeds are claimed
DISPATCH_EVERY = timedelta(seconds=5)
RELOAD_CHECK_EVERY = timedelta(seconds=30)
PRUNE_EVERY = timedelta(hours=1)
CLAIM_BATCH = 200


class Service:
    """One replica: claims due feeds, processes them, dispatches alerts."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.owner = f"{socket.gethostname()}:{os.getpid()}"
        self.stopping = asyncio.Event()
        self.busy = asyncio.Lock()
        # Each job's failures in a row: logged once with a traceback, then once a minute.
        self.failures = {name: RepeatedError(log, name) for name in ("poll", "dispatch", "prune")}
        self.board = StatusBoard(read=self._read_status, memory=self._memory, clock=rt.clock)

    async def tick(self, fetcher: Fetcher, extractor: Extractor) -> None:
        if self.busy.locked():  # the previous tick is still working; skip, don't pile up
            return
        async with self.busy:
            try:
                await self._poll_due(fetcher, extractor)
            except Exception as exc:  # the database is down, say: try again next tick
                self.failures["poll"].failed(exc)
            else:
                self.failures["poll"].succeeded()

    async def _poll_due(self, fetcher: Fetcher, extractor: Extractor) -> None:
        settings = self.rt.config.settings
        lease = settings.fetch.deadline * 4 + TICK
        with transaction(self.rt.sessions) as session:
            urls = set(
                claim_due_feeds(
                    session=session,
                    owner=self.owner,
                    now=self.rt.clock(),
                    limit=CLAIM_BATCH,
                    lease=lease,
                )
            )
        feeds = [f for f in settings.feeds if f.url in urls and not f.paused]
        if feeds:
            await poll_cycle(
                feeds,
                fetcher=fetcher,
                extractor=extractor,
                sessions=self.rt.sessions,
                fetch_settings=settings.fetch,
                stages=self.rt.stages,
                clock=self.rt.clock,
            )

    def dispatch(self) -> None:
        self._guarded("dispatch", lambda: dispatch(self.rt))

    def prune(self) -> None:
        self._guarded("prune", lambda: prune(self.rt))

    def _guarded(self, job: str, work: Callable[[], object]) -> None:
        try:
            work()
        except Exception as exc:
            self.failures[job].failed(exc)
        else:
            self.failures[job].succeeded()

    def console(self) -> Console:
        """What the web console and /status are served from."""
        settings = self.rt.config.settings
        return Console(
            settings=settings.web, sessions=self.rt.sessions, clock=self.rt.clock,
            alerts=settings.alerts, status=self.status,
        )  # fmt: skip

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
        }

    def reload_watchlists(self) -> None:
        try:
            files = current_watchlist_files(self.rt.config)
        except ConfigError as exc:  # a file was removed: keep the watchlists in force
            files, errors = list(self.rt.config.watchlist_files), exc.errors
            for err in errors:
                log.error("watchlist reload rejected: %s", err)
        errors = self.rt.classifier.reload_if_changed(files)
        for err in errors:
            log.error("watchlist reload rejected: %s", err)

    def force_reload(self) -> None:
        errors = self.rt.classifier.reload()
        if errors:
            for err in errors:
                log.error("watchlist reload rejected: %s", err)
        else:
            log.info("watchlists reloaded")

    async def serve(self) -> None:
        settings = self.rt.config.settings
        with transaction(self.rt.sessions) as session:
            sync_feeds(session=session, feeds=settings.feeds, now=self.rt.clock())
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stopping.set)
        loop.add_signal_handler(signal.SIGHUP, self.force_reload)
        health = WebServer(self.console()) if settings.web.enabled else None
        if health:
            health.start()
        async with Fetcher(settings.fetch) as fetcher:
            extractor = Extractor(settings.extract, fetcher)
            scheduler = AsyncIOScheduler(timezone="UTC")
            jobs = [
                (self.tick, TICK, (fetcher, extractor)),
                (self.dispatch, DISPATCH_EVERY, ()),
                (self.reload_watchlists, RELOAD_CHECK_EVERY, ()),
                (self.prune, PRUNE_EVERY, ()),
            ]
            for func, every, args in jobs:
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
            async with self.busy:  # let an in-flight tick finish its transactions
                pass
            extractor.close()
        if health:
            health.stop()
        self.dispatch()


def run_forever(config: Config, db_url: str) -> None:
    rt = open_runtime(config, db_url)
    problems = rt.verify_routes()
    if problems:
        rt.close()
        raise NotifyError("alert routes are misconfigured:\n" + "\n".join(problems))
    rt.warm_up()
    try:
        asyncio.run(Service(rt).serve())
    finally:
        rt.close()
