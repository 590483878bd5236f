"""Webhook follow-ups, digests, the generic JSON webhook and the console."""

from __future__ import annotations

import io
from datetime import datetime, timedelta

import pytest
from alertkit import T0, add_article, add_story, settings_for
from fakeslack import FakeSlack
from sqlalchemy.orm import Session, sessionmaker

from monitor.alert.dispatcher import Dispatcher
from monitor.alert.outbox import enqueue
from monitor.alert.settings import AlertsSettings, RouteConfig
from monitor.alert.sinks import ConsoleSink
from monitor.storage.models import AlertRow, Story
from monitor.types import AlertDecision


class Clock:
    def __init__(self) -> None:
        self.at = T0

    def __call__(self) -> datetime:
        return self.at


def _add(
    db: sessionmaker[Session], settings: AlertsSettings, story_id: int | None, key: str, kind: str
) -> int:
    with db.begin() as s:
        story = s.get_one(Story, story_id) if story_id else add_story(s)
        art = add_article(s, story, key=key, outlet=f"Outlet {key}")
        decision = AlertDecision(story.id, kind, "high", tuple(settings.routes))  # type: ignore[arg-type]
        enqueue(
            session=s, decision=decision, story=story, article_id=art.id, settings=settings, now=T0
        )
        return story.id


def test_slack_webhook_batches_updates_into_one_follow_up_per_cooldown(
    db: sessionmaker[Session], slack: FakeSlack
) -> None:
    settings = settings_for(
        {"hook": RouteConfig(type="slack_webhook", url=slack.webhook_url)},
        update_cooldown=timedelta(minutes=30),
    )
    clock = Clock()
    d = Dispatcher(settings=settings, sessions=db, clock=clock)
    story_id = _add(db, settings, None, "a", "new")
    assert d.run_once().sent == 1
    _add(db, settings, story_id, "b", "update")
    _add(db, settings, story_id, "c", "update")
    clock.at = T0 + timedelta(minutes=10)
    report = d.run_once()
    assert report.sent == 0 and report.deferred >= 1  # inside the cooldown
    clock.at = T0 + timedelta(minutes=31)
    assert d.run_once().sent == 2  # both updates, one message
    assert len(slack.webhook_posts) == 2
    follow_up = str(slack.webhook_posts[1]["blocks"])
    assert "*+2 sources*: Outlet b, Outlet c" in follow_up  # the lead names both outlets
    assert "• <https://outletb.localhost/b|Outlet b>" in follow_up
    assert slack.webhook_posts[1]["metadata"]["event_payload"][
        "alert_id"
    ]  # receivers can de-duplicate


def test_digest_route_sends_one_summary_of_due_stories(
    db: sessionmaker[Session], slack: FakeSlack
) -> None:
    route = RouteConfig(
        type="slack",
        token=slack.token,
        channel=slack.channel,
        api_url=slack.api_url,
        digest=timedelta(hours=1),
    )
    settings = settings_for({"digest": route})
    for key in ("x", "y", "z"):
        _add(db, settings, None, key, "new")
    clock = Clock()
    d = Dispatcher(settings=settings, sessions=db, clock=clock)
    assert d.run_once().sent == 0  # the next slot is 21:00
    clock.at = T0 + timedelta(hours=1)
    assert d.run_once().sent == 3
    [message] = slack.top_level()
    assert "Digest: 3 stories" in message["text"] and len(message["blocks"]) == 4
    assert sorted(message["metadata"]["event_payload"]["alert_ids"]) == [1, 2, 3]


def test_generic_webhook_gets_json_with_the_alert_id(
    db: sessionmaker[Session], slack: FakeSlack
) -> None:
    settings = settings_for({"json": RouteConfig(type="webhook", url=slack.webhook_url)})
    _add(db, settings, None, "a", "new")
    slack.fail("webhook", "500")
    clock = Clock()
    d = Dispatcher(settings=settings, sessions=db, clock=clock)
    assert d.run_once().retrying == 1
    clock.at = T0 + timedelta(hours=1)
    assert d.run_once().sent == 1
    [post] = slack.webhook_posts
    assert post["alert_id"] == 1 and post["kind"] == "new"
    assert post["story"]["headline"] and post["story"]["sources"][0]["outlet"] == "Outlet a"


def test_console_prints_a_readable_alert(db: sessionmaker[Session]) -> None:
    settings = settings_for({"console": RouteConfig(type="console")})
    _add(db, settings, None, "a", "new")
    out = io.StringIO()
    Dispatcher(
        settings=settings, sessions=db, sinks={"console": ConsoleSink(out)}, clock=Clock()
    ).run_once()
    text = out.getvalue()
    assert "HIGH · Rocket attack" in text and "Outlet a (https://outleta.localhost/a)" in text
    with db() as s:
        assert s.query(AlertRow).one().status == "sent"


def test_muted_after_enqueue_is_skipped(db: sessionmaker[Session], slack: FakeSlack) -> None:
    settings = settings_for({"hook": RouteConfig(type="slack_webhook", url=slack.webhook_url)})
    story_id = _add(db, settings, None, "a", "new")
    with db.begin() as s:
        s.get_one(Story, story_id).muted = True
    assert Dispatcher(settings=settings, sessions=db, clock=Clock()).run_once().skipped == 1
    assert slack.webhook_posts == []


def test_webhook_errors_never_show_the_secret_in_the_url() -> None:
    from monitor.alert.render import SlackMessage
    from monitor.alert.sinks import Outgoing, WebhookSink
    from monitor.errors import NotifyError

    sink = WebhookSink("http://127.0.0.1:1/hooks/s3cr3tTOKEN?key=hidden", timeout=1.0)
    outgoing = Outgoing((1,), "new", 1, SlackMessage("t", ()), payload={"x": 1})
    with pytest.raises(NotifyError) as info:
        sink.send(outgoing)
    assert "127.0.0.1:1" in str(info.value)
    assert "s3cr3t" not in str(info.value) and "hidden" not in str(info.value)
