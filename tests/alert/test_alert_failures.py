"""Every failure mode of the fake Slack: retried when it may help, surfaced when it cannot."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from alertkit import T0, add_article, add_story, bot_route, settings_for
from fakeslack import FakeSlack
from sqlalchemy.orm import Session, sessionmaker

from monitor.alert.dispatcher import Dispatcher, build_sinks, verify_routes
from monitor.alert.outbox import enqueue, enqueue_test
from monitor.alert.routes import route_health
from monitor.alert.settings import AlertsSettings, RouteConfig
from monitor.storage import alerts as q
from monitor.storage.models import AlertRow
from monitor.types import AlertDecision


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


def _stories(
    db: sessionmaker[Session],
    settings: AlertsSettings,
    n: int = 1,
    routes: tuple[str, ...] = ("ops",),
) -> None:
    with db.begin() as s:
        for i in range(n):
            story = add_story(s, headline=f"Story {i}")
            art = add_article(s, story, key=f"k{i}", outlet=f"Outlet {i}")
            decision = AlertDecision(story.id, "new", "high", routes)
            enqueue(
                session=s,
                decision=decision,
                story=story,
                article_id=art.id,
                settings=settings,
                now=T0,
            )


def _alerts(db: sessionmaker[Session]) -> list[AlertRow]:
    with db() as s:
        return list(s.query(AlertRow).order_by(AlertRow.id))


def test_429_waits_for_retry_after_and_holds_the_channel(
    db: sessionmaker[Session], slack: FakeSlack
) -> None:
    settings = settings_for({"ops": bot_route(slack)})
    _stories(db, settings, n=2)
    slack.fail("chat.postMessage", "429", retry_after=7)
    clock = Clock(T0)
    d = Dispatcher(settings=settings, sessions=db, clock=clock)
    report = d.run_once()
    assert (report.sent, report.retrying) == (0, 1)
    assert report.deferred == 1  # the second alert was not even tried: the channel is blocked
    first = _alerts(db)[0]
    assert first.next_attempt_at == T0 + timedelta(seconds=7)
    clock.at = T0 + timedelta(seconds=6)
    assert d.run_once().sent == 0
    clock.at = T0 + timedelta(seconds=8)
    assert d.run_once().sent == 2
    assert len(slack.top_level()) == 2


def test_a_429_holds_every_replica_and_the_channel_keeps_its_order(
    db: sessionmaker[Session], slack: FakeSlack
) -> None:
    """Replica 1 is told Retry-After; replica 2, which was not, must wait as well (Slack
    rate-limits the app, not one process), and the stories then post in queued order."""
    settings = settings_for({"ops": bot_route(slack)})
    _stories(db, settings, n=2)
    slack.fail("chat.postMessage", "429", retry_after=7)
    clock = Clock(T0)
    first = Dispatcher(settings=settings, sessions=db, clock=clock, owner="replica-1")
    second = Dispatcher(settings=settings, sessions=db, clock=clock, owner="replica-2")
    with db() as s:  # replica 1 holds the first alert: replica 2 may only look on
        claimed = q.claim_alert(session=s, alert_id=1, owner="replica-1", now=T0,
                                until=T0 + timedelta(minutes=1))  # fmt: skip
        assert claimed is not None
    assert second.run_once().sent == 0  # not the second alert ahead of the first
    with db.begin() as s:
        s.get(AlertRow, 1).lease_owner = s.get(AlertRow, 1).lease_until = None  # type: ignore[union-attr]
    assert first.run_once().retrying == 1  # the 429
    clock.at = T0 + timedelta(seconds=6)
    assert second.run_once().sent == 0  # within the Retry-After replica 1 was given
    assert slack.calls_to("chat.postMessage") == 1
    clock.at = T0 + timedelta(seconds=8)
    assert second.run_once().sent == 2
    posted = [m["metadata"]["event_payload"]["story_id"] for m in slack.top_level()]
    assert posted == [a.story_id for a in _alerts(db)]


@pytest.mark.parametrize("mode", ["500", "reset", "drop_reply", "timeout"])
def test_transient_failures_retry_and_post_exactly_once(
    db: sessionmaker[Session], slack: FakeSlack, mode: str
) -> None:
    settings = settings_for({"ops": bot_route(slack)})
    _stories(db, settings)
    slack.fail("chat.postMessage", mode, delay=1.5)
    clock = Clock(T0)
    d = Dispatcher(settings=settings, sessions=db, clock=clock)
    report = d.run_once()
    assert report.retrying == 1 and report.sent == 0, report
    [alert] = _alerts(db)
    assert alert.status == "pending" and alert.attempts == 1 and alert.last_error
    assert alert.next_attempt_at is not None and alert.next_attempt_at > T0  # backoff
    clock.at = T0 + timedelta(minutes=5)
    assert d.run_once().sent == 1
    assert len(slack.top_level()) == 1  # "drop_reply"/"timeout" landed: found, not re-posted
    assert slack.calls_to("conversations.history") == 1


@pytest.mark.parametrize("error", ["invalid_auth", "channel_not_found", "is_archived"])
def test_a_broken_route_pauses_keeps_its_alerts_and_spares_other_routes(
    db: sessionmaker[Session], slack: FakeSlack, error: str
) -> None:
    routes = {
        "ops": bot_route(slack),
        "hook": RouteConfig(type="slack_webhook", url=slack.webhook_url),
    }
    settings = settings_for(routes)
    _stories(db, settings, n=3, routes=("ops", "hook"))
    slack.fail("chat.postMessage", error, times=5)
    clock = Clock(T0)
    d = Dispatcher(settings=settings, sessions=db, clock=clock)
    report = d.run_once()
    assert report.failed == 0 and report.sent == 3  # all three webhook alerts went out
    assert [a.status for a in _alerts(db) if a.route == "ops"] == ["pending"] * 3
    tried = next(a for a in _alerts(db) if a.route == "ops" and a.first_attempt_at)
    # tried once, but the route's fault uses up none of the alert's attempts
    assert error in (tried.last_error or "") and tried.attempts == 0
    assert d.health()["ops"].startswith("paused") and error in d.health()["ops"]
    assert d.health()["hook"] == "ok"
    assert slack.calls_to("chat.postMessage") == 1  # not hammered: the route is paused
    assert len(slack.webhook_posts) == 3
    with db() as s:
        health = route_health(session=s, settings=settings, paused=d.health())
    assert health["ops"]["status"] == "paused" and error in health["ops"]["detail"]
    assert health["hook"] == health["hook"] | {"status": "ok", "sent": 3, "failed": 0}
    # Within the pause nothing is tried; once the operator has fixed the route (the fake
    # stops failing) and the pause is over, every held alert goes out, each exactly once.
    clock.at = T0 + settings.dispatch.permanent_error_pause / 2
    assert d.run_once().sent == 0 and slack.calls_to("chat.postMessage") == 1
    while slack.take_failure("chat.postMessage"):
        pass
    clock.at = T0 + settings.dispatch.permanent_error_pause + timedelta(seconds=1)
    assert d.run_once().sent == 3
    assert [a.status for a in _alerts(db)] == ["sent"] * 6
    assert len(slack.top_level()) == 3


def test_a_test_alert_on_a_broken_route_fails_at_once(
    db: sessionmaker[Session], slack: FakeSlack
) -> None:
    settings = settings_for({"ops": bot_route(slack)})
    with db.begin() as s:
        enqueue_test(session=s, route="ops", settings=settings, now=T0)
    slack.fail("chat.postMessage", "not_in_channel")
    assert Dispatcher(settings=settings, sessions=db, clock=Clock(T0)).run_once().failed == 1
    [alert] = _alerts(db)
    assert alert.status == "failed" and "not_in_channel" in (alert.last_error or "")


def test_msg_too_long_falls_back_to_a_compact_message(
    db: sessionmaker[Session], slack: FakeSlack
) -> None:
    settings = settings_for({"ops": bot_route(slack)})
    _stories(db, settings)
    slack.fail("chat.postMessage", "msg_too_long")
    assert Dispatcher(settings=settings, sessions=db, clock=Clock(T0)).run_once().sent == 1
    [message] = slack.top_level()
    assert len(message["blocks"]) == 1 and "Story 0" in message["blocks"][0]["text"]["text"]


def test_gives_up_after_max_attempts(db: sessionmaker[Session], slack: FakeSlack) -> None:
    settings = settings_for({"ops": bot_route(slack)})
    settings = settings.model_copy(
        update={"dispatch": settings.dispatch.model_copy(update={"max_attempts": 2})}
    )
    _stories(db, settings)
    slack.fail("chat.postMessage", "500", times=5)
    clock = Clock(T0)
    d = Dispatcher(settings=settings, sessions=db, clock=clock)
    assert d.run_once().retrying == 1
    clock.at = T0 + timedelta(hours=1)
    assert d.run_once().failed == 1
    [alert] = _alerts(db)
    assert alert.status == "failed" and alert.attempts == 2
    assert "internal_error" in (alert.last_error or "")


def test_a_broken_route_uses_up_no_attempts_and_gives_up_only_after_max_wait(
    db: sessionmaker[Session], slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    """A channel the bot was removed from for a long weekend: its alerts outlast
    max_attempts pauses and are still sent once it is fixed; only broken_route_max_wait
    gives them up."""
    settings = settings_for({"ops": bot_route(slack)})
    settings = settings.model_copy(
        update={"dispatch": settings.dispatch.model_copy(update={"max_attempts": 2})}
    )
    _stories(db, settings, n=2)
    slack.fail("chat.postMessage", "channel_not_found", times=1000)
    clock = Clock(T0)
    d = Dispatcher(settings=settings, sessions=db, clock=clock)
    pause = settings.dispatch.permanent_error_pause
    for i in range(10):  # five times max_attempts pauses
        clock.at = T0 + (pause + timedelta(seconds=1)) * i
        assert d.run_once().failed == 0
    assert [(a.status, a.attempts) for a in _alerts(db)] == [("pending", 0)] * 2
    assert slack.calls_to("chat.postMessage") == 10  # once per pause, not hammered
    paused = [r for r in caplog.records if "paused until" in r.getMessage()]
    assert len(paused) == 10 and {r.levelname for r in paused} == {"ERROR"}
    said = [r.getMessage() for r in paused]
    assert "route 'ops' paused until 2020-03-12 " in said[-1] and "invite the bot" in said[-1]
    assert "kept pending (2 now)" in said[-1]
    # Past broken_route_max_wait (since queued) both are given up, without another try.
    clock.at = T0 + settings.dispatch.broken_route_max_wait
    assert d.run_once().failed == 2 and slack.calls_to("chat.postMessage") == 10
    failed = _alerts(db)
    assert all("broken_route_max_wait" in (a.last_error or "") for a in failed)
    assert all("channel_not_found" in (a.last_error or "") for a in failed)


def test_verify_routes_names_the_problem(slack: FakeSlack) -> None:
    good = settings_for({"ops": bot_route(slack)})
    assert verify_routes(build_sinks(good)) == []
    bad_route = RouteConfig(
        type="slack", token="xoxb-wrong", channel=slack.channel, api_url=slack.api_url
    )
    [problem] = verify_routes(
        build_sinks(settings_for({"ops": bad_route, "console": RouteConfig(type="console")}))
    )
    assert "'ops'" in problem and "invalid_auth" in problem and "SLACK_BOT_TOKEN" in problem
    down = RouteConfig(type="slack", token="x", channel="C1", api_url="http://127.0.0.1:9/api/")
    [problem] = verify_routes(build_sinks(settings_for({"down": down})))
    assert "'down'" in problem and "auth.test" in problem
    # At start-up only what retrying cannot fix stops the service; Slack being down does not.
    both = build_sinks(settings_for({"down": down, "ops": bad_route}))
    [problem] = verify_routes(both, permanent_only=True)
    assert "'ops'" in problem and "invalid_auth" in problem


def test_paces_one_message_per_interval_per_channel(
    db: sessionmaker[Session], slack: FakeSlack
) -> None:
    settings = settings_for({"ops": bot_route(slack)})
    settings = settings.model_copy(
        update={
            "dispatch": settings.dispatch.model_copy(
                update={"channel_interval": timedelta(seconds=1)}
            )
        }
    )
    _stories(db, settings, n=3)
    # A monotonic clock that moves 0.3 s per send and by each wait: what is asserted is the
    # pacing arithmetic, not how long this machine took between two posts.
    now = [100.0]
    waits: list[float] = []

    def monotonic() -> float:
        now[0] += 0.3
        return now[0]

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    Dispatcher(
        settings=settings, sessions=db, clock=Clock(T0), sleep=sleep, monotonic=monotonic
    ).run_once()
    assert len(slack.top_level()) == 3
    assert waits == pytest.approx([0.7, 0.7])
