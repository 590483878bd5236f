"""The one orchestrator: fetch -> parse -> extract -> classify -> dedup -> alert.

    poll_cycle        every due feed, concurrently (bounded by the fetcher's limits):
                      conditional GET, parse, keep never-seen entries (poll_feeds)
      process_poll    one feed's new entries, a few ahead of the one being processed:
        extract       article page -> Article (falls back to the feed's text)
        ahead         classify (in a worker process) and embed (on a worker thread)
        process_article   ONE transaction per article, on the one processing thread:
            same item?  -> skip (already stored)
            classify    -> Classification (unless made ahead with the same watchlists)
            store       -> articles row (the evidence)
            dedup       -> StoryAssignment (near-copy / same event / new story)
            decide      -> AlertDecision ("new" | "update" | none)
            enqueue     -> outbox rows, one per route
            mark seen   -> entry identity (so a crash re-processes instead of losing)
      dispatch        send what the outbox holds (retries, rate limits, exactly-once)

`monitor replay` calls process_article directly, without the network.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import aclosing
from dataclasses import dataclass, replace
from datetime import datetime
from functools import cache, partial
from typing import TYPE_CHECKING, Protocol, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from monitor.alert.decide import StoryState, decide_alert
from monitor.alert.outbox import enqueue
from monitor.alert.settings import AlertsSettings
from monitor.classify.ahead import Classified, classify_in_worker, portable
from monitor.classify.classifier import Classifier, within_limit
from monitor.codec import classification_to_dict, event_from_dict
from monitor.dedup.clusterer import StoryClusterer
from monitor.dedup.features import Embedded
from monitor.dedup.identity import find_same_item
from monitor.metrics import ALERT_DECISIONS, ARTICLES, FEEDS_POLLED, PROCESS_SECONDS
from monitor.observe import EMBED, PROCESS, UNOBSERVED, StageObserver
from monitor.published import with_believable_date
from monitor.storage.articles import article_by_key, insert_article
from monitor.storage.db import transaction
from monitor.storage.feeds import mark_entry_seen
from monitor.storage.models import ArticleRow, Story
from monitor.types import (
    AlertDecision,
    Article,
    Classification,
    Event,
    FeedEntry,
    StoryAssignment,
    without_nul,
)

# The network side (HTTP client, feed parser, trafilatura) is imported by poll_cycle, its
# one user: `monitor replay` runs process_article without it.
if TYPE_CHECKING:
    from monitor.extract.extractor import Extractor
    from monitor.fetch.http import Fetcher
    from monitor.fetch.poller import FeedPoll
    from monitor.fetch.settings import FeedConfig, FetchSettings

log = logging.getLogger(__name__)

# Page fetches of one feed in flight at once: enough to overlap downloads with the
# (CPU-bound) processing, few enough that one feed never fills the fetcher's queue.
PAGES_AHEAD = 8
# A classification made ahead is given this long once handed to a worker (a normal one
# takes ~10 ms of CPU, one of 100,000 characters ~0.4 s); past it, the worker is replaced
# and the article is classified on the processing thread.
CLASSIFY_AHEAD_TIMEOUT = 60.0
T = TypeVar("T")


class Workers(Protocol):
    """Processes for pure jobs: the extraction pool (`ExtractionPool.run`)."""

    async def run(self, job: Callable[[], T], *, timeout: float) -> T: ...


@dataclass(frozen=True)
class Stages:
    """The offline stages: everything process_article needs besides the database."""

    classifier: Callable[[], Classifier]  # the current one (watchlists reload on SIGHUP)
    clusterer: StoryClusterer
    alerts: AlertsSettings
    observer: StageObserver = UNOBSERVED  # told as each stage starts and ends (observe.py)


@dataclass(frozen=True)
class Outcome:
    """What happened to one article."""

    article: Article
    story_id: int | None
    duplicate_of: str | None
    classification: Classification | None
    decision: AlertDecision | None
    skipped: str | None = None  # why it was not processed (e.g. the same item again)
    story_reason: str = ""  # why dedup put it in its story (scores of the best candidate)
    story_event: Event | None = None  # the story's event once this article joined it
    # Stories dedup merged into ``story_id`` as this article arrived (dedup/merging.py).
    merged_stories: tuple[int, ...] = ()


def process_article(
    *,
    session: Session,
    article: Article,
    stages: Stages,
    now: datetime,
    entry: FeedEntry | None = None,
    embedded: Embedded | None = None,
    classified: Classified | None = None,
    seen: datetime | None = None,
) -> Outcome:
    """Classify, store, cluster and (maybe) enqueue alerts for one article, in ``session``.
    ``embedded``: its embedding, started ahead by ``start_embedding`` (else made here);
    ``classified``: its classification made ahead (used when it answers for this article
    with the watchlists now in force, else made here); ``seen``: when its page was ready
    (extracted, in this poll; default ``now``), the time an article without a believable
    publication time is classified as of: the time it was classified ahead with, not the
    later one of its turn."""
    dated = now if seen is None else seen
    article = with_believable_date(without_nul(article), now=dated)
    if article.published_raw is not None:
        log.warning(
            "publication time %s not believed; using the first-seen time",
            article.published_raw,
            extra={"feed_url": article.feed_url, "entry_url": article.url},
        )
    same = find_same_item(session=session, article=article)
    if same is not None:
        if entry is not None:
            mark_entry_seen(session=session, feed_url=entry.feed_url, entry=entry, now=now)
        original = article_by_key(session=session, key=same)
        story_id = original.story_id if original else None
        ARTICLES.labels("same_item").inc()
        # Not stored or clustered again, but still described: a backtest reading this line
        # must not take a repeated report for "no incident".
        classification = _classify(stages.classifier(), article, now=dated, ahead=classified)
        return Outcome(
            article, story_id, same, classification, None, skipped="same item already stored"
        )

    with PROCESS_SECONDS.time():
        return _process_new(
            session=session, article=article, stages=stages, now=now, entry=entry,
            embedded=embedded, classified=classified, dated=dated,
        )  # fmt: skip


def _read_as(article: Article, *, now: datetime) -> tuple[str, str, datetime]:
    """What classification reads of ``article``: title, text and time (``now``, the time
    it was seen, when it gives none). One reading for here and ahead, so they agree."""
    return article.title, article.text, article.published or now


def _classify(
    classifier: Classifier, article: Article, *, now: datetime, ahead: Classified | None
) -> Classification:
    title, text, published = _read_as(article, now=now)
    if ahead is not None and ahead.answers(classifier, title=title, text=text, published=published):
        return ahead.classification
    return classifier.classify(title=title, text=text, published=published)


def start_embedding(stages: Stages, article: Article) -> Future[Embedded]:
    """Embed ``article`` on a worker thread (the slow part of dedup, needing no database),
    as process_article will see it; start several to have them embedded at once."""
    return stages.clusterer.embed(without_nul(article))


def _process_new(
    *,
    session: Session,
    article: Article,
    stages: Stages,
    now: datetime,
    entry: FeedEntry | None,
    embedded: Embedded | None,
    classified: Classified | None,
    dated: datetime,
) -> Outcome:
    classifier = stages.classifier()
    classification = _classify(classifier, article, now=dated, ahead=classified)
    row = insert_article(
        session=session,
        article=article,  # all of it, even the part past classify.max_text_chars
        classification=classification_to_dict(classification),
        now=now,
    )
    # Dedup reads what classification read: a long text costs no more there either.
    title, text, _ = within_limit(article.title, article.text, classifier.max_text_chars)
    assignment = stages.clusterer.assign(
        session=session,
        article=replace(article, title=title, text=text),
        article_id=row.id,
        classification=classification,
        now=now,
        embedded=embedded,
    )
    story = session.get_one(Story, assignment.story_id)
    row.story_reason = assignment.reason
    decision = decide_alert(
        story=_story_state(session, story, row, assignment),
        article=article,
        classification=classification,
        now=now,
        max_age=stages.alerts.max_age,
    )
    if decision.kind is not None:
        story.alerted = True
        story.routes = list(decision.routes)
        enqueue(
            session=session,
            decision=decision,
            story=story,
            article_id=row.id,
            settings=stages.alerts,
            now=now,
        )
    if entry is not None:
        mark_entry_seen(session=session, feed_url=entry.feed_url, entry=entry, now=now)
    log.info(
        "story created" if assignment.is_new_story else "story joined",
        extra={"article_id": row.id, "story_id": story.id, "feed_url": article.feed_url,
               "alert": decision.kind, "severity": decision.severity,
               "reason": assignment.reason},
    )  # fmt: skip
    ARTICLES.labels("processed").inc()
    ALERT_DECISIONS.labels(decision.kind or "none").inc()
    return Outcome(
        article,
        story.id,
        assignment.duplicate_of,
        classification,
        decision,
        story_reason=assignment.reason,
        story_event=event_from_dict(story.event),
        merged_stories=assignment.merged,
    )


def _story_state(
    session: Session, story: Story, row: ArticleRow, assignment: StoryAssignment
) -> StoryState:
    """The story as the decision sees it. An outlet already in the story adds no source;
    without outlet names, a near-copy adds none."""
    if row.source:
        others = session.scalars(
            select(ArticleRow.id).where(
                ArticleRow.story_id == story.id,
                ArticleRow.id != row.id,
                ArticleRow.source == row.source,
            )
        ).first()
        adds_source = others is None
    else:
        adds_source = assignment.duplicate_of is None
    return StoryState(
        story_id=story.id,
        alerted=story.alerted,
        severity=story.severity,  # type: ignore[arg-type]
        routes=tuple(story.routes or ()),
        adds_source=adds_source,
    )


def article_key(entry: FeedEntry) -> str:
    """Entry keys are unique per feed; article keys must be unique across feeds."""
    return f"{entry.feed_url}#{entry.entry_key}"


@dataclass(frozen=True)
class FeedReport:
    feed_url: str
    status: int | None
    error: str | None
    outcomes: tuple[Outcome, ...]
    failed: int = 0  # entries whose article failed (logged each); they come again next poll


async def process_poll(
    poll: FeedPoll,
    *,
    extractor: Extractor,
    sessions: sessionmaker[Session],
    stages: Stages,
    clock: Callable[[], datetime],
    alerted: Callable[[], None] | None = None,
    workers: Workers | None = None,
) -> FeedReport:
    """Process each never-seen entry of one poll, each in its own transaction.
    ``alerted`` is called (on the event loop) as soon as an article's alert is committed
    to the outbox, so it can go out before the poll's later entries are processed.
    ``workers``: where articles are classified ahead (else on the processing thread)."""
    outcomes, failed = [], 0
    ready = partial(_ready, extractor=extractor, stages=stages, clock=clock, workers=workers)
    async with aclosing(_ahead(poll.entries, ready)) as articles:
        async for prepared in articles:
            if prepared is None:
                failed += 1  # its embedding failed (logged); the entry comes again next poll
                continue
            job = partial(_process_entry, prepared, sessions=sessions, stages=stages,
                          clock=clock)  # fmt: skip
            outcome = await asyncio.get_running_loop().run_in_executor(_processor(), job)
            failed += outcome is None
            if outcome is not None:
                outcomes.append(outcome)
                if alerted is not None and outcome.decision and outcome.decision.kind:
                    alerted()
    log.info(
        "feed polled",
        extra={"feed_url": poll.feed_url, "status": poll.status, "error": poll.error,
               "warning": poll.warning,  # e.g. a body recovered from broken XML
               "entries": len(poll.entries), "processed": len(outcomes), "failed": failed,
               "from_backlog": poll.from_backlog, "backlog": poll.backlog},
    )  # fmt: skip
    FEEDS_POLLED.labels("error" if poll.error else "ok").inc()
    return FeedReport(poll.feed_url, poll.status, poll.error, tuple(outcomes), failed)


@dataclass(frozen=True)
class _Prepared:
    """An entry's article with what could be made of it before its turn."""

    entry: FeedEntry
    article: Article
    classified: Classified | None
    embedded: Embedded
    seen: datetime  # when its page was ready: what an undated article is classified as of


async def _ahead(
    entries: Sequence[FeedEntry], ready: Callable[[FeedEntry], Awaitable[_Prepared | None]]
) -> AsyncGenerator[_Prepared | None, None]:
    """Each entry made ``ready``, oldest first, with at most PAGES_AHEAD being prepared.

    Gathering every page at once would queue thousands of fetches of one big feed in the
    fetcher's global limit, ahead of every other feed's pages.
    """
    ahead: deque[asyncio.Future[_Prepared | None]] = deque()
    try:
        for entry in entries:
            ahead.append(asyncio.ensure_future(ready(entry)))
            if len(ahead) >= PAGES_AHEAD:
                yield await ahead.popleft()
        while ahead:
            yield await ahead.popleft()
    finally:
        for page in ahead:
            page.cancel()


async def _ready(
    entry: FeedEntry, *, extractor: Extractor, stages: Stages, clock: Callable[[], datetime],
    workers: Workers | None,
) -> _Prepared | None:  # fmt: skip
    """The entry's article, extracted, then classified and embedded while earlier articles
    are processed; None when its embedding failed (logged)."""
    extracted = await extractor.article_for(entry, now=clock())
    article = replace(extracted, key=article_key(entry))
    seen = clock()
    classifying = _classify_ahead(article, stages=stages, workers=workers, now=seen)
    try:
        classified, embedded = await asyncio.gather(classifying, _embed_ahead(article, stages))
    except Exception:
        log.exception("embedding failed", extra={"feed_url": entry.feed_url})
        return None
    return _Prepared(entry, article, classified, embedded, seen)


async def _embed_ahead(article: Article, stages: Stages) -> Embedded:
    # Started from a worker thread: preparing the text (sentence splitting) takes seconds
    # of CPU for a 500 KB article, which on the loop held up every other feed's fetches.
    key, observer = article.url or "", stages.observer
    observer.started(EMBED, key)
    started = await asyncio.to_thread(start_embedding, stages, article)
    # Told by the worker thread as it finishes, not when this task next runs.
    started.add_done_callback(lambda _: observer.ended(EMBED, key))
    return await asyncio.wrap_future(started)


async def _classify_ahead(
    article: Article, *, stages: Stages, workers: Workers | None, now: datetime
) -> Classified | None:
    """The classification process_article would make, made by a worker process: it was
    ~40% of the one processing thread's CPU, the poll's critical path, while the workers
    idled once the pages were extracted. None (classified when processed) without
    workers, or when the job failed."""
    if workers is None:
        return None
    classifier = stages.classifier()
    title, text, published = _read_as(with_believable_date(without_nul(article), now=now), now=now)
    job = partial(classify_in_worker, portable(classifier), title=title, text=text,
                  published=published)  # fmt: skip
    try:
        classification = await workers.run(job, timeout=CLASSIFY_AHEAD_TIMEOUT)
    except Exception:  # a crashed or stuck worker: the processing thread classifies it
        log.warning("classifying ahead failed", exc_info=True, extra={"entry_url": article.url})
        return None
    return Classified(classifier, title, text, published, classification)


@cache
def _processor() -> ThreadPoolExecutor:
    """The one thread articles are processed on. Off the event loop: an article takes ~20 ms
    of CPU besides its embedding, and a hostile 500 KB one seconds, during which no other
    feed could download, time out or be scheduled. One thread: the story index is not
    thread-safe, and articles join stories one at a time, in order."""
    return ThreadPoolExecutor(1, thread_name_prefix="process")


async def processing_finished() -> None:
    """Wait for the article being processed, if any (its poll may have been cancelled)."""
    await asyncio.get_running_loop().run_in_executor(_processor(), lambda: None)


def _process_entry(
    prepared: _Prepared, *, sessions: sessionmaker[Session], stages: Stages,
    clock: Callable[[], datetime],
) -> Outcome | None:  # fmt: skip
    """One article in its own transaction; None when it failed (logged, not raised)."""
    entry = prepared.entry
    stages.observer.started(PROCESS, entry.url or "")
    outcome = None
    try:
        with transaction(sessions) as session:
            outcome = process_article(
                session=session, article=prepared.article, stages=stages, now=clock(),
                entry=entry, embedded=prepared.embedded, classified=prepared.classified,
                seen=prepared.seen,
            )  # fmt: skip
    except Exception:  # one broken article must not cost the rest of the feed
        log.exception("article failed", extra={"feed_url": entry.feed_url, "entry_url": entry.url})
        outcome = None  # made, but its transaction did not commit
    alert = outcome.decision.kind if outcome and outcome.decision else None
    stages.observer.ended(PROCESS, entry.url or "", alert=alert)  # committed: alert queued
    return outcome


async def poll_cycle(
    feeds: Sequence[FeedConfig],
    *,
    fetcher: Fetcher,
    extractor: Extractor,
    sessions: sessionmaker[Session],
    fetch_settings: FetchSettings,
    stages: Stages,
    clock: Callable[[], datetime],
    alerted: Callable[[], None] | None = None,
    workers: Workers | None = None,
) -> list[FeedReport]:
    """Refresh ``feeds`` concurrently; a feed that fails is reported, never raised.

    The feeds are polled as one batch (feed state read and written once per cycle); each
    poll's entries are processed as soon as that poll is done, and ``alerted`` is called
    each time one of them queues an alert. ``workers``: see process_poll.
    """
    from monitor.fetch.poller import poll_feeds

    async def one(poll: FeedPoll) -> FeedReport:
        try:
            return await process_poll(
                poll, extractor=extractor, sessions=sessions, stages=stages, clock=clock,
                alerted=alerted, workers=workers,
            )  # fmt: skip
        except Exception as exc:
            log.exception("feed failed", extra={"feed_url": poll.feed_url})
            return FeedReport(poll.feed_url, poll.status, f"{exc.__class__.__name__}: {exc}", ())

    tasks: dict[str, asyncio.Task[FeedReport]] = {}
    failure: str | None = None
    batch = poll_feeds(feeds, fetcher=fetcher, sessions=sessions, settings=fetch_settings,
                       now=clock(), observer=stages.observer)  # fmt: skip
    try:
        async with aclosing(batch) as polls:
            async for poll in polls:
                tasks[poll.feed_url] = asyncio.create_task(one(poll))
    except Exception as exc:  # feed state could not be read or written
        log.exception("poll cycle failed")
        failure = f"{exc.__class__.__name__}: {exc}"
    await asyncio.gather(*tasks.values())
    return [
        tasks[f.url].result() if f.url in tasks else FeedReport(f.url, None, failure, ())
        for f in feeds
    ]
