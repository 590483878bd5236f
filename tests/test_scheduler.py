"""`monitor run`'s scheduling: one slow feed never holds back another feed's due poll, and
what a poll queues is sent right after it, not at the dispatcher's next run."""

from __future__ import annotations

import asyncio
import gc
import io
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import select

from monitor.config import load_config
from monitor.demo.run import demo_config_text
from monitor.demo.site import DemoArticle, DemoSite, load_articles
from monitor.extract.extractor import Extractor
from monitor.fetch import catalog
from monitor.fetch.http import Fetcher
from monitor.resources import shipped_config_dir
from monitor.runtime import open_runtime
from monitor.scheduler import Service, wake_delay
from monitor.storage.db import transaction
from monitor.storage.feeds import sync_feeds
from monitor.storage.models import AlertRow, ArticleRow

EMPTY_FEED = b'<?xml version="1.0"?><rss version="2.0"><channel><title>Slow</title></channel></rss>'


class SlowFeed:
    """A feed that answers only when released: a stand-in for a feed that takes minutes."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.requests = 0
        slow = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                slow.requests += 1
                slow.release.wait(timeout=60)
                self.send_response(200)
                self.send_header("Content-Type", "application/rss+xml")
                self.send_header("Content-Length", str(len(EMPTY_FEED)))
                self.end_headers()
                self.wfile.write(EMPTY_FEED)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/slow.xml"

    def __enter__(self) -> SlowFeed:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def service(tmp_path: Path) -> Iterator[tuple[Service, CountingSite, SlowFeed, list[datetime]]]:
    now = [datetime.now(UTC)]
    site = CountingSite(load_articles(now[0]))
    with site, SlowFeed() as slow:
        text = demo_config_text(site, shipped_config_dir())
        text = text.replace("feeds:\n", f"feeds:\n  - url: {slow.url}\n    name: Slow\n", 1)
        path = tmp_path / "monitor.yaml"
        path.write_text(text, encoding="utf-8")
        rt = open_runtime(load_config(path), f"sqlite:///{tmp_path / 'm.db'}", migrate=True)
        rt.clock = lambda: now[0]
        rt.console = io.StringIO()
        with transaction(rt.sessions) as session:
            sync_feeds(session=session, feeds=rt.config.settings.feeds, now=now[0])
        try:
            yield Service(rt), site, slow, now
        finally:
            rt.close()


def alerts_sent(svc: Service) -> list[str]:
    with svc.rt.sessions() as s:
        return [a.status for a in s.scalars(select(AlertRow))]


async def settle(svc: Service, *, until: Any) -> None:
    """Let poll tasks run until ``until()`` holds (bounded: a hang fails the test)."""
    for _ in range(600):
        if until():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not reached")


def test_a_slow_feed_does_not_hold_back_the_others(
    service: tuple[Service, CountingSite, SlowFeed, list[datetime]],
) -> None:
    svc, site, slow, now = service

    async def scenario() -> None:
        async with Fetcher(svc.rt.config.settings.fetch) as fetcher:
            extractor = Extractor(svc.rt.config.settings.extract, fetcher)
            await svc.tick(fetcher, extractor)  # every feed is due: all three claimed
            # The demo's outlets are polled, stored, alerted and sent while the slow feed
            # has not answered: the alert went out without waiting for the dispatcher's run.
            # (An alert goes out as soon as it is queued, so the demo's polls may still be
            # processing their later articles when the first is sent: wait for both.)
            await settle(svc, until=lambda: "sent" in alerts_sent(svc)
                         and svc.in_flight == {slow.url})  # fmt: skip
            assert slow.requests == 1 and not slow.release.is_set()
            # Later the demo feeds are due again and polled, though the slow one still hangs.
            before = site_requests(site)
            now[0] += timedelta(hours=7)
            await svc.tick(fetcher, extractor)
            await settle(svc, until=lambda: site_requests(site) > before)
            assert slow.requests == 1  # in flight: not claimed twice
            slow.release.set()
            await settle(svc, until=lambda: not svc.polls)
            assert svc.in_flight == set()
            extractor.close()

    asyncio.run(scenario())


def test_the_tick_claims_due_feeds_off_the_event_loop(
    service: tuple[Service, CountingSite, SlowFeed, list[datetime]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The claim writes leases: waiting there for SQLite's write lock (an article or a
    backlog being stored) must stall the tick, not every fetch on the loop."""
    from monitor import scheduler

    svc, _site, slow, _now = service
    on_loop: list[bool] = []
    claim = scheduler.claim_due_feeds

    def recording(**kwargs: Any) -> list[str]:
        on_loop.append(threading.current_thread() is threading.main_thread())
        return claim(**kwargs)

    monkeypatch.setattr(scheduler, "claim_due_feeds", recording)

    async def scenario() -> None:
        async with Fetcher(svc.rt.config.settings.fetch) as fetcher:
            extractor = Extractor(svc.rt.config.settings.extract, fetcher)
            await svc.tick(fetcher, extractor)
            assert slow.url in svc.in_flight  # claimed and being polled
            slow.release.set()
            await settle(svc, until=lambda: not svc.polls)
            extractor.close()

    asyncio.run(scenario())
    assert on_loop == [False]


class CountingSite(DemoSite):
    """The demo site, keeping the path of every feed request it answers."""

    def __init__(self, articles: list[DemoArticle]) -> None:
        super().__init__(articles)
        self.feed_requests: list[str] = []

    def respond(self, path: str) -> tuple[int, str, bytes]:
        if path.endswith("feed.xml"):
            self.feed_requests.append(path)
        return super().respond(path)


def site_requests(site: CountingSite) -> int:
    return len(site.feed_requests)


def test_the_running_scheduler_picks_up_feeds_added_paused_and_removed_at_run_time(
    tmp_path: Path,
) -> None:
    """No restart: a feed added from the console is claimed at the next tick, a paused one
    is not, a resumed one is again, a removed one never more."""
    now = [datetime.now(UTC)]
    site = CountingSite(load_articles(now[0]))
    with site:
        (yaml_url, _), (added_url, _) = site.feed_urls()
        text = demo_config_text(site, shipped_config_dir())
        text = text.replace(f"  - url: {added_url}\n    name: Riverside Ledger\n", "")
        assert added_url not in text
        path = tmp_path / "monitor.yaml"
        path.write_text(text, encoding="utf-8")
        rt = open_runtime(load_config(path), f"sqlite:///{tmp_path / 'm.db'}", migrate=True)
        rt.clock = lambda: now[0]
        rt.console = io.StringIO()
        svc = Service(rt)
        with transaction(rt.sessions) as session:
            sync_feeds(session=session, feeds=rt.config.settings.feeds, now=now[0])

        def polled(url: str) -> int:
            return sum(1 for p in site.feed_requests if url.endswith(p))

        def stored(outlet: str) -> int:
            with rt.sessions() as s:
                return len(list(s.scalars(select(ArticleRow).where(ArticleRow.source == outlet))))

        async def tick_until(fetcher: Fetcher, extractor: Extractor, until: Any) -> None:
            await svc.tick(fetcher, extractor)
            await settle(svc, until=lambda: until() and not svc.polls)

        async def scenario() -> None:
            async with Fetcher(rt.config.settings.fetch) as fetcher:
                extractor = Extractor(rt.config.settings.extract, fetcher)
                await tick_until(fetcher, extractor, lambda: polled(yaml_url) == 1)
                assert polled(added_url) == 0
                with transaction(rt.sessions) as session:
                    feed = catalog.feed_definition(added_url, "Riverside Ledger")
                    catalog.add_feed(session=session, feed=feed, actor="ana", now=now[0])
                await tick_until(fetcher, extractor, lambda: stored("Riverside Ledger") == 2)
                assert polled(added_url) == 1 and polled(yaml_url) == 1
                with transaction(rt.sessions) as session:
                    catalog.pause_feed(session=session, url=added_url, paused=True)
                now[0] += timedelta(hours=7)  # every feed is due again
                await tick_until(fetcher, extractor, lambda: polled(yaml_url) == 2)
                assert polled(added_url) == 1
                with transaction(rt.sessions) as session:
                    catalog.pause_feed(session=session, url=added_url, paused=False)
                await tick_until(fetcher, extractor, lambda: polled(added_url) == 2)
                with transaction(rt.sessions) as session:
                    catalog.remove_feed(session=session, url=added_url)
                now[0] += timedelta(hours=7)
                await tick_until(fetcher, extractor, lambda: polled(yaml_url) == 3)
                assert polled(added_url) == 2
                extractor.close()

        try:
            asyncio.run(scenario())
        finally:
            rt.close()


def test_on_stop_a_poll_that_outlasts_the_grace_is_cut_short(
    service: tuple[Service, CountingSite, SlowFeed, list[datetime]],
) -> None:
    """`docker stop` kills after 10 s: a poll still running after the grace is cancelled
    (its feed is fetched again at the next start) instead of holding the stop."""
    svc, _site, slow, _now = service

    async def scenario() -> float:
        async with Fetcher(svc.rt.config.settings.fetch) as fetcher:
            extractor = Extractor(svc.rt.config.settings.extract, fetcher)
            await svc.tick(fetcher, extractor)
            await settle(svc, until=lambda: svc.in_flight == {slow.url})
            loop = asyncio.get_running_loop()
            start = loop.time()
            await svc.finish_polls(0.5)
            took = loop.time() - start
            extractor.close()
        return took

    took = asyncio.run(scenario())
    gc.collect()
    assert took < 10  # the slow feed would have held the stop for 60 s
    assert not svc.polls and svc.in_flight == set()
    assert not slow.release.is_set()  # it was still hanging: cut short, not finished


def test_wake_delay_counts_by_the_injected_clock() -> None:
    now = datetime(2026, 3, 5, 18, 0, tzinfo=UTC)
    every = timedelta(seconds=5)
    assert wake_delay(now + timedelta(seconds=1.5), now=now, longest=every) == 1.5
    assert wake_delay(now - timedelta(seconds=3), now=now, longest=every) == 0.0  # overdue
    assert wake_delay(now + every, now=now, longest=every) is None  # the job comes first


def test_the_dispatcher_is_woken_when_the_next_alert_comes_due(
    service: tuple[Service, CountingSite, SlowFeed, list[datetime]],
) -> None:
    # E.g. an update held until its story's first message is out (1 s), or a channel's
    # Retry-After: sent then, not at the DISPATCH_EVERY job's next run. One timer, the
    # earliest wins; what is further off than the job's period is left to the job.
    svc, _site, _slow, now = service
    at = now[0]

    async def scenario() -> None:
        svc.loop = asyncio.get_running_loop()
        svc._wake_at(at + timedelta(seconds=2))
        assert svc.next_wake_at == at + timedelta(seconds=2)
        first = svc.wake_timer
        svc._wake_at(at + timedelta(seconds=4))  # later: the armed one stays
        assert svc.next_wake_at == at + timedelta(seconds=2) and svc.wake_timer is first
        svc._wake_at(at + timedelta(seconds=1))  # sooner: replaces it
        assert svc.next_wake_at == at + timedelta(seconds=1)
        assert first is not None and first.cancelled()
        svc._wake_at(at + timedelta(minutes=5))  # the periodic job reaches it first
        assert svc.next_wake_at == at + timedelta(seconds=1)
        assert svc.wake_timer is not None
        svc.wake_timer.cancel()

    asyncio.run(scenario())


def test_a_held_alert_arms_the_wake_up_after_a_dispatch_run(
    service: tuple[Service, CountingSite, SlowFeed, list[datetime]],
) -> None:
    svc, _site, _slow, now = service
    with transaction(svc.rt.sessions) as session:
        session.add(AlertRow(story_id=None, route="demo", kind="test", severity="info",
                             status="pending", attempts=0, created_at=now[0],
                             next_attempt_at=now[0] + timedelta(seconds=3)))  # fmt: skip

    async def scenario() -> None:
        svc.wake_dispatcher()  # as after a poll queued something: nothing due yet
        assert svc.dispatching is not None
        await svc.dispatching
        await asyncio.sleep(0)  # the run hands its next wake-up to the loop
        assert svc.next_wake_at == now[0] + timedelta(seconds=3)
        assert svc.wake_timer is not None
        svc.wake_timer.cancel()

    asyncio.run(scenario())


def test_a_poll_whose_articles_failed_is_not_logged_as_working_again(
    service: tuple[Service, DemoSite, SlowFeed, list[datetime]],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """After a database outage, a poll that fetched its feed but could not store an article
    is no all-clear: "poll works again" only once articles are stored again."""
    from monitor import scheduler
    from monitor.pipeline import FeedReport

    svc, _site, _slow, _now = service
    feed = svc.rt.config.settings.feeds[0]
    failed = [1, 0]  # the first poll loses an article, the second stores everything

    async def poll_cycle(feeds: Any, **_: Any) -> list[FeedReport]:
        return [FeedReport(feeds[0].url, 200, None, (), failed.pop(0))]

    monkeypatch.setattr(scheduler, "poll_cycle", poll_cycle)
    extractor = SimpleNamespace(workers=None)  # poll_cycle is replaced: nothing extracts
    svc.failures["poll"].failed(RuntimeError("database is down"))
    with caplog.at_level("INFO", logger="monitor.scheduler"):
        asyncio.run(svc._poll(feed, None, extractor))  # type: ignore[arg-type]
        assert svc.failures["poll"].state()["failing"] is True
        assert not any("works again" in r.getMessage() for r in caplog.records)
        asyncio.run(svc._poll(feed, None, extractor))  # type: ignore[arg-type]
    assert svc.failures["poll"].state()["failing"] is False
    assert any(r.getMessage().startswith("poll works again") for r in caplog.records)


def test_a_replica_on_an_older_config_leaves_a_newly_listed_feed_to_the_others(
    tmp_path: Path,
) -> None:
    """Rolling restart after a feed is added to monitor.yaml: the restarted replica lists
    it, the one still on the old file does not. The old one must not hold the new feed's
    lease (renewed every tick, never polled): the new replica claims it."""
    from monitor.fetch.settings import FeedConfig
    from monitor.storage.db import make_engine, session_factory, upgrade

    old_url, new_url = "http://127.0.0.1:9/old.xml", "http://127.0.0.1:9/new.xml"
    engine = make_engine(f"sqlite:///{tmp_path / 'm.db'}")
    upgrade(engine)
    sessions = session_factory(engine)
    now = datetime(2026, 3, 3, 12, tzinfo=UTC)

    def replica(owner: str, *urls: str) -> Service:
        settings = SimpleNamespace(
            feeds=[FeedConfig(url=u) for u in urls],
            fetch=SimpleNamespace(deadline=timedelta(seconds=60)),
        )
        config = SimpleNamespace(settings=settings, path=tmp_path / "monitor.yaml")
        rt = SimpleNamespace(config=config, sessions=sessions, clock=lambda: now)
        svc = Service(rt)  # type: ignore[arg-type]
        svc.owner = owner
        return svc

    old, new = replica("old", old_url), replica("new", old_url, new_url)
    with transaction(sessions) as session:  # the restarted replica's start-up
        sync_feeds(session=session, feeds=new.rt.config.settings.feeds, now=now)
    try:
        for _ in range(3):  # the old replica ticks first, every time
            assert [f.url for f in old._claim_due(set())] == [old_url]
            assert [f.url for f in new._claim_due(set())] == [new_url]
            old._release_leases(None)
            new._release_leases(None)
    finally:
        engine.dispose()


def test_replicas_sharing_a_host_name_and_pid_hold_leases_apart(tmp_path: Path) -> None:
    """Containers run with --network host all have the host's name and are each pid 1:
    two such replicas must still be two lease owners, or each takes the other's feed
    leases for its own and both poll the same feed at once."""
    feed = "http://127.0.0.1:9/feed.xml"
    from monitor.fetch.settings import FeedConfig
    from monitor.storage.db import make_engine, session_factory, upgrade

    engine = make_engine(f"sqlite:///{tmp_path / 'm.db'}")
    upgrade(engine)
    sessions = session_factory(engine)
    now = datetime(2026, 3, 3, 12, tzinfo=UTC)
    settings = SimpleNamespace(
        feeds=[FeedConfig(url=feed)], fetch=SimpleNamespace(deadline=timedelta(seconds=60))
    )
    config = SimpleNamespace(settings=settings, path=tmp_path / "monitor.yaml")
    rt = SimpleNamespace(config=config, sessions=sessions, clock=lambda: now)
    first, second = Service(rt), Service(rt)  # type: ignore[arg-type]  # same host, same pid
    with transaction(sessions) as session:
        sync_feeds(session=session, feeds=settings.feeds, now=now)
    try:
        assert [f.url for f in first._claim_due(set())] == [feed]
        assert second._claim_due(set()) == []  # leased to the first until it lets go
    finally:
        engine.dispose()
