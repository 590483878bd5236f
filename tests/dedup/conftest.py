"""Dedup fixtures: store an article the way the pipeline does, then assign it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest
from sqlalchemy.orm import Session, sessionmaker

from monitor.codec import classification_to_dict
from monitor.dedup.clusterer import StoryClusterer
from monitor.dedup.settings import DedupSettings
from monitor.storage.articles import insert_article
from monitor.types import (
    Article,
    Classification,
    EntityMatch,
    IncidentMatch,
    Mention,
    StoryAssignment,
)

Process = Callable[..., StoryAssignment]


def entity(eid: str, spelling: str, kind: str = "armed_group") -> EntityMatch:
    return EntityMatch(id=eid, kind=kind, name=eid, mentions=(Mention(spelling, 0, 1),))


def incident(tid: str, acled: str | None = None) -> IncidentMatch:
    return IncidentMatch(id=tid, label=tid, score=1.0, threshold=0.5, acled=acled)


def store(session: Session, article: Article, now: datetime) -> int:
    """Insert the ArticleRow as the pipeline does before calling assign."""
    return insert_article(session=session, article=article, classification={}, now=now).id


def store_and_assign(
    sessions: sessionmaker[Session],
    clusterer: StoryClusterer,
    article: Article,
    classification: Classification,
) -> StoryAssignment:
    """Store and group an article as the pipeline does, its classification stored too
    (what rebuilding a story and the facets read back)."""
    assert article.published is not None
    with sessions.begin() as s:
        row = insert_article(
            session=s, article=article, classification=classification_to_dict(classification),
            now=article.published,
        )  # fmt: skip
        return clusterer.assign(
            session=s, article=article, article_id=row.id, classification=classification,
            now=article.published,
        )  # fmt: skip


def make_process(sessions: sessionmaker[Session], clusterer: StoryClusterer) -> Process:
    def process(
        article: Article,
        classification: Classification | None = None,
        now: datetime | None = None,
        clusterer_: StoryClusterer | None = None,
    ) -> StoryAssignment:
        when = now or article.published
        assert when is not None
        with sessions.begin() as session:
            article_id = store(session, article, when)
            return (clusterer_ or clusterer).assign(
                session=session,
                article=article,
                article_id=article_id,
                classification=classification or Classification(),
                now=when,
            )

    return process


@pytest.fixture
def settings() -> DedupSettings:
    return DedupSettings()


@pytest.fixture
def clusterer(settings: DedupSettings) -> StoryClusterer:
    return StoryClusterer(settings)


@pytest.fixture
def process(sessions: sessionmaker[Session], clusterer: StoryClusterer) -> Process:
    return make_process(sessions, clusterer)
