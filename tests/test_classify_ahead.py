"""Articles classified ahead in the extraction workers: the classification stored is the
one the processing thread would make with the watchlists in force, whatever happened to
the worker or the watchlists in between."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable
from concurrent.futures.process import BrokenProcessPool
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from monitor import pipeline
from monitor.classify.ahead import Classified, classify_in_worker, portable
from monitor.classify.classifier import Classifier
from monitor.classify.reload import ReloadableClassifier
from monitor.codec import classification_to_dict
from monitor.config import load_config, reload_watchlist
from monitor.dedup.clusterer import StoryClusterer
from monitor.extract.pool import ExtractionPool
from monitor.fetch.poller import FeedPoll
from monitor.pipeline import Stages, process_article, process_poll
from monitor.storage.db import transaction
from monitor.storage.models import ArticleRow
from monitor.types import Article, FeedEntry

T = TypeVar("T")
TAXONOMY = Path(__file__).resolve().parents[1] / "config" / "taxonomy.yaml"
WATCHED = "entities:\n  - {{id: watched, kind: location, name: {name}}}\n"
TITLE = "Rockets hit Harbor Gate"
TEXT = "Three rockets struck Harbor Gate on Tuesday, near the old port of Lanport."
PUBLISHED = datetime(2026, 3, 3, 12, tzinfo=UTC)


def watching(tmp_path: Path, name: str) -> ReloadableClassifier:
    """The taxonomy and one entity, ``name``; edit watch.yaml and reload to change it."""
    (tmp_path / "watch.yaml").write_text(WATCHED.format(name=name), "utf-8")
    cfg = tmp_path / "monitor.yaml"
    cfg.write_text(f"watchlists:\n  - {TAXONOMY}\n  - watch.yaml\n", encoding="utf-8")
    config = load_config(cfg)
    return ReloadableClassifier(lambda: reload_watchlist(config))


def reload_as(tmp_path: Path, classifier: ReloadableClassifier, name: str) -> None:
    (tmp_path / "watch.yaml").write_text(WATCHED.format(name=name), "utf-8")
    assert classifier.reload() == []


def named(classifier: Classifier) -> list[str]:
    found = classifier.classify(title=TITLE, text=TEXT, published=PUBLISHED).entities
    return [e.name for e in found]


def test_a_worker_process_classifies_with_the_watchlists_it_is_sent(tmp_path: Path) -> None:
    """One worker, three jobs: the watchlists, a reload, then the first ones again (as a
    job made before the reload would carry them). Each job is classified with its own."""
    reloadable = watching(tmp_path, "Harbor Gate")
    before = reloadable.current
    reload_as(tmp_path, reloadable, "Lanport")
    after = reloadable.current
    assert named(before) == ["Harbor Gate"] and named(after) == ["Lanport"]
    pool = ExtractionPool(1)

    async def in_worker(classifier: Classifier) -> list[str]:
        job = partial(
            classify_in_worker, portable(classifier), title=TITLE, text=TEXT, published=PUBLISHED
        )
        classification = await pool.run(job, timeout=60)
        assert classification == classifier.classify(title=TITLE, text=TEXT, published=PUBLISHED)
        return [e.name for e in classification.entities]

    async def main() -> list[list[str]]:
        return [await in_worker(c) for c in (before, after, before)]

    try:
        assert asyncio.run(main()) == [["Harbor Gate"], ["Lanport"], ["Harbor Gate"]]
    finally:
        pool.close()


def stages_for(classifier: Callable[[], Classifier]) -> Stages:
    config = load_config(Path(__file__).resolve().parents[1] / "config" / "monitor.yaml")
    return Stages(classifier, StoryClusterer(config.settings.dedup), config.settings.alerts)


def article(published: datetime | None = PUBLISHED) -> Article:
    return Article(key="a", url=None, title=TITLE, text=TEXT, published=published)


@pytest.mark.parametrize(
    ("reloaded", "published", "seen_when_made", "used"),
    [
        (False, PUBLISHED, True, True),
        (True, PUBLISHED, True, False),
        (False, None, True, True),
        (False, None, False, False),
    ],
    ids=["same-watchlists", "reloaded-since", "undated-as-of-first-seen", "undated-as-of-now"],
)
def test_a_classification_made_ahead_is_used_only_if_it_answers_for_the_article(
    tmp_path: Path,
    sessions: sessionmaker[Session],
    reloaded: bool,
    published: datetime | None,
    seen_when_made: bool,
    used: bool,
) -> None:
    """An undated article is classified as of when its page was first seen (the poll
    passes that time along), so what was made ahead with it still answers at its turn;
    dated by its turn instead, it would not."""
    reloadable = watching(tmp_path, "Harbor Gate")
    ahead_by = reloadable.current
    # Made ahead: with the watchlists then in force, dated by the time it was made.
    made_at = PUBLISHED + timedelta(days=1)
    dated = published or made_at
    ahead = Classified(
        ahead_by, TITLE, TEXT, dated, ahead_by.classify(title=TITLE, text=TEXT, published=dated)
    )
    if reloaded:
        reload_as(tmp_path, reloadable, "Lanport")
    now = made_at + timedelta(minutes=5)  # processed a little later
    stages = stages_for(lambda: reloadable.current)
    seen = made_at if seen_when_made else None
    with transaction(sessions) as session:
        outcome = process_article(
            session=session, article=article(published), stages=stages, now=now,
            classified=ahead, seen=seen,
        )  # fmt: skip
    assert outcome.classification is not None
    assert (outcome.classification is ahead.classification) is used
    as_of = published or seen or now
    expected = reloadable.current.classify(title=TITLE, text=TEXT, published=as_of)
    assert outcome.classification == expected


class ThreadWorkers:
    """The extraction pool's `run` on a thread (the job's pickles still travel)."""

    def __init__(self) -> None:
        self.jobs = 0

    async def run(self, job: Callable[[], T], *, timeout: float) -> T:
        self.jobs += 1
        return await asyncio.to_thread(job)


class CrashingWorkers:
    """Every job's worker dies under it."""

    async def run(self, job: Callable[[], T], *, timeout: float) -> T:
        raise BrokenProcessPool("a worker died")


class Extractor:
    async def article_for(self, entry: FeedEntry, *, now: datetime) -> Article:
        return Article(key="", url=entry.url, title=entry.title, text=TEXT, published=PUBLISHED)


def poll_with(
    workers: object, stages: Stages, sessions: sessionmaker[Session]
) -> pipeline.FeedReport:
    entries = tuple(
        FeedEntry(feed_url="f", entry_key=str(i), url=f"http://127.0.0.1/{i}", title=TITLE,
                  summary="", published=PUBLISHED)
        for i in range(3)
    )  # fmt: skip
    poll = FeedPoll(feed_url="f", entries=entries, status=200, error=None)
    return asyncio.run(
        process_poll(poll, extractor=Extractor(), sessions=sessions, stages=stages,  # type: ignore[arg-type]
                     clock=lambda: PUBLISHED, workers=workers)  # type: ignore[arg-type]
    )  # fmt: skip


def classifying_threads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the threads ``Classifier.classify`` runs on from now on, in order."""
    threads: list[str] = []
    classify = Classifier.classify

    def recording(self: Classifier, **kwargs: Any) -> Any:
        threads.append(threading.current_thread().name)
        return classify(self, **kwargs)

    monkeypatch.setattr(Classifier, "classify", recording)
    return threads


@pytest.mark.parametrize("workers", ["threads", "crashing"])
def test_each_article_is_stored_with_the_classification_the_processing_thread_would_make(
    tmp_path: Path,
    sessions: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
    workers: str,
) -> None:
    """Classified in the workers when they answer (not on the processing thread); when
    a worker crashes, the article is classified where it is processed: none is lost."""
    reloadable = watching(tmp_path, "Harbor Gate")
    made_here = reloadable.current.classify(title=TITLE, text=TEXT, published=PUBLISHED)
    local = json.loads(json.dumps(classification_to_dict(made_here)))  # as stored
    threads = classifying_threads(monkeypatch)
    pool = ThreadWorkers() if workers == "threads" else CrashingWorkers()
    report = poll_with(pool, stages_for(lambda: reloadable.current), sessions)
    # The first is stored; the other two are the same item again (described, not stored).
    assert [o.skipped is None for o in report.outcomes] == [True, False, False]
    assert all(o.classification == made_here for o in report.outcomes)
    with sessions() as session:
        stored = session.scalars(select(ArticleRow.classification)).all()
    assert stored == [local]
    on_processing_thread = [t for t in threads if t.startswith("process")]
    assert len(on_processing_thread) == (0 if workers == "threads" else 3)


class UndatedExtractor:
    async def article_for(self, entry: FeedEntry, *, now: datetime) -> Article:
        return Article(key="", url=entry.url, title=entry.title, text=TEXT, published=None)


def test_an_undated_page_is_classified_ahead_though_the_clock_moves_before_its_turn(
    tmp_path: Path, sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each reading of the clock is a minute after the last, so the page's turn comes
    later than its classification ahead: the worker's classification is still the one
    used (the processing thread classifies nothing), dated by when the page was seen."""
    reloadable = watching(tmp_path, "Harbor Gate")
    readings = iter(PUBLISHED + timedelta(minutes=i) for i in range(100))
    threads = classifying_threads(monkeypatch)
    entry = FeedEntry(feed_url="f", entry_key="1", url="http://127.0.0.1/1", title=TITLE,
                      summary="", published=None)  # fmt: skip
    poll = FeedPoll(feed_url="f", entries=(entry,), status=200, error=None)
    workers = ThreadWorkers()
    report = asyncio.run(
        process_poll(poll, extractor=UndatedExtractor(), sessions=sessions,  # type: ignore[arg-type]
                     stages=stages_for(lambda: reloadable.current),
                     clock=lambda: next(readings), workers=workers)
    )  # fmt: skip
    assert workers.jobs == 1
    assert [t for t in threads if t.startswith("process")] == []
    [outcome] = report.outcomes
    seen = PUBLISHED  # the first reading: when the page was ready
    expected = reloadable.current.classify(title=TITLE, text=TEXT, published=seen)
    assert outcome.classification == expected
    with sessions() as session:
        stored = session.scalars(select(ArticleRow)).one()
    assert stored.published_at is None  # undated stays undated: no time is made up
