"""Dedup fixtures: store an article the way the pipeline does, then assign it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest
from sqlalchemy.orm import Session, sessionmaker

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
