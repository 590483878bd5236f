"""Alerts across dedup's merge of headline fragments (dedup/merging.py): exactly once.

Every headline here fires a rule of the shipped watchlists; the dedup settings keep each
from joining a story by its score, so only the merge step brings two stories together.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from alertkit import bot_route, settings_for
from fakeslack import FakeSlack
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from monitor.alert.dispatcher import Dispatcher
from monitor.classify.classifier import Classifier
from monitor.config import load_config
from monitor.dedup.clusterer import StoryClusterer
from monitor.dedup.settings import (
    CombinerSettings,
    DedupSettings,
    HeadlineMergeSettings,
    SemanticSettings,
)
from monitor.pipeline import Stages, process_article
from monitor.resources import shipped_config_dir
from monitor.storage.db import transaction
from monitor.storage.models import AlertRow, ArticleRow, Story
from monitor.types import Article

T0 = datetime(2020, 3, 11, 20, 0, tzinfo=UTC)
HEADLINES = (
    "Rockets hit Camp Taji north of Baghdad, killing two US soldiers",
    "Rocket barrage on Iraqi base at Taji kills coalition troops",
    "Katyusha rockets strike Taji military camp, coalition says",
)


class OneSubject:
    """Every text means about the same (each a little apart), as headlines of one story."""

    dimensions = 2

    def encode(self, text: str) -> tuple[float, ...]:
        wobble = (sum(map(ord, text)) % 13) / 40
        return (1 / math.hypot(1, wobble), wobble / math.hypot(1, wobble))


def dedup(merge: bool) -> DedupSettings:
    return DedupSettings(
        join_threshold=50.0,
        combiner=CombinerSettings(enabled=False),
        semantic=SemanticSettings(headline_confirm=1.0, confirm=1.0),
        headline_merge=HeadlineMergeSettings(enabled=merge),
    )


def process(db: sessionmaker[Session], slack: FakeSlack, n: int, *, merge: bool) -> int:
    """Headline ``n`` through the pipeline, then the dispatcher; its story id."""
    config = load_config(shipped_config_dir() / "monitor.yaml")
    classifier = Classifier(config.watchlist)
    alerts = settings_for({"default": bot_route(slack)}, max_age=timedelta(days=5000))
    stages = Stages(lambda: classifier, StoryClusterer(dedup(merge), encoder=OneSubject()), alerts)
    when = T0 + timedelta(minutes=10 * n)
    article = Article(
        key=f"h{n}", url=f"http://127.0.0.1/h{n}", title=HEADLINES[n], text=HEADLINES[n],
        published=when, source=f"Outlet {n}",
    )  # fmt: skip
    with transaction(db) as session:
        outcome = process_article(session=session, article=article, stages=stages, now=when)
    Dispatcher(settings=alerts, sessions=db, clock=lambda: when + timedelta(minutes=1)).run_once()
    assert outcome.story_id is not None
    return outcome.story_id


def alerts_by_story(db: sessionmaker[Session]) -> dict[int | None, list[str]]:
    with db() as s:
        rows = s.scalars(select(AlertRow).order_by(AlertRow.id))
        found: dict[int | None, list[str]] = {}
        for row in rows:
            found.setdefault(row.story_id, []).append(row.kind)
        return found


def test_a_fragment_merged_into_an_alerted_story_alerts_once(
    db: sessionmaker[Session], slack: FakeSlack
) -> None:
    first = process(db, slack, 0, merge=True)
    assert alerts_by_story(db) == {first: ["new"]}  # the rule fired: one message
    second = process(db, slack, 1, merge=True)  # founds a story, merged into the first
    assert second == first
    assert alerts_by_story(db) == {first: ["new", "update"]}  # no second "new"
    [message] = slack.top_level()
    assert len(slack.replies(message["ts"])) == 1


def test_two_alerted_stories_are_not_merged_and_lose_no_alert(
    db: sessionmaker[Session], slack: FakeSlack
) -> None:
    a = process(db, slack, 0, merge=False)
    b = process(db, slack, 1, merge=False)
    assert a != b and alerts_by_story(db) == {a: ["new"], b: ["new"]}
    third = process(db, slack, 2, merge=True)  # its fragment merges into one alerted story
    assert third in (a, b)
    assert alerts_by_story(db) == {a: ["new", *(["update"] if third == a else [])],
                                   b: ["new", *(["update"] if third == b else [])]}  # fmt: skip
    assert len(slack.top_level()) == 2
    with db() as s:
        assert all(s.get_one(Story, i).merged_into_id is None for i in (a, b))
        placed = dict(s.execute(select(ArticleRow.key, ArticleRow.story_id)).all())
    assert placed["h0"] == a and placed["h1"] == b and placed["h2"] == third
