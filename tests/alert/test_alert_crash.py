"""Exactly once on a bot route: kill the dispatcher at each step of a send, restart it."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from alertkit import T0, add_article, add_story, bot_route, settings_for
from fakeslack import FakeSlack
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from monitor.alert.outbox import enqueue
from monitor.storage.models import AlertRow, Story
from monitor.types import AlertDecision

SCRIPT = Path(__file__).with_name("crashing_dispatcher.py")


def _outbox(db: sessionmaker[Session], slack: FakeSlack) -> None:
    """Two stories, each with its first alert."""
    settings = settings_for({"ops": bot_route(slack)})
    with db.begin() as s:
        for n in (1, 2):
            story = add_story(s, headline=f"Story {n}")
            art = add_article(s, story, key=f"s{n}a", outlet=f"Outlet {n}")
            enqueue(
                session=s,
                decision=AlertDecision(story.id, "new", "high", ("ops",)),
                story=story,
                article_id=art.id,
                settings=settings,
                now=T0,
            )


def _late_source(db: sessionmaker[Session], slack: FakeSlack) -> None:
    """A second outlet joins story 1 after its message went out: an update."""
    settings = settings_for({"ops": bot_route(slack)})
    with db.begin() as s:
        story = s.get(Story, 1)
        assert story is not None
        late = add_article(s, story, key="s1b", outlet="Late Outlet")
        enqueue(
            session=s,
            decision=AlertDecision(story.id, "update", "high", ("ops",)),
            story=story,
            article_id=late.id,
            settings=settings,
            now=T0,
        )


def _run(engine: Engine, slack: FakeSlack, step: str, kind: str) -> int:
    args = [str(engine.url), slack.api_url, slack.token, slack.channel, step, kind]
    done = subprocess.run([sys.executable, str(SCRIPT), *args], timeout=60, capture_output=True)
    assert done.returncode in (0, 17), done.stderr.decode()[-2000:]
    return done.returncode


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["new", "update"])
@pytest.mark.parametrize("step", ["before_request", "after_accept", "after_record"])
def test_killed_dispatcher_posts_each_story_exactly_once(
    sqlite_engine: Engine, db: sessionmaker[Session], slack: FakeSlack, step: str, kind: str
) -> None:
    _outbox(db, slack)
    if kind == "update":
        assert _run(sqlite_engine, slack, "none", kind) == 0  # the first messages go out
        _late_source(db, slack)
    assert _run(sqlite_engine, slack, step, kind) == 17  # died mid-send
    assert _run(sqlite_engine, slack, "none", kind) == 0  # restarted, emptied the outbox
    if kind == "new":
        _late_source(db, slack)
        assert _run(sqlite_engine, slack, "none", kind) == 0

    per_story = Counter(m["metadata"]["event_payload"]["story_id"] for m in slack.top_level())
    assert sorted(per_story.values()) == [1, 1], per_story
    first = next(m for m in slack.top_level() if m["metadata"]["event_payload"]["story_id"] == 1)
    assert len(slack.replies(first["ts"])) == 1  # the update's thread reply, once
    with db() as s:
        assert {a.status for a in s.query(AlertRow)} == {"sent"}
    if step == "after_accept":  # the send landed but was not recorded: it was looked up
        lookup = "conversations.history" if kind == "new" else "conversations.replies"
        assert slack.calls_to(lookup) >= 1
