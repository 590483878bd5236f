"""/metrics on alert delivery and the database, scraped over HTTP from the service's web
server on each backend while a Slack route breaks, recovers and fails an alert for good."""

from __future__ import annotations

import asyncio
import urllib.request
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from alertkit import T0, queue_new_story
from fakeslack import FakeSlack
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.orm import sessionmaker

from monitor.config import load_config
from monitor.runtime import open_runtime
from monitor.scheduler import Service
from monitor.storage.db import make_engine, transaction
from monitor.web.deps import Console
from monitor.web.server import WebServer
from monitor.web.settings import WebSettings

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(port: int) -> tuple[Samples, str]:
    """Every sample by (name, labels), and the page as served."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as resp:
        assert resp.status == 200
        text = resp.read().decode()
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    return samples, text


def route(name: str, route: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    return name, (("route", route),)


@pytest.fixture
def clock() -> list[datetime]:
    """The service's time, which a test moves on: clock[0]."""
    return [T0]


@pytest.fixture
def service(
    db_url: str, tmp_path: Path, slack: FakeSlack, clock: list[datetime]
) -> Iterator[Service]:
    cfg = tmp_path / "monitor.yaml"
    cfg.write_text(
        "alerts:\n"
        "  routes:\n"
        f"    ops: {{type: slack, token: {slack.token}, channel: {slack.channel},"
        f" api_url: '{slack.api_url}'}}\n"
        "    quiet: {type: console}\n"
        "  dispatch: {channel_interval: 0s, retry_base: 1s, request_timeout: 2s,"
        " permanent_error_pause: 60s}\n"
        "dedup: {semantic: {enabled: false}}\n",
        encoding="utf-8",
    )
    rt = open_runtime(load_config(cfg), db_url, migrate=True)
    rt.clock = lambda: clock[0]
    yield Service(rt)
    rt.close()


@pytest.fixture
def port(service: Service) -> Iterator[int]:
    server = WebServer(replace(service.console(), settings=WebSettings(listen="127.0.0.1:0")))
    server.start()
    yield server.port
    server.stop()


def test_outbox_pauses_and_deliveries_are_scraped(
    service: Service, port: int, slack: FakeSlack, clock: list[datetime]
) -> None:
    settings = service.rt.config.settings.alerts
    before, _ = scrape(port)
    with transaction(service.rt.sessions) as session:
        for key in ("a", "b"):
            queue_new_story(session, settings, headline=f"Rockets hit {key}", key=key,
                            outlet="Outlet A", now=T0 - timedelta(seconds=300))  # fmt: skip

    queued, _ = scrape(port)
    assert queued[("monitor_database_up", ())] == 1
    assert queued[route("monitor_alerts_pending", "ops")] == 2
    assert queued[route("monitor_alerts_oldest_pending_age_seconds", "ops")] == 300
    # A configured route with nothing queued is there at 0, not absent.
    assert queued[route("monitor_alerts_pending", "quiet")] == 0
    assert queued[route("monitor_alerts_oldest_pending_age_seconds", "quiet")] == 0
    assert queued[route("monitor_alerts_route_paused", "ops")] == 0

    slack.fail("chat.postMessage", "invalid_auth")  # the token revoked: the route pauses
    service.dispatch()
    broken, _ = scrape(port)
    assert broken[route("monitor_alerts_route_paused", "ops")] == 1
    assert broken[route("monitor_alerts_route_paused", "quiet")] == 0
    assert broken[route("monitor_alerts_pending", "ops")] == 2
    assert broken[route("monitor_alerts_oldest_pending_age_seconds", "ops")] == 300

    clock[0] = T0 + timedelta(seconds=90)  # the 60 s pause is over
    slack.fail("chat.postMessage", "invalid_blocks")  # the first alert fails for good
    service.dispatch()
    after, _ = scrape(port)
    assert after[route("monitor_alerts_route_paused", "ops")] == 0
    assert after[route("monitor_alerts_pending", "ops")] == 0
    assert after[route("monitor_alerts_oldest_pending_age_seconds", "ops")] == 0
    for name in ("monitor_alerts_sent_total", "monitor_alerts_failed_total"):
        # Counters of this process (other tests in it count too): compare with before.
        assert after[route(name, "ops")] - before[route(name, "ops")] == 1
        assert after[route(name, "quiet")] == before[route(name, "quiet")]
    assert len(slack.top_level()) == 1


def test_a_poll_round_sets_the_last_success_time(
    service: Service, port: int, clock: list[datetime]
) -> None:
    clock[0] = T0 + timedelta(seconds=42)
    asyncio.run(service.tick(None, None))  # type: ignore[arg-type]  # no feeds: nothing fetched
    samples, _ = scrape(port)
    assert (
        samples[("monitor_poll_last_success_timestamp_seconds", ())]
        == (T0 + timedelta(seconds=42)).timestamp()
    )


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:///{tmp}/gone/monitor.db",  # its directory is not there: cannot be opened
        "postgresql://test@127.0.0.1:1/test?connect_timeout=3",  # nothing listens there
    ],
)
def test_an_unreachable_database_scrapes_as_down_without_its_error(
    url: str, tmp_path: Path
) -> None:
    engine = make_engine(url.format(tmp=tmp_path))
    console = Console(WebSettings(listen="127.0.0.1:0"), sessionmaker(engine), clock=lambda: T0)
    server = WebServer(console)
    server.start()
    try:
        samples, text = scrape(server.port)  # still a 200: the process itself answers
    finally:
        server.stop()
        engine.dispose()
    assert samples[("monitor_database_up", ())] == 0
    # What the outbox holds is unknown, so not said (a 0 would read as "all delivered").
    assert not any(name.startswith("monitor_alerts_pending") for name, _ in samples)
    assert "unable to open" not in text and "refused" not in text.lower()
