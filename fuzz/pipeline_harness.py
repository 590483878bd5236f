"""The fuzzed path: feed bytes and page HTML -> stored, classified article (see
fuzz/pipeline_target.py, which runs it under atheris).

One input is a feed body and a page body separated by ``SEPARATOR``. The feed is parsed as
the poller parses it; each entry (at most ``MAX_ENTRIES``) is extracted by the real
Extractor, its page fetch answered with the page body; each article goes through
``process_article`` (classify, store, dedup, alert decision) into a SQLite file. What may
happen: the feed is refused with a MonitorError (not a feed, bad JSON). What may not: any
other exception, an extraction that raises, a hang (-timeout) or unbounded memory
(-rss_limit_mb).

Needs no atheris: tests replay the seeds and every crash input kept in fuzz/regressions/
through ``run_one``.
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
from collections.abc import Callable, Mapping
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from monitor.classify.classifier import Classifier
from monitor.config import load_config
from monitor.dedup.clusterer import StoryClusterer
from monitor.errors import MonitorError
from monitor.extract.extractor import Extractor
from monitor.fetch.http import FetchResult
from monitor.fetch.parse import parse_feed
from monitor.pipeline import Stages, article_key, process_article
from monitor.resources import shipped_config_dir
from monitor.storage.base import Base
from monitor.storage.db import make_engine, session_factory, transaction

SEPARATOR = b"\n--page--\n"
FEED_URL = "http://127.0.0.1:9/feed"
NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
MAX_ENTRIES = 4
FRESH_DATABASE_EVERY = 200  # articles; keeps dedup's index, and each input's cost, bounded


class InlineExecutor(Executor):
    """Runs extraction in the calling thread and remembers what it raised: the Extractor
    falls back to the feed text on any exception, which would hide a parser crash."""

    def __init__(self) -> None:
        self.errors: list[BaseException] = []

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as exc:
            self.errors.append(exc)
            future.set_exception(exc)
        return future


@dataclass(frozen=True)
class Page:
    url: str
    content: bytes
    status: int = 200
    headers: Mapping[str, str] = field(default_factory=lambda: {"content-type": "text/html"})
    content_type: str | None = "text/html"


class PageServer:
    """The fetcher the Extractor sees: every link answers with the input's page."""

    def __init__(self) -> None:
        self.page = b""

    async def get(self, url: str, **_: Any) -> Page:
        return Page(url=url, content=self.page)


class Harness:
    def __init__(self) -> None:
        config = load_config(shipped_config_dir() / "monitor.yaml")
        settings = config.settings
        self.classifier = Classifier(config.watchlist)
        self.dedup = settings.dedup.model_copy(
            update={"semantic": settings.dedup.semantic.model_copy(update={"enabled": False})}
        )
        self.alerts = settings.alerts
        self.pages = PageServer()
        self.executor = InlineExecutor()
        extract = settings.extract.model_copy(update={"keep_raw_html": True})
        self.extractor = Extractor(extract, self.pages, executor=self.executor)
        self.loop = asyncio.new_event_loop()
        self.tmp = tempfile.TemporaryDirectory(prefix="monitor-fuzz-")
        self.generation = 0
        self._fresh_database()

    def _fresh_database(self) -> None:
        self.generation += 1
        engine = make_engine(f"sqlite:///{Path(self.tmp.name) / f'fuzz{self.generation}.db'}")
        Base.metadata.create_all(engine)
        self.sessions = session_factory(engine)
        self.stages = Stages(lambda: self.classifier, StoryClusterer(self.dedup), self.alerts)
        self.stored = 0
        self.seen: set[str] = set()  # entry keys processed: the poller never hands them out again

    def run(self, data: bytes) -> None:
        feed, _, self.pages.page = data.partition(SEPARATOR)
        result = FetchResult(
            url=FEED_URL, status=200, headers={"content-type": "application/rss+xml"},
            content=feed,
        )  # fmt: skip
        try:
            parsed = parse_feed(result, feed_url=FEED_URL, source="Fuzz")
        except MonitorError:
            return  # refused as not a feed: the poller reports it, nothing to store
        for entry in [e for e in parsed.entries if e.entry_key not in self.seen][:MAX_ENTRIES]:
            self.seen.add(entry.entry_key)
            extracted = self.loop.run_until_complete(self.extractor.article_for(entry, now=NOW))
            if self.executor.errors:
                raise self.executor.errors.pop()
            article = replace(extracted, key=article_key(entry))
            with transaction(self.sessions) as session:
                process_article(session=session, article=article, stages=self.stages, now=NOW)
            self.stored += 1
        if self.stored >= FRESH_DATABASE_EVERY:
            self._fresh_database()


_harness: Harness | None = None


def run_one(data: bytes) -> None:
    """One input through the whole path (the harness is built once per process)."""
    global _harness
    if _harness is None:
        logging.disable(logging.WARNING)  # fallbacks and odd dates are logged, expectedly
        _harness = Harness()
    _harness.run(data)
