"""Every assignment gives its story a revision no other story has, the latest of all:
the clusterer takes the latest from its index (synced under the assignment lock), so
that must hold across replicas and operator changes too."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from monitor.dedup.clusterer import StoryClusterer
from monitor.dedup.settings import DedupSettings
from monitor.storage import stories as db
from monitor.storage.models import Story
from monitor.types import Article

from .conftest import make_process
from .samples import ATTACK_FIRST, ATTACK_SECOND, FLOOD, OTHER_BASE, WIRE, WIRE_REPOST

STREAM: list[Article] = [ATTACK_FIRST, FLOOD, WIRE, ATTACK_SECOND, WIRE_REPOST, OTHER_BASE]


def _revisions(session: Session) -> list[int]:
    return list(session.scalars(select(Story.revision).order_by(Story.id)))


def test_each_assignment_takes_the_next_revision_across_replicas(
    sessions: sessionmaker[Session],
) -> None:
    replicas = [StoryClusterer(DedupSettings()), StoryClusterer(DedupSettings())]
    latest = 0
    for n, article in enumerate(STREAM):
        process = make_process(sessions, replicas[n % 2])  # the two take turns
        result = process(article)
        with sessions() as session:
            story = session.get_one(Story, result.story_id)
            assert story.revision == latest + 1 == max(_revisions(session))
            latest = story.revision
        if n == 2:  # an operator's change (another process) bumps a story too
            with sessions.begin() as session:
                other = session.get_one(Story, result.story_id)
                latest = db.bump_revision(session=session, stories=[other])
    with sessions() as session:
        stored = session.scalar(select(func.count()).select_from(Story))
        assert stored is not None and len(set(_revisions(session))) == stored
