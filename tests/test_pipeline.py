"""process_article on both databases: hostile text is stored, not fatal."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from monitor.classify.classifier import Classifier
from monitor.config import load_config
from monitor.dedup.clusterer import StoryClusterer
from monitor.pipeline import Stages, process_article
from monitor.storage.db import transaction
from monitor.storage.models import ArticleRow
from monitor.types import Article

CONFIG = Path(__file__).resolve().parents[1] / "config" / "monitor.yaml"


def test_nul_characters_are_dropped_so_postgres_can_store_the_article(
    sessions: sessionmaker[Session],
) -> None:
    config = load_config(CONFIG)
    classifier = Classifier(config.watchlist)
    stages = Stages(
        lambda: classifier, StoryClusterer(config.settings.dedup), config.settings.alerts
    )
    article = Article(
        key="nul",
        url=None,
        title="Rockets\x00 hit Camp Taji",
        text="A rocket attack\x00 hit the base.",
        published=datetime(2020, 3, 11, tzinfo=UTC),
    )
    with transaction(sessions) as session:
        outcome = process_article(
            session=session, article=article, stages=stages, now=article.published
        )
    assert outcome.story_id is not None
    with sessions() as session:
        row = session.scalars(select(ArticleRow)).one()
    assert row.title == "Rockets hit Camp Taji" and "\x00" not in row.text
