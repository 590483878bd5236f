"""Routing into the outbox: severity, mute, age, quiet hours, digests, idempotency."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from alertkit import T0, add_article, add_story, settings_for
from sqlalchemy.orm import Session, sessionmaker

from monitor.alert.outbox import after_quiet_hours, enqueue, next_digest, routes_from_env
from monitor.alert.settings import QuietHours, RouteConfig
from monitor.storage.models import AlertRow
from monitor.types import AlertDecision

ROUTES = {
    "all": RouteConfig(type="console"),
    "urgent": RouteConfig(type="console", min_severity="critical"),
    "night": RouteConfig(
        type="console", quiet_hours=QuietHours(start="22:00", end="07:00", timezone="Europe/Berlin")
    ),
    "daily": RouteConfig(type="console", digest=timedelta(days=1)),
}


def _enqueue(
    s: Session,
    kind: str,
    severity: str,
    routes: tuple[str, ...],
    *,
    now: datetime = T0,
    published: datetime = T0,
    muted: bool = False,
    key: str = "a1",
) -> list[AlertRow]:
    story = add_story(s, muted=muted)
    art = add_article(s, story, key=key, outlet="Outlet", published=published)
    decision = AlertDecision(story.id, kind, severity, routes)  # type: ignore[arg-type]
    return enqueue(
        session=s,
        decision=decision,
        story=story,
        article_id=art.id,
        settings=settings_for(ROUTES),
        now=now,
    )


def test_min_severity_filters_routes(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        rows = _enqueue(s, "new", "high", ("all", "urgent"))
        assert [r.route for r in rows] == ["all"]
        assert [r.route for r in _enqueue(s, "new", "critical", ("all", "urgent"), key="a2")] == [
            "all",
            "urgent",
        ]


def test_muted_old_and_undecided_articles_do_not_alert(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        assert _enqueue(s, "new", "high", ("all",), muted=True) == []
        assert (
            _enqueue(s, "new", "high", ("all",), key="a2", published=T0 - timedelta(days=3)) == []
        )
        assert _enqueue(s, None, "high", ("all",), key="a3") == []  # type: ignore[arg-type]
        assert s.query(AlertRow).count() == 0


def test_one_row_per_story_route_kind_article_and_update_before_new_becomes_new(
    sessions: sessionmaker[Session],
) -> None:
    settings = settings_for(ROUTES)
    with sessions.begin() as s:
        story = add_story(s)
        a1 = add_article(s, story, key="a1", outlet="One")
        a2 = add_article(s, story, key="a2", outlet="Two")
        new = AlertDecision(story.id, "new", "high", ("all",))
        first = enqueue(
            session=s, decision=new, story=story, article_id=a1.id, settings=settings, now=T0
        )
        again = enqueue(
            session=s, decision=new, story=story, article_id=a1.id, settings=settings, now=T0
        )
        assert [r.id for r in first] == [r.id for r in again]
        # "urgent" never had this story: the update that makes it critical is its first alert
        upd = AlertDecision(story.id, "update", "critical", ("all", "urgent"))
        rows = enqueue(
            session=s, decision=upd, story=story, article_id=a2.id, settings=settings, now=T0
        )
        assert [(r.route, r.kind) for r in rows] == [("all", "update"), ("urgent", "new")]
        assert story.alerted and set(story.routes) == {"all", "urgent"}
    with sessions() as s:
        assert s.query(AlertRow).count() == 3


def test_quiet_hours_delay_delivery_in_the_route_time_zone(sessions: sessionmaker[Session]) -> None:
    night = datetime(2020, 3, 12, 22, 30, tzinfo=UTC)  # 23:30 in Berlin
    with sessions.begin() as s:
        [row] = _enqueue(s, "new", "high", ("night",), now=night, published=night)
        assert row.next_attempt_at == datetime(2020, 3, 13, 6, 0, tzinfo=UTC)  # 07:00 Berlin
    quiet = QuietHours(start="22:00", end="07:00")
    noon = datetime(2020, 3, 12, 12, 0, tzinfo=UTC)
    assert after_quiet_hours(quiet, noon) == noon
    early = datetime(2020, 3, 12, 3, 0, tzinfo=UTC)
    assert after_quiet_hours(quiet, early) == datetime(2020, 3, 12, 7, 0, tzinfo=UTC)
    day = QuietHours(start="09:00", end="17:00")
    assert after_quiet_hours(day, noon) == datetime(2020, 3, 12, 17, 0, tzinfo=UTC)


def test_digest_routes_wait_for_the_next_slot(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        [row] = _enqueue(s, "new", "high", ("daily",))
        assert row.next_attempt_at == datetime(2020, 3, 13, 0, 0, tzinfo=UTC)
    assert next_digest(T0, timedelta(hours=6)) == datetime(2020, 3, 13, 0, 0, tzinfo=UTC)


def test_routes_from_env() -> None:
    assert routes_from_env({}) == {}
    env = {
        "SLACK_BOT_TOKEN": "xoxb-1",
        "SLACK_CHANNEL": "C123",
        "SLACK_WEBHOOK_URL": "http://127.0.0.1/h",
    }
    routes = routes_from_env(env)
    assert routes["slack"].type == "slack" and routes["slack"].channel == "C123"
    assert routes["slack_webhook"].url == "http://127.0.0.1/h"
    import pytest

    from monitor.errors import ConfigError

    with pytest.raises(ConfigError, match="SLACK_CHANNEL"):
        routes_from_env({"SLACK_BOT_TOKEN": "xoxb-1"})
