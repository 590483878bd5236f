"""An operator's split or merge reaches Slack: the story's message is re-rendered in place
and its thread says what changed, through the outbox like any alert (exactly once)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from alertkit import T0, add_article, add_story, bot_route, settings_for
from fakeslack import FakeSlack
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from monitor.alert.dispatcher import Dispatcher
from monitor.alert.outbox import enqueue
from monitor.cli import app
from monitor.storage.models import AlertRow
from monitor.types import AlertDecision


def config_for(tmp_path: Path, slack: FakeSlack) -> Path:
    path = tmp_path / "monitor.yaml"
    path.write_text(
        "feeds: []\nwatchlists: []\nalerts:\n  routes:\n    ops:\n      type: slack\n"
        f"      token: {slack.token}\n      channel: {slack.channel}\n"
        f"      api_url: {slack.api_url}\n",
        encoding="utf-8",
    )
    return path


def test_split_edits_the_message_and_says_so_in_its_thread(
    tmp_path: Path, sqlite_engine: Engine, db: sessionmaker[Session], slack: FakeSlack
) -> None:
    settings = settings_for({"ops": bot_route(slack)})
    with db.begin() as s:
        story = add_story(s)
        first = add_article(s, story, key="a1", outlet="First Outlet")
        second = add_article(s, story, key="a2", outlet="Second Outlet")
        enqueue(
            session=s,
            decision=AlertDecision(story.id, "new", "high", ("ops",)),
            story=story,
            article_id=first.id,
            settings=settings,
            now=T0,
        )
        second_id = second.id
    clock = T0 + timedelta(minutes=1)
    Dispatcher(settings=settings, sessions=db, clock=lambda: clock).run_once()
    [message] = slack.top_level()
    assert "Sources (2)" in str(message["blocks"])

    args = ["stories", "split", str(second_id), "--config", str(config_for(tmp_path, slack))]
    result = CliRunner().invoke(app, [*args, "--db", str(sqlite_engine.url)])
    assert result.exit_code == 0, result.output

    # The command dates its correction on the (possibly frozen) wall clock, as the service
    # that dispatches it would read it.
    later = datetime.now(UTC) + timedelta(minutes=1)
    report = Dispatcher(settings=settings, sessions=db, clock=lambda: later).run_once()
    assert report.sent == 1, report
    [message] = slack.top_level()  # no new top-level message
    assert message.get("edited") and "Sources (1)" in str(message["blocks"])
    [reply] = slack.replies(message["ts"])
    assert "Corrected by an operator" in str(reply["blocks"])
    assert "Second Outlet" in str(reply["blocks"])
    with db() as s:
        assert set(s.scalars(select(AlertRow.status))) == {"sent"}


def test_mute_marks_the_message_and_stops_later_updates(
    tmp_path: Path, sqlite_engine: Engine, db: sessionmaker[Session], slack: FakeSlack
) -> None:
    settings = settings_for({"ops": bot_route(slack)})
    with db.begin() as s:
        story = add_story(s)
        first = add_article(s, story, key="a1", outlet="First Outlet")
        enqueue(
            session=s,
            decision=AlertDecision(story.id, "new", "high", ("ops",)),
            story=story,
            article_id=first.id,
            settings=settings,
            now=T0,
        )
        story_id = story.id
    Dispatcher(settings=settings, sessions=db, clock=lambda: T0 + timedelta(minutes=1)).run_once()

    args = ["stories", "mute", str(story_id), "--config", str(config_for(tmp_path, slack))]
    result = CliRunner().invoke(app, [*args, "--db", str(sqlite_engine.url)])
    assert result.exit_code == 0, result.output
    later = datetime.now(UTC) + timedelta(minutes=1)
    Dispatcher(settings=settings, sessions=db, clock=lambda: later).run_once()
    [message] = slack.top_level()
    assert "(muted)" in message["blocks"][0]["text"]["text"]
    [reply] = slack.replies(message["ts"])
    assert "muted" in str(reply["blocks"])
