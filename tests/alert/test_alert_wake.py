"""When the outbox next has something to send: what the service sleeps until instead of
looking at the outbox on a fixed tick. Clocks are injected; nothing here waits."""

from __future__ import annotations

from datetime import datetime, timedelta

from alertkit import T0, add_article, add_story, bot_route, settings_for
from fakeslack import FakeSlack
from sqlalchemy.orm import Session, sessionmaker

from monitor.alert.dispatcher import Dispatcher
from monitor.alert.outbox import enqueue
from monitor.alert.settings import AlertsSettings, RouteConfig
from monitor.storage import alerts as q
from monitor.storage.models import AlertRow
from monitor.types import AlertDecision


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


def _story(db: sessionmaker[Session], settings: AlertsSettings, i: int, route: str) -> None:
    with db.begin() as s:
        story = add_story(s, headline=f"Story {i}")
        art = add_article(s, story, key=f"k{i}", outlet=f"Outlet {i}")
        decision = AlertDecision(story.id, "new", "high", (route,))
        enqueue(session=s, decision=decision, story=story, article_id=art.id,
                settings=settings, now=T0)  # fmt: skip


def test_nothing_pending_means_no_wake_up(db: sessionmaker[Session], slack: FakeSlack) -> None:
    settings = settings_for({"ops": bot_route(slack)})
    assert Dispatcher(settings=settings, sessions=db, clock=Clock(T0)).next_wake() is None


def test_a_queued_alert_is_due_at_once_and_a_sent_one_no_more(
    db: sessionmaker[Session], slack: FakeSlack
) -> None:
    settings = settings_for({"ops": bot_route(slack)})
    _story(db, settings, 0, "ops")
    d = Dispatcher(settings=settings, sessions=db, clock=Clock(T0 + timedelta(seconds=3)))
    assert d.next_wake() == T0  # queued at T0: overdue, send now
    assert d.run_once().sent == 1
    assert d.next_wake() is None


def test_a_429_moves_the_wake_up_to_retry_after_for_every_alert_of_the_channel(
    db: sessionmaker[Session], slack: FakeSlack
) -> None:
    settings = settings_for({"ops": bot_route(slack)})
    for i in range(2):
        _story(db, settings, i, "ops")
    slack.fail("chat.postMessage", "429", retry_after=7)
    clock = Clock(T0)
    d = Dispatcher(settings=settings, sessions=db, clock=clock)
    assert d.run_once().retrying == 1
    # The second alert is due since T0, but its channel is held: not a wake-up every tick.
    assert d.next_wake() == T0 + timedelta(seconds=7)
    clock.at = T0 + timedelta(seconds=7)
    assert d.run_once().sent == 2 and d.next_wake() is None


def test_a_paused_route_does_not_hold_back_another_routes_wake_up(
    db: sessionmaker[Session], slack: FakeSlack
) -> None:
    routes = {"ops": bot_route(slack), "desk": RouteConfig(type="console")}
    settings = settings_for(routes)
    _story(db, settings, 0, "ops")
    d = Dispatcher(settings=settings, sessions=db, clock=Clock(T0))
    d.paused["ops"] = (T0 + timedelta(minutes=10), "token revoked")
    assert d.next_wake() == T0 + timedelta(minutes=10)
    _story(db, settings, 1, "desk")
    assert d.next_wake() == T0


def test_the_due_times_come_back_as_utc_on_both_databases(sessions: sessionmaker[Session]) -> None:
    # The query takes a minimum over the column (and "now" for alerts without a due time):
    # both backends must hand it back as an aware UTC datetime the dispatcher can compare.
    settings = settings_for({"ops": RouteConfig(type="console")})
    later = T0 + timedelta(seconds=90)
    with sessions.begin() as s:
        for i, at in enumerate((later, T0 + timedelta(hours=1))):
            story = add_story(s, headline=f"Story {i}")
            art = add_article(s, story, key=f"k{i}", outlet=f"Outlet {i}")
            (row,) = enqueue(session=s, decision=AlertDecision(story.id, "new", "high", ("ops",)),
                             story=story, article_id=art.id, settings=settings, now=T0)  # fmt: skip
            row.next_attempt_at = at
    with sessions() as s:
        assert q.next_due_by_route(session=s, now=T0) == {"ops": later}
    with sessions.begin() as s:
        s.query(AlertRow).update({"next_attempt_at": None})
    with sessions() as s:
        assert q.next_due_by_route(session=s, now=later) == {"ops": later}
