"""Outbox to fake Slack: one message per story, updated in place, replies in its thread."""

from __future__ import annotations

from datetime import timedelta

from alertkit import T0, add_article, add_story, bot_route, classification, settings_for
from fakeslack import FakeSlack
from sqlalchemy.orm import Session, sessionmaker

from monitor.alert.dispatcher import Dispatcher
from monitor.alert.outbox import enqueue
from monitor.storage.models import AlertRow, Story
from monitor.types import AlertDecision

SENTENCE = "Two rockets struck Camp Taji on Wednesday evening, officials said."


def test_new_then_update_gives_one_message_edited_and_one_thread_reply(
    db: sessionmaker[Session], slack: FakeSlack
) -> None:
    settings = settings_for({"ops": bot_route(slack)})
    cls = classification(
        sentence=SENTENCE, matched=("rockets", "struck"), entities=(("taji", "base", "Camp Taji"),)
    )
    with db.begin() as s:
        story = add_story(s)
        a1 = add_article(s, story, key="a1", outlet="First Outlet", cls=cls)
        enqueue(
            session=s,
            decision=AlertDecision(story.id, "new", "high", ("ops",)),
            story=story,
            article_id=a1.id,
            settings=settings,
            now=T0,
        )
        story_id = story.id
    dispatcher = Dispatcher(settings=settings, sessions=db, clock=lambda: T0 + timedelta(minutes=1))
    report = dispatcher.run_once()
    assert report.sent == 1, report
    [message] = slack.top_level()
    assert (
        "*rockets*" in str(message["blocks"])
        and "Camp Taji" in message["blocks"][0]["text"]["text"]
    )

    with db.begin() as s:
        story = s.get_one(Story, story_id)
        a2 = add_article(
            s, story, key="a2", outlet="Second Outlet", published=T0 + timedelta(hours=20)
        )
        story.severity = "critical"  # dedup raises the story's severity with the new source
        enqueue(
            session=s,
            decision=AlertDecision(story.id, "update", "critical", ("ops",)),
            story=story,
            article_id=a2.id,
            settings=settings,
            now=T0 + timedelta(hours=20),
        )
    report = Dispatcher(
        settings=settings, sessions=db, clock=lambda: T0 + timedelta(hours=21)
    ).run_once()
    assert report.sent == 1, report
    [message] = slack.top_level()
    assert message.get("edited") and "Sources (2)" in str(message["blocks"])
    [reply] = slack.replies(message["ts"])
    assert "Second Outlet" in str(reply["blocks"]) and "CRITICAL" in str(reply["blocks"])
    with db() as s:
        assert {a.status for a in s.query(AlertRow)} == {"sent"}


def test_update_still_replies_when_the_story_message_was_deleted(
    db: sessionmaker[Session], slack: FakeSlack
) -> None:
    settings = settings_for({"ops": bot_route(slack)})
    with db.begin() as s:
        story = add_story(s)
        a1 = add_article(s, story, key="a1", outlet="First Outlet")
        new = AlertDecision(story.id, "new", "high", ("ops",))
        enqueue(session=s, decision=new, story=story, article_id=a1.id, settings=settings, now=T0)
    d = Dispatcher(settings=settings, sessions=db, clock=lambda: T0)
    assert d.run_once().sent == 1
    [message] = slack.top_level()
    slack.channels[slack.channel].messages.clear()  # someone deleted it in Slack
    with db.begin() as s:
        story = s.get_one(Story, story.id)
        a2 = add_article(s, story, key="a2", outlet="Second Outlet")
        upd = AlertDecision(story.id, "update", "high", ("ops",))
        enqueue(session=s, decision=upd, story=story, article_id=a2.id, settings=settings, now=T0)
    assert d.run_once().sent == 1
    assert "Second Outlet" in str(slack.replies(message["ts"]))


def test_sources_arriving_together_give_one_message_and_no_reply(
    db: sessionmaker[Session], slack: FakeSlack
) -> None:
    """Both outlets' reports in one poll: the first message already shows both."""
    settings = settings_for({"ops": bot_route(slack)})
    with db.begin() as s:
        story = add_story(s)
        a1 = add_article(s, story, key="a1", outlet="First Outlet")
        a2 = add_article(
            s, story, key="a2", outlet="Second Outlet", published=T0 + timedelta(hours=2)
        )
        for kind, article in (("new", a1), ("update", a2)):
            enqueue(
                session=s,
                decision=AlertDecision(story.id, kind, "high", ("ops",)),  # type: ignore[arg-type]
                story=story,
                article_id=article.id,
                settings=settings,
                now=T0 + timedelta(hours=2),
            )
    report = Dispatcher(
        settings=settings, sessions=db, clock=lambda: T0 + timedelta(hours=3)
    ).run_once()
    [message] = slack.top_level()
    assert "Sources (2)" in str(message["blocks"]) and "Second Outlet" in str(message["blocks"])
    assert slack.replies(message["ts"]) == []
    assert not message.get("edited")
    assert report.sent == 2
    with db() as s:
        assert {a.status for a in s.query(AlertRow)} == {"sent"}
