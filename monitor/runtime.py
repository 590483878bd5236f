"""Wiring: validated config -> database, stages, fetcher, extractor, dispatcher.

Commands build a Runtime once and pass its parts to the pipeline; nothing below reads
globals or the environment.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from monitor.classify.learned import learned_typing
from monitor.classify.reload import ReloadableClassifier
from monitor.config import Config, load_sentence_model, reload_watchlist
from monitor.dedup.clusterer import StoryClusterer
from monitor.dedup.meaning import Encoder
from monitor.observe import UNOBSERVED, StageObserver
from monitor.pipeline import Stages
from monitor.storage.db import (
    make_engine,
    require_current_schema,
    session_factory,
    transaction,
    upgrade,
)

# What only polling, alerting or pruning needs is imported where it is used: `replay` and
# the console's commands start without the HTTP clients, Slack's SDK and trafilatura
# (a third of start-up and ~30 MB they would hold for nothing).
if TYPE_CHECKING:
    from monitor.alert.dispatcher import Dispatcher, DispatchReport
    from monitor.alert.routes import RouteProblem
    from monitor.extract.pool import ExtractionPool
    from monitor.pipeline import FeedReport
    from monitor.storage.retention import PruneReport


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class Runtime:
    config: Config
    engine: Engine
    sessions: sessionmaker[Session]
    classifier: ReloadableClassifier
    stages: Stages
    clock: Callable[[], datetime] = utcnow
    console: IO[str] | None = None  # where console routes print (default: stderr)
    _dispatcher: Dispatcher | None = None

    @property
    def dispatcher(self) -> Dispatcher:
        """One dispatcher per process, so pacing, 429 holds and route pauses persist."""
        if self._dispatcher is None:
            from monitor.alert.dispatcher import Dispatcher, build_sinks
            from monitor.alert.sinks import ConsoleSink

            alerts = self.config.settings.alerts
            sinks = build_sinks(alerts, clock=self.clock)
            if self.console is not None:
                for name, route in alerts.routes.items():
                    if route.type == "console":
                        sinks[name] = ConsoleSink(stream=self.console, name=name)
            self._dispatcher = Dispatcher(
                settings=alerts, sessions=self.sessions, sinks=sinks, clock=self.clock
            )
        return self._dispatcher

    def verify_routes(self) -> list[RouteProblem]:
        """auth.test for each bot-token route: what is permanently wrong, [] when all is well."""
        from monitor.alert.routes import route_problems

        # The dispatcher's own sinks: a channel ID looked up here is not looked up again.
        return route_problems(self.dispatcher.sinks, permanent_only=True)

    def warm_up(self) -> None:
        """Load recent stories into the dedup index before the first article arrives."""
        with transaction(self.sessions) as session:
            self.stages.clusterer.index.sync(session=session, now=self.clock())

    def close(self) -> None:
        self.stages.clusterer.close()  # the embedding worker threads
        self.engine.dispose()


def open_runtime(
    config: Config,
    db_url: str,
    *,
    migrate: bool = False,
    caller_busy: bool = False,
    observer: StageObserver = UNOBSERVED,
) -> Runtime:
    """Connect and check the schema (or migrate a throwaway database when ``migrate``).

    ``caller_busy``: the calling thread classifies and assigns articles without pause while
    their embeddings are made ahead (`monitor replay`), and is what the run waits for. Each
    embedding then runs on one thread (one worker per CPU, unless ``dedup.semantic.threads``
    says otherwise): with two workers of two threads each, five threads took turns on two
    CPUs, and ONNX Runtime's threads handed each operator over between them. A single
    worker left the caller a CPU but fell behind it (19 ms per embedding against ~17 ms of
    the caller's per article). Embeddings are the same with any number of threads.

    ``observer``: told as each stage of each entry starts and ends (monitor/observe.py)."""
    # The model first: a missing or broken one stops start-up as a configuration error
    # before a connection is opened (and left open) or a database migrated.
    encoder = semantic_encoder(config, threads=1 if caller_busy else None)
    engine = make_engine(db_url)
    if migrate:
        upgrade(engine)
    else:
        require_current_schema(engine)
    classifier = ReloadableClassifier(
        lambda: reload_watchlist(config),
        max_text_chars=config.settings.classify.max_text_chars,
        learned=learned_typing(config.settings.classify.learned, config.watchlist.acled_names),
    )
    stages = Stages(
        classifier=lambda: classifier.current,
        clusterer=StoryClusterer(  # one embedding worker per CPU
            config.settings.dedup,
            encoder=encoder,
        ),
        alerts=config.settings.alerts,
        observer=observer,
    )
    return Runtime(config, engine, session_factory(engine), classifier, stages)


def semantic_encoder(config: Config, *, threads: int | None = None) -> Encoder | None:
    """The sentence-embedding model dedup reads with, or None when it is switched off.
    ``threads`` per run when ``dedup.semantic.threads`` is not set (default: the CPUs)."""
    return load_sentence_model(config, threads=threads)


@contextmanager
def temporary_database() -> Iterator[str]:
    """A throwaway SQLite database URL (replay without --db, the demo)."""
    with tempfile.TemporaryDirectory(prefix="monitor-") as tmp:
        yield f"sqlite:///{Path(tmp) / 'monitor.db'}"


async def poll_once(rt: Runtime, *, pool: ExtractionPool | None = None) -> list[FeedReport]:
    """Poll every active feed once (YAML and console-added), process what is new, then
    dispatch the outbox. ``pool``: the extraction workers, started early (closed here)."""
    from monitor.extract.extractor import Extractor
    from monitor.fetch.catalog import feeds_to_poll
    from monitor.fetch.http import Fetcher
    from monitor.pipeline import poll_cycle
    from monitor.storage.feeds import sync_feeds

    settings = rt.config.settings
    with transaction(rt.sessions) as session:
        sync_feeds(session=session, feeds=settings.feeds, now=rt.clock())
        feeds = feeds_to_poll(session=session, configured=settings.feeds)
    async with Fetcher(settings.fetch) as fetcher:
        extractor = Extractor(settings.extract, fetcher, pool=pool, observer=rt.stages.observer)
        try:
            reports = await poll_cycle(
                feeds,
                fetcher=fetcher,
                extractor=extractor,
                sessions=rt.sessions,
                fetch_settings=settings.fetch,
                stages=rt.stages,
                clock=rt.clock,
                workers=extractor.workers,  # classification ahead, off the processing thread
            )
        finally:
            extractor.close()
    dispatch(rt)
    return reports


def dispatch(rt: Runtime) -> DispatchReport:
    """Send what the outbox holds that is due."""
    return rt.dispatcher.run_once()


def prune(rt: Runtime) -> PruneReport:
    """Drop article text and raw HTML past their retention (identities and alert evidence
    stay: see monitor/storage/retention.py)."""
    from monitor.storage.retention import prune as prune_content

    return prune_content(
        sessions=rt.sessions, clock=rt.clock, settings=rt.config.settings.storage.retention
    )
