"""A route's alerts go out one at a time, in the order they were queued, across replicas:
a failing alert holds its own route (not the others) until it is sent or given up, and on
PostgreSQL two replicas claiming one route's alerts at the same moment cannot both send."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

import pytest
from alertkit import FAST, T0, add_article, add_story, bot_route, settings_for
from fakeslack import CHANNEL_ID, FakeSlack
from replica_cluster import wait_for
from sqlalchemy import select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from monitor.alert.dispatcher import Dispatcher
from monitor.alert.outbox import enqueue
from monitor.alert.settings import AlertsSettings, RouteConfig
from monitor.storage import alerts as q
from monitor.storage.db import session_factory
from monitor.storage.models import AlertRow
from monitor.types import AlertDecision

DESK = "C0FAKEDESK"


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


@pytest.fixture
def two_channels() -> Iterator[FakeSlack]:
    with FakeSlack(channels={CHANNEL_ID: "alerts", DESK: "desk"}) as fake:
        yield fake


def two_routes(slack: FakeSlack, max_attempts: int = 12) -> AlertsSettings:
    desk = RouteConfig(type="slack", token=slack.token, channel=DESK, api_url=slack.api_url)
    dispatch = FAST.model_copy(update={"max_attempts": max_attempts})
    return settings_for({"ops": bot_route(slack), "desk": desk}, dispatch=dispatch)


def queue(sessions: sessionmaker[Session], settings: AlertsSettings, *routes: str) -> list[int]:
    """One new story per route given, queued in that order; their stories' ids."""
    ids = []
    with sessions.begin() as s:
        for i, route in enumerate(routes):
            story = add_story(s, headline=f"Story {i}")
            art = add_article(s, story, key=f"k{i}", outlet=f"Outlet {i}")
            enqueue(session=s, decision=AlertDecision(story.id, "new", "high", (route,)),
                    story=story, article_id=art.id, settings=settings, now=T0)  # fmt: skip
            ids.append(story.id)
    return ids


def posted(slack: FakeSlack, channel: str = CHANNEL_ID) -> list[int]:
    """The stories whose messages are in ``channel``, in the order they were posted."""
    return [m["metadata"]["event_payload"]["story_id"] for m in slack.top_level(channel)]


@pytest.mark.parametrize("replicas", [1, 2], ids=["one-replica", "two-replicas"])
def test_a_failing_alert_holds_its_route_not_the_others(
    sessions: sessionmaker[Session], two_channels: FakeSlack, replicas: int
) -> None:
    slack = two_channels
    settings = two_routes(slack)
    first, second, desk = queue(sessions, settings, "ops", "ops", "desk")
    slack.fail("chat.postMessage", "500")  # the first alert's post
    clock = Clock(T0)
    a, b = (Dispatcher(settings=settings, sessions=sessions, clock=clock, owner=f"replica-{i}")
            for i in (1, 2))  # fmt: skip
    report = a.run_once()
    assert (report.retrying, report.sent) == (1, 1)  # the desk's alert went out
    assert posted(slack, DESK) == [desk]
    # Due, but behind the failing one: neither this replica nor another sends it now.
    again = (a if replicas == 1 else b).run_once()
    assert again.sent == 0 and posted(slack) == []
    [head] = [x for x in _alerts(sessions) if x.story_id == first]
    assert head.next_attempt_at is not None and head.next_attempt_at > T0
    clock.at = head.next_attempt_at
    assert (b if replicas == 2 else a).run_once().sent == 2
    assert posted(slack) == [first, second]


def test_an_alert_given_up_lets_the_next_one_go(
    sessions: sessionmaker[Session], two_channels: FakeSlack
) -> None:
    slack = two_channels
    settings = two_routes(slack, max_attempts=2)
    first, second = queue(sessions, settings, "ops", "ops")
    slack.fail("chat.postMessage", "500", times=2)
    clock = Clock(T0)
    d = Dispatcher(settings=settings, sessions=sessions, clock=clock)
    assert d.run_once().retrying == 1
    assert posted(slack) == []  # the second waits for the first
    clock.at = T0 + timedelta(minutes=5)
    report = d.run_once()
    assert (report.failed, report.sent) == (1, 1)  # given up on the first, then the second
    assert posted(slack) == [second]
    assert [(x.story_id, x.status) for x in _alerts(sessions)] == [
        (first, "failed"), (second, "sent"),
    ]  # fmt: skip


def test_the_service_wakes_for_the_failing_alerts_retry_not_for_those_behind_it(
    sessions: sessionmaker[Session], two_channels: FakeSlack
) -> None:
    settings = two_routes(two_channels)
    queue(sessions, settings, "ops", "ops", "desk")
    retry_at = T0 + timedelta(seconds=30)
    with sessions.begin() as s:  # as a failed first attempt leaves the route's first alert
        head = s.get(AlertRow, 1)
        assert head is not None
        head.attempts, head.next_attempt_at, head.last_error = 1, retry_at, "HTTP 500"
        s.get(AlertRow, 3).next_attempt_at = T0 + timedelta(minutes=1)  # type: ignore[union-attr]
    d = Dispatcher(settings=settings, sessions=sessions, clock=Clock(T0 + timedelta(seconds=1)))
    # The second alert has been due since T0: waking for it would find nothing to send.
    assert d.next_wake() == retry_at
    with sessions() as s:
        due = q.next_due_by_route(session=s, now=T0 + timedelta(seconds=1))
    assert due == {"ops": retry_at, "desk": T0 + timedelta(minutes=1)}


def _alerts(sessions: sessionmaker[Session]) -> list[AlertRow]:
    with sessions() as s:
        rows = list(s.scalars(select(AlertRow).order_by(AlertRow.id)))
        s.expunge_all()
        return rows


# -- two replicas claiming one route's alerts at the same moment (PostgreSQL) -------------


def _paused_commit(session: Session, reached: threading.Event, go: threading.Event) -> None:
    """``session.commit`` that waits for ``go`` first: its claim is made, not yet committed."""
    commit = session.commit

    def paused() -> None:
        reached.set()
        go.wait(30)
        commit()

    session.commit = paused  # type: ignore[method-assign]


def _blocked_on_a_lock(engine: Engine, pid: int) -> bool:
    with engine.connect() as conn:
        query = text("SELECT count(*) FROM pg_locks WHERE pid = :pid AND NOT granted")
        return bool(conn.execute(query, {"pid": pid}).scalar())


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)  # conftest's `engine`, PG only
@pytest.mark.parametrize("skew", [0, 2], ids=["same-clock", "clocks-2s-apart"])
def test_a_replica_cannot_claim_a_routes_next_alert_while_another_claims_its_first(
    engine: Engine, skew: int
) -> None:
    """Replica 1 has leased the route's first alert in a transaction not yet committed;
    replica 2 (whose clock may run behind, so the first alert is not due yet by its clock)
    claims the second at that moment. It must wait for replica 1's claim and then leave
    the second alert alone; before the route lock, it took it, and both were sent at once."""
    sessions = session_factory(engine)
    route = f"race-{uuid.uuid4().hex[:8]}"  # the advisory lock is database-wide
    settings = settings_for({route: RouteConfig(type="console")})
    queue(sessions, settings, route, route)
    with sessions.begin() as s:
        first, second = s.scalars(select(AlertRow.id).order_by(AlertRow.id))
        s.get(AlertRow, first).next_attempt_at = T0 + timedelta(seconds=1)  # type: ignore[union-attr]
    lease = timedelta(minutes=1)
    reached, go = threading.Event(), threading.Event()
    s1, s2 = sessions(), sessions()
    _paused_commit(s1, reached, go)
    claims: dict[str, AlertRow | None] = {}

    def claim(name: str, session: Session, alert_id: int, now: datetime) -> Callable[[], None]:
        def run() -> None:
            claims[name] = q.claim_alert(session=session, alert_id=alert_id, owner=name,
                                         now=now, until=now + lease)  # fmt: skip

        return run

    one = threading.Thread(target=claim("replica-1", s1, first, T0 + timedelta(seconds=2)))
    one.start()
    wait_for("replica 1's claim made, not committed", reached.is_set, timeout=30)
    pid = s2.execute(text("SELECT pg_backend_pid()")).scalar_one()
    two = threading.Thread(target=claim("replica-2", s2, second, T0 + timedelta(seconds=2 - skew)))
    two.start()
    wait_for(
        "replica 2's claim decided or waiting",
        lambda: not two.is_alive() or _blocked_on_a_lock(engine, pid),
        timeout=30,
    )
    go.set()
    one.join(30)
    two.join(30)
    s1.close()
    s2.close()
    assert claims["replica-1"] is not None
    assert claims["replica-2"] is None
