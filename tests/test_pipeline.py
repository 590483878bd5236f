"""process_article on both databases: hostile text is stored, not fatal."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import Future
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from monitor import pipeline
from monitor.alert.settings import AlertsSettings
from monitor.classify.classifier import Classifier
from monitor.config import load_config
from monitor.dedup.clusterer import StoryClusterer
from monitor.dedup.settings import DedupSettings
from monitor.fetch.poller import FeedPoll
from monitor.pipeline import Stages, process_article, process_poll
from monitor.storage.db import transaction
from monitor.storage.models import ArticleRow
from monitor.types import AlertDecision, Article, FeedEntry

DAY = datetime(2020, 3, 11, tzinfo=UTC)  # the articles' date, and when they are processed


def stand_in_stages() -> Stages:
    """Stages for a test that replaces process_article and start_embedding: what they
    would use is never reached; the pipeline itself reads only the (default) observer."""

    def no_classifier() -> Classifier:
        raise AssertionError("process_article is replaced: nothing is classified")

    return Stages(no_classifier, StoryClusterer(DedupSettings()), AlertsSettings())


CONFIG = Path(__file__).resolve().parents[1] / "config" / "monitor.yaml"


def test_nul_characters_are_dropped_so_postgres_can_store_the_article(
    sessions: sessionmaker[Session],
) -> None:
    config = load_config(CONFIG)
    classifier = Classifier(config.watchlist)
    stages = Stages(
        lambda: classifier, StoryClusterer(config.settings.dedup), config.settings.alerts
    )
    article = Article(
        key="nul",
        url=None,
        title="Rockets\x00 hit Camp Taji",
        text="A rocket attack\x00 hit the base.",
        published=DAY,
    )
    with transaction(sessions) as session:
        outcome = process_article(session=session, article=article, stages=stages, now=DAY)
    assert outcome.story_id is not None
    with sessions() as session:
        row = session.scalars(select(ArticleRow)).one()
    assert row.title == "Rockets hit Camp Taji" and "\x00" not in row.text


def test_articles_are_processed_off_the_event_loop(
    sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    # An ordinary article costs ~20 ms of CPU (classification, dedup scoring), a hostile
    # 500 KB one seconds. Meanwhile the event loop must go on serving other feeds'
    # downloads, their timeouts and the scheduler's ticks.
    processed: list[tuple[str, str, bool]] = []  # (article, thread, the loop ticked meanwhile)
    ticks = [0]  # the loop's ticker: how often it has run
    ticked = threading.Condition()

    def slow_article(*, article: Article, **_: object) -> None:
        # A long article: done once the loop has ticked three times meanwhile. Processed on
        # the loop, it would wait for ticks that cannot come (the 30 s are a safety net).
        with ticked:
            start = ticks[0]
            free = ticked.wait_for(lambda: ticks[0] >= start + 3, timeout=30)
        processed.append((article.key, threading.current_thread().name, free))

    class Extractor:
        async def article_for(self, entry: FeedEntry, *, now: datetime) -> Article:
            return Article(key="", url=entry.url, title=entry.title, text="", published=None)

    async def ticker(done: asyncio.Event) -> None:
        while not done.is_set():
            await asyncio.sleep(0.01)
            with ticked:
                ticks[0] += 1
                ticked.notify_all()

    async def main() -> None:
        entries = tuple(
            FeedEntry(feed_url="f", entry_key=str(i), url=f"http://127.0.0.1/{i}", title="t",
                      summary="", published=None)
            for i in range(3)
        )  # fmt: skip
        poll = FeedPoll(feed_url="f", entries=entries, status=200, error=None)
        done = asyncio.Event()
        tick = asyncio.create_task(ticker(done))
        await process_poll(poll, extractor=Extractor(), sessions=sessions,  # type: ignore[arg-type]
                           stages=stand_in_stages(), clock=lambda: datetime.now(UTC))  # fmt: skip
        done.set()
        await tick

    embedding_started: list[str] = []  # thread of each, as the text is prepared there

    def not_embedded(_stages: object, article: Article) -> Future[None]:
        embedding_started.append(threading.current_thread().name)
        done: Future[None] = Future()
        done.set_result(None)
        return done

    monkeypatch.setattr(pipeline, "process_article", slow_article)
    monkeypatch.setattr(pipeline, "start_embedding", not_embedded)
    asyncio.run(main())
    assert [key for key, _, _ in processed] == ["f#0", "f#1", "f#2"]  # in order, none lost
    assert threading.main_thread().name not in {name for _, name, _ in processed}
    assert all(free for _, _, free in processed)  # the loop never waited for an article
    # Splitting a 500 KB text into sentences for the embedding takes seconds: not on the loop.
    assert len(embedding_started) == 3
    assert threading.main_thread().name not in embedding_started


def test_a_big_feed_keeps_few_pages_in_flight_and_does_not_queue_others_behind_it(
    sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Defect #2: gathering every page fetch of a 1,000-entry poll put them all in the
    # fetcher's queue (here: 4 global slots), ahead of the page of a feed polled just after.
    slots = asyncio.Semaphore(4)
    granted: list[str] = []  # feed of each page fetch, in the order it got a slot
    in_flight = {"big": 0, "small": 0}
    most = {"big": 0, "small": 0}
    processed: list[str] = []

    class Extractor:
        async def article_for(self, entry: FeedEntry, *, now: datetime) -> Article:
            in_flight[entry.feed_url] += 1
            most[entry.feed_url] = max(most[entry.feed_url], in_flight[entry.feed_url])
            async with slots:
                granted.append(entry.feed_url)
                for _ in range(3):  # on the wire
                    await asyncio.sleep(0)
            in_flight[entry.feed_url] -= 1
            return Article(key="", url=entry.url, title=entry.title, text="", published=None)

    def record(*, article: Article, **_: object) -> None:
        processed.append(article.key)

    def poll(feed: str, count: int) -> FeedPoll:
        entries = tuple(
            FeedEntry(feed_url=feed, entry_key=str(i), url=f"http://127.0.0.1/{feed}/{i}",
                      title="t", summary="", published=None)
            for i in range(count)
        )  # fmt: skip
        return FeedPoll(feed_url=feed, entries=entries, status=200, error=None)

    async def main() -> None:
        run = {"extractor": Extractor(), "sessions": sessions, "stages": stand_in_stages(),
               "clock": lambda: datetime.now(UTC)}  # fmt: skip
        await asyncio.gather(
            process_poll(poll("big", 1000), **run),  # type: ignore[arg-type]
            process_poll(poll("small", 1), **run),  # type: ignore[arg-type]
        )

    monkeypatch.setattr(pipeline, "process_article", record)
    done: Future[None] = Future()
    done.set_result(None)
    monkeypatch.setattr(pipeline, "start_embedding", lambda _stages, _article: done)
    asyncio.run(main())
    assert granted.index("small") < 16  # not queued behind the big feed's backlog
    assert most["big"] <= pipeline.PAGES_AHEAD
    assert [k for k in processed if k.startswith("big#")] == [f"big#{i}" for i in range(1000)]
    assert "small#0" in processed


def test_a_huge_article_is_stored_whole_classified_on_its_first_part_and_marked(
    sessions: sessionmaker[Session],
) -> None:
    config = load_config(CONFIG)
    classifier = Classifier(config.watchlist, max_text_chars=5_000)
    stages = Stages(
        lambda: classifier, StoryClusterer(config.settings.dedup), config.settings.alerts
    )
    text = "Rockets hit Camp Taji on Wednesday. " * 15_000  # 540,000 characters
    article = Article(key="huge", url=None, title="Rockets hit Camp Taji", text=text,
                      published=DAY)  # fmt: skip
    with transaction(sessions) as session:
        outcome = process_article(session=session, article=article, stages=stages, now=DAY)
    assert outcome.classification is not None and outcome.classification.truncated
    with sessions() as session:
        row = session.scalars(select(ArticleRow)).one()
    assert len(row.text) > 530_000  # all of it is kept
    assert row.text_truncated
    assert 0 < row.classification["analysed_chars"] <= 5_000
    assert row.classification["incident_type_ids"]  # what was read still says what happened


class WaitingEncoder:
    """Embeds only once the event loop has run something else: run on the loop's own thread,
    it would wait in vain (and fail the article after 10 s rather than hang the test)."""

    dimensions = 2

    def __init__(self) -> None:
        self.started = threading.Event()
        self.loop_ran = threading.Event()
        self.texts: list[str] = []

    def encode(self, text: str) -> tuple[float, ...]:
        self.started.set()
        if not self.loop_ran.wait(timeout=10):
            raise RuntimeError("the event loop stood still while embedding")
        self.texts.append(text)
        return (1.0, 0.0)


def test_embedding_runs_off_the_event_loop(sessions: sessionmaker[Session]) -> None:
    config = load_config(CONFIG)
    classifier = Classifier(config.watchlist)
    encoder = WaitingEncoder()
    clusterer = StoryClusterer(config.settings.dedup, encoder=encoder)
    stages = Stages(lambda: classifier, clusterer, config.settings.alerts)
    text = "Rockets struck the base north of the city on Tuesday night, officials said."

    class Extractor:
        async def article_for(self, entry: FeedEntry, *, now: datetime) -> Article:
            return Article(key="", url=entry.url, title=entry.title, text=text, published=None)

    async def other_work() -> None:
        for _ in range(10_000):  # until an embedding has begun (at most ~10 s)
            if encoder.started.is_set():
                encoder.loop_ran.set()  # the loop runs while that embedding waits
                return
            await asyncio.sleep(0.001)

    async def main() -> pipeline.FeedReport:
        entries = tuple(
            FeedEntry(feed_url="f", entry_key=str(i), url=f"http://127.0.0.1/{i}",
                      title=f"Report {i}", summary="", published=None)
            for i in range(3)
        )  # fmt: skip
        poll = FeedPoll(feed_url="f", entries=entries, status=200, error=None)
        clock = lambda: datetime(2026, 3, 1, tzinfo=UTC)  # noqa: E731
        report, _ = await asyncio.gather(
            process_poll(poll, extractor=Extractor(), sessions=sessions,  # type: ignore[arg-type]
                         stages=stages, clock=clock),
            other_work(),
        )  # fmt: skip
        return report

    try:
        report = asyncio.run(main())
    finally:
        clusterer.close()
    assert len(report.outcomes) == 3 and all(o.story_id for o in report.outcomes)
    assert len(encoder.texts) == 3


def test_each_queued_alert_wakes_the_dispatcher_before_the_next_article(
    sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    # An alert goes out while the rest of its poll is still being processed, not once the
    # whole poll is done (a 200-entry batch takes minutes).
    events: list[str] = []
    kinds = {"f#0": "new", "f#1": None, "f#2": "update"}

    def decided(*, article: Article, **_: object) -> pipeline.Outcome:
        events.append(article.key)
        kind = kinds[article.key]
        decision = AlertDecision(1, kind, "high", ("ops",)) if kind else None  # type: ignore[arg-type]
        return pipeline.Outcome(article, 1, None, None, decision)

    class Extractor:
        async def article_for(self, entry: FeedEntry, *, now: datetime) -> Article:
            return Article(key="", url=entry.url, title=entry.title, text="", published=None)

    async def main() -> None:
        entries = tuple(
            FeedEntry(feed_url="f", entry_key=str(i), url=f"http://127.0.0.1/{i}", title="t",
                      summary="", published=None)
            for i in range(3)
        )  # fmt: skip
        poll = FeedPoll(feed_url="f", entries=entries, status=200, error=None)
        await process_poll(poll, extractor=Extractor(), sessions=sessions,  # type: ignore[arg-type]
                           stages=stand_in_stages(), clock=lambda: datetime(2026, 3, 1, tzinfo=UTC),
                           alerted=lambda: events.append("wake"))  # fmt: skip

    done: Future[None] = Future()
    done.set_result(None)
    monkeypatch.setattr(pipeline, "process_article", decided)
    monkeypatch.setattr(pipeline, "start_embedding", lambda _stages, _article: done)
    asyncio.run(main())
    assert events == ["f#0", "wake", "f#1", "f#2", "wake"]


def test_a_poll_reports_the_articles_that_failed_so_it_is_not_called_well_again(
    sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The database dropped while one article was stored: the poll itself goes on, but its
    # report must say an article failed, else the scheduler logs "poll works again".
    def flaky(*, article: Article, **_: object) -> pipeline.Outcome:
        if article.key == "f#1":
            raise RuntimeError("server closed the connection unexpectedly")
        return pipeline.Outcome(article, 1, None, None, None)

    class Extractor:
        async def article_for(self, entry: FeedEntry, *, now: datetime) -> Article:
            return Article(key="", url=entry.url, title=entry.title, text="", published=None)

    entries = tuple(
        FeedEntry(feed_url="f", entry_key=str(i), url=f"http://127.0.0.1/{i}", title="t",
                  summary="", published=None)
        for i in range(3)
    )  # fmt: skip
    done: Future[None] = Future()
    done.set_result(None)
    monkeypatch.setattr(pipeline, "process_article", flaky)
    monkeypatch.setattr(pipeline, "start_embedding", lambda _stages, _article: done)
    report = asyncio.run(
        process_poll(
            FeedPoll(feed_url="f", entries=entries, status=200, error=None),
            extractor=Extractor(),  # type: ignore[arg-type]
            sessions=sessions,
            stages=stand_in_stages(),
            clock=lambda: datetime(2026, 3, 1, tzinfo=UTC),
        )
    )
    assert [o.article.key for o in report.outcomes] == ["f#0", "f#2"]
    assert report.failed == 1
