"""A rolled-back assignment leaves nothing behind in the in-memory story index.

The index takes each decision in as it is made (``StoryIndex.join``: the story's profile,
its members, the document frequencies), inside the article's transaction. When that
transaction rolls back (a later step of the pipeline failed), the database forgets the
join and so must the index, or the next article is scored against a story that never
held the first and the story row is written from that profile.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy.orm import Session, sessionmaker

from monitor.dedup.clusterer import StoryClusterer
from monitor.storage.models import Story
from monitor.types import Classification

from .conftest import Process, store
from .samples import ATTACK_FIRST, ATTACK_SECOND


class LaterStepFailed(Exception):
    """What the pipeline meets after dedup assigned the article (alerting, say)."""


def test_a_join_rolled_back_is_forgotten_by_the_index(
    sessions: sessionmaker[Session], clusterer: StoryClusterer, process: Process
) -> None:
    first = process(ATTACK_FIRST)
    assert ATTACK_SECOND.published is not None
    with pytest.raises(LaterStepFailed), sessions.begin() as session:
        joined = clusterer.assign(
            session=session, article=ATTACK_SECOND,
            article_id=store(session, ATTACK_SECOND, ATTACK_SECOND.published),
            classification=Classification(), now=ATTACK_SECOND.published,
        )  # fmt: skip
        assert joined.story_id == first.story_id  # the join the rollback undoes
        raise LaterStepFailed
    again = process(replace(ATTACK_SECOND, key="second-again"))
    assert again.story_id == first.story_id
    with sessions.begin() as session:
        story = session.get_one(Story, first.story_id)
        assert story.features["size"] == 2  # two articles joined and stayed, not three
        assert story.source_count == len(story.features["outlets"])


def test_a_join_in_a_savepoint_rolled_back_is_forgotten_while_the_transaction_goes_on(
    sessions: sessionmaker[Session], clusterer: StoryClusterer, process: Process
) -> None:
    """A SAVEPOINT (``begin_nested``) rolled back inside a transaction that then commits:
    the database forgets the join made inside it, and so must the index, both for the
    next article of the same transaction and for later ones."""
    first = process(ATTACK_FIRST)
    assert ATTACK_SECOND.published is not None
    when = ATTACK_SECOND.published
    with sessions.begin() as session:
        kept_id = store(session, replace(ATTACK_SECOND, key="second-kept"), when)
        with pytest.raises(LaterStepFailed), session.begin_nested():
            joined = clusterer.assign(
                session=session, article=ATTACK_SECOND,
                article_id=store(session, ATTACK_SECOND, when),
                classification=Classification(), now=when,
            )  # fmt: skip
            assert joined.story_id == first.story_id  # the join the savepoint undoes
            raise LaterStepFailed
        # the same transaction goes on: its next article is scored against the story as
        # the database now holds it (one article), not as the rolled-back join left it
        kept = clusterer.assign(
            session=session, article=replace(ATTACK_SECOND, key="second-kept"),
            article_id=kept_id, classification=Classification(), now=when,
        )  # fmt: skip
        assert kept.story_id == first.story_id
        assert session.get_one(Story, first.story_id).features["size"] == 2
    again = process(replace(ATTACK_SECOND, key="second-again"))
    assert again.story_id == first.story_id
    with sessions.begin() as session:
        story = session.get_one(Story, first.story_id)
        assert story.features["size"] == 3  # first, kept, again: the rolled-back one never
        assert story.source_count == len(story.features["outlets"])


def test_a_savepoint_rolled_back_after_a_join_keeps_that_join(
    sessions: sessionmaker[Session], clusterer: StoryClusterer, process: Process
) -> None:
    """The join made before a SAVEPOINT stays when the SAVEPOINT alone rolls back."""
    first = process(ATTACK_FIRST)
    assert ATTACK_SECOND.published is not None
    when = ATTACK_SECOND.published
    with sessions.begin() as session:
        joined = clusterer.assign(
            session=session, article=ATTACK_SECOND,
            article_id=store(session, ATTACK_SECOND, when),
            classification=Classification(), now=when,
        )  # fmt: skip
        assert joined.story_id == first.story_id
        with pytest.raises(LaterStepFailed), session.begin_nested():
            raise LaterStepFailed  # some later step's own savepoint, joining nothing
    again = process(replace(ATTACK_SECOND, key="second-again"))
    assert again.story_id == first.story_id
    with sessions.begin() as session:
        assert session.get_one(Story, first.story_id).features["size"] == 3
