"""An operator's split or merge reaches Slack: the story's message is re-rendered in place
and its thread says what changed, through the outbox like any alert (exactly once)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from alertkit import T0, add_article, add_story, bot_route, settings_for
from fakeslack import FakeSlack
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from monitor.alert.dispatcher import Dispatcher, DispatchReport
from monitor.alert.outbox import enqueue
from monitor.alert.settings import AlertsSettings
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


@dataclass(frozen=True)
class Alerted:
    """A story whose first alert is in Slack, with its articles' ids, in outlet order."""

    settings: AlertsSettings
    story_id: int
    article_ids: tuple[int, ...]


def alerted_story(db: sessionmaker[Session], slack: FakeSlack, *outlets: str) -> Alerted:
    settings = settings_for({"ops": bot_route(slack)})
    with db.begin() as s:
        story = add_story(s)
        articles = [
            add_article(s, story, key=f"a{n}", outlet=outlet) for n, outlet in enumerate(outlets)
        ]
        enqueue(
            session=s,
            decision=AlertDecision(story.id, "new", "high", ("ops",)),
            story=story,
            article_id=articles[0].id,
            settings=settings,
            now=T0,
        )
        alerted = Alerted(settings, story.id, tuple(a.id for a in articles))
    Dispatcher(settings=settings, sessions=db, clock=lambda: T0 + timedelta(minutes=1)).run_once()
    return alerted


def correct(tmp_path: Path, engine: Engine, slack: FakeSlack, *command: str) -> None:
    """Run an operator's `monitor stories ...` command against the test's database."""
    args = [*command, "--config", str(config_for(tmp_path, slack)), "--db", str(engine.url)]
    result = CliRunner().invoke(app, ["stories", *args])
    assert result.exit_code == 0, result.output


def dispatch_correction(story: Alerted, db: sessionmaker[Session]) -> DispatchReport:
    # The command dates its correction on the (possibly frozen) wall clock, as the service
    # that dispatches it would read it.
    later = datetime.now(UTC) + timedelta(minutes=1)
    return Dispatcher(settings=story.settings, sessions=db, clock=lambda: later).run_once()


def test_split_edits_the_message_and_says_so_in_its_thread(
    tmp_path: Path, sqlite_engine: Engine, db: sessionmaker[Session], slack: FakeSlack
) -> None:
    story = alerted_story(db, slack, "First Outlet", "Second Outlet")
    [message] = slack.top_level()
    assert "Sources (2)" in str(message["blocks"])

    correct(tmp_path, sqlite_engine, slack, "split", str(story.article_ids[1]))
    report = dispatch_correction(story, db)
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
    story = alerted_story(db, slack, "First Outlet")
    correct(tmp_path, sqlite_engine, slack, "mute", str(story.story_id))
    dispatch_correction(story, db)
    [message] = slack.top_level()
    assert "(muted)" in message["blocks"][0]["text"]["text"]
    [reply] = slack.replies(message["ts"])
    assert "muted" in str(reply["blocks"])
