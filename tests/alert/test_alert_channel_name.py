"""A Slack route that names its channel ("#alerts") instead of giving its ID: the ID is looked
up once with conversations.list, or where that cannot find it (no channels:read and
groups:read scopes) learnt from a scheduled message deleted at once, so a retry after a lost
reply can find what it posted."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from alertkit import T0, queue_new_story, settings_for
from fakeslack import CHANNEL_ID, Channel, FakeSlack
from sqlalchemy.orm import Session, sessionmaker

from monitor.alert.dispatcher import Dispatcher, build_sinks, verify_routes
from monitor.alert.settings import AlertsSettings, RouteConfig
from monitor.alert.slack import SlackSink


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


def by_name(slack: FakeSlack, channel: str = "#alerts") -> AlertsSettings:
    route = RouteConfig(type="slack", token=slack.token, channel=channel, api_url=slack.api_url)
    return settings_for({"ops": route})


def _stories(db: sessionmaker[Session], settings: AlertsSettings, n: int = 1) -> None:
    with db.begin() as s:
        for i in range(n):
            queue_new_story(s, settings, headline=f"Story {i}", key=f"k{i}", outlet=f"Outlet {i}")


def _posted_to(slack: FakeSlack) -> list[str]:
    return [p["channel"] for m, p in slack.calls if m == "chat.postMessage"]


@pytest.fixture
def unscoped() -> Iterator[FakeSlack]:
    """A token that may post but not list channels (no channels:read, groups:read)."""
    with FakeSlack(scopes=frozenset({"chat:write", "channels:history"})) as fake:
        yield fake


@pytest.mark.parametrize("restart", [False, True], ids=["same-dispatcher", "restarted"])
def test_a_lost_reply_on_a_channel_given_by_name_posts_the_alert_once(
    db: sessionmaker[Session], slack: FakeSlack, restart: bool
) -> None:
    settings = by_name(slack)
    _stories(db, settings)
    slack.fail("chat.postMessage", "drop_reply")  # Slack keeps the message, the reply is lost
    clock = Clock(T0)
    d = Dispatcher(settings=settings, sessions=db, clock=clock)
    assert d.run_once().retrying == 1
    assert len(slack.top_level()) == 1
    clock.at = T0 + timedelta(minutes=5)
    if restart:  # a new process: nothing learnt in memory, nothing recorded in the outbox
        d = Dispatcher(settings=settings, sessions=db, clock=clock)
    report = d.run_once()
    assert (report.sent, report.retrying, report.failed) == (1, 0, 0)
    assert len(slack.top_level()) == 1  # found by its alert id, not posted again
    assert slack.calls_to("conversations.history") == 1
    assert slack.calls_to("conversations.list") == (2 if restart else 1)
    assert _posted_to(slack) == [CHANNEL_ID]


def test_the_channel_is_looked_up_once_per_route_and_posted_to_by_id(
    db: sessionmaker[Session], slack: FakeSlack
) -> None:
    settings = by_name(slack, channel="alerts")  # without "#" too
    _stories(db, settings, n=3)
    assert Dispatcher(settings=settings, sessions=db, clock=Clock(T0)).run_once().sent == 3
    assert slack.calls_to("conversations.list") == 1
    assert _posted_to(slack) == [CHANNEL_ID] * 3
    [(_, params)] = [c for c in slack.calls if c[0] == "conversations.list"]
    assert params["types"] == "public_channel,private_channel"
    assert params["limit"] == "200"
    assert params["exclude_archived"] in ("1", "true")


def test_the_lookup_follows_the_cursor_through_every_page(
    db: sessionmaker[Session],
) -> None:
    others = {f"C0OTHER{i:04d}": f"other-{i}" for i in range(450)}
    channels = {**others, "G0PRIVATE01": "alerts"}  # on the third page of 200
    with FakeSlack(channels=channels) as slack:
        slack.channels["G0PRIVATE01"].private = True
        settings = by_name(slack)
        _stories(db, settings)
        slack.fail("chat.postMessage", "drop_reply")
        clock = Clock(T0)
        d = Dispatcher(settings=settings, sessions=db, clock=clock)
        d.run_once()
        clock.at = T0 + timedelta(minutes=5)
        assert d.run_once().sent == 1
        assert len(slack.top_level("G0PRIVATE01")) == 1
        cursors = [p.get("cursor") for m, p in slack.calls if m == "conversations.list"]
        assert cursors == [None, "200", "400"]
        assert _posted_to(slack) == ["G0PRIVATE01"]


def test_an_archived_channel_of_that_name_is_not_taken(db: sessionmaker[Session]) -> None:
    with FakeSlack(channels={"C0OLDALERTS": "alerts", CHANNEL_ID: "alerts"}) as slack:
        slack.channels["C0OLDALERTS"].archived = True
        sink = build_sinks(by_name(slack))["ops"]
        assert isinstance(sink, SlackSink)
        assert sink.channel_id() == CHANNEL_ID


@pytest.mark.parametrize("restart", [False, True], ids=["same-dispatcher", "restarted"])
def test_without_the_scope_a_lost_reply_still_posts_the_alert_once(
    db: sessionmaker[Session], unscoped: FakeSlack, restart: bool
) -> None:
    """The token cannot list channels: the ID comes from a probe scheduled and deleted at
    once, so the retry looks in the channel and finds the alert Slack kept."""
    settings = by_name(unscoped)
    _stories(db, settings)
    unscoped.fail("chat.postMessage", "drop_reply")
    clock = Clock(T0)
    d = Dispatcher(settings=settings, sessions=db, clock=clock)
    assert d.run_once().retrying == 1
    clock.at = T0 + timedelta(minutes=5)
    if restart:
        d = Dispatcher(settings=settings, sessions=db, clock=clock)
    assert d.run_once().sent == 1
    assert len(unscoped.top_level()) == 1  # found by its alert id, not posted again
    assert _posted_to(unscoped) == [CHANNEL_ID]
    assert unscoped.scheduled == {}  # no probe left to be posted later
    probes = [p for m, p in unscoped.calls if m == "chat.scheduleMessage"]
    assert len(probes) == (2 if restart else 1)
    assert all(p["channel"] == "#alerts" and "#alerts" in p["text"] for p in probes)
    # dated by the dispatcher's clock, not the wall clock: a month after its reading
    read = {T0, T0 + timedelta(minutes=5)}
    ahead = {int((t + timedelta(days=30)).timestamp()) for t in read}
    assert {int(p["post_at"]) for p in probes} <= ahead


def test_a_probe_whose_reply_was_lost_is_found_and_deleted_before_the_post(
    db: sessionmaker[Session], unscoped: FakeSlack
) -> None:
    settings = by_name(unscoped)
    _stories(db, settings)
    unscoped.fail("chat.scheduleMessage", "drop_reply")  # scheduled, the reply lost
    clock = Clock(T0)
    d = Dispatcher(settings=settings, sessions=db, clock=clock)
    assert d.run_once().retrying == 1
    assert unscoped.top_level() == [] and len(unscoped.scheduled) == 1
    clock.at = T0 + timedelta(minutes=5)
    assert d.run_once().sent == 1
    assert unscoped.scheduled == {}
    assert unscoped.calls_to("chat.scheduleMessage") == 1  # found, not scheduled again
    assert _posted_to(unscoped) == [CHANNEL_ID]


def test_without_the_scope_the_route_posts_to_the_id_and_warns_of_nothing(
    db: sessionmaker[Session], unscoped: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    settings = by_name(unscoped)
    sinks = build_sinks(settings)
    with caplog.at_level(logging.WARNING, logger="monitor.alert.slack"):
        assert verify_routes(sinks) == []
        _stories(db, settings, n=2)
        report = Dispatcher(settings=settings, sessions=db, sinks=sinks, clock=Clock(T0)).run_once()
    assert report.sent == 2
    assert unscoped.calls_to("conversations.list") == 1
    assert unscoped.calls_to("chat.scheduleMessage") == 1
    assert _posted_to(unscoped) == [CHANNEL_ID, CHANNEL_ID]
    assert [r.getMessage() for r in caplog.records] == []
    sink = sinks["ops"]
    assert isinstance(sink, SlackSink) and sink.channel_note is None


def test_when_neither_lookup_is_allowed_the_route_posts_and_says_once_what_could_repeat(
    db: sessionmaker[Session], unscoped: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    """Pins what is left: a Slack that refuses chat.scheduledMessages.list too (its docs
    say it needs no scope) leaves the ID unknown until the first reply; a lost one could
    repeat that first alert, and the route says so, once."""
    settings = by_name(unscoped)
    sinks = build_sinks(settings)
    unscoped.fail("chat.scheduledMessages.list", "missing_scope")
    with caplog.at_level(logging.WARNING, logger="monitor.alert.slack"):
        assert verify_routes(sinks) == []  # a problem for exactly-once, not for posting
        _stories(db, settings, n=2)
        unscoped.fail("chat.postMessage", "drop_reply")
        clock = Clock(T0)
        d = Dispatcher(settings=settings, sessions=db, sinks=sinks, clock=clock)
        assert d.run_once().retrying == 1
        clock.at = T0 + timedelta(minutes=5)
        assert d.run_once().sent == 2
    assert len(unscoped.top_level()) == 3  # the first alert twice: what the warning says
    assert unscoped.calls_to("chat.scheduleMessage") == 0
    assert _posted_to(unscoped) == ["#alerts", "#alerts", CHANNEL_ID]
    said = [r.getMessage() for r in caplog.records if "probed" in r.getMessage()]
    assert len(said) == 1
    for words in ("missing_scope", "channels:read", "groups:read", "posted twice", "C0123"):
        assert words in said[0]
    sink = sinks["ops"]
    assert isinstance(sink, SlackSink) and sink.channel_note == said[0]


def test_a_channel_the_bot_cannot_see_yet_holds_its_alerts_until_it_can(
    db: sessionmaker[Session], unscoped: FakeSlack
) -> None:
    """Start-up goes on (as for a channel given by ID), the route pauses, and once the bot
    is in the channel the ID is probed again and the alert posted there, once."""
    settings = by_name(unscoped, "#ops")
    sinks = build_sinks(settings)
    assert verify_routes(sinks, permanent_only=True) == []
    _stories(db, settings)
    clock = Clock(T0)
    d = Dispatcher(settings=settings, sessions=db, sinks=sinks, clock=clock)
    assert d.run_once().retrying == 1
    assert d.health()["ops"].startswith("paused until ")
    assert "chat.scheduleMessage: channel_not_found: invite the bot" in d.health()["ops"]
    unscoped.channels["C0FAKEOPS"] = Channel("C0FAKEOPS", "ops")  # the bot was invited
    clock.at = T0 + settings.dispatch.permanent_error_pause + timedelta(seconds=1)
    assert d.run_once().sent == 1
    assert _posted_to(unscoped) == ["C0FAKEOPS"]
    assert unscoped.calls_to("chat.scheduleMessage") == 3  # start-up, the pause, the post
    assert unscoped.scheduled == {}


def test_a_rate_limited_lookup_waits_for_retry_after_then_posts_once(
    db: sessionmaker[Session], slack: FakeSlack
) -> None:
    settings = by_name(slack)
    _stories(db, settings)
    slack.fail("conversations.list", "429", retry_after=9)
    clock = Clock(T0)
    d = Dispatcher(settings=settings, sessions=db, clock=clock)
    assert d.run_once().retrying == 1
    assert slack.top_level() == []  # nothing posted before the ID is known
    clock.at = T0 + timedelta(seconds=8)
    assert d.run_once().sent == 0  # the channel is held until Retry-After
    clock.at = T0 + timedelta(seconds=10)
    assert d.run_once().sent == 1
    assert len(slack.top_level()) == 1
    assert _posted_to(slack) == [CHANNEL_ID]


@pytest.mark.parametrize("scoped", [True, False], ids=["looked-up", "no-scope"])
def test_a_route_pointed_at_another_channel_posts_there_not_where_it_posted_before(
    db: sessionmaker[Session], scoped: bool
) -> None:
    """The operator changes `channel: "#alerts"` to `"#ops"`: the ID the outbox recorded for
    the route's earlier messages is the old channel's and must not redirect new posts."""
    scopes = None if scoped else frozenset({"chat:write", "channels:history"})
    kwargs = {} if scopes is None else {"scopes": scopes}
    with FakeSlack(channels={CHANNEL_ID: "alerts", "C0FAKEOPS": "ops"}, **kwargs) as fake:
        before = by_name(fake, "#alerts")
        _stories(db, before)
        assert Dispatcher(settings=before, sessions=db, clock=Clock(T0)).run_once().sent == 1
        after = by_name(fake, "#ops")
        with db.begin() as s:
            queue_new_story(s, after, headline="Later story", key="later", outlet="Later Outlet")
        clock = Clock(T0 + timedelta(minutes=1))
        assert Dispatcher(settings=after, sessions=db, clock=clock).run_once().sent == 1
        assert [len(fake.top_level(c)) for c in (CHANNEL_ID, "C0FAKEOPS")] == [1, 1]
