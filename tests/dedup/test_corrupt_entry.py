"""A stored story the index cannot read is rebuilt from its articles, not fatal.

The index reads back what it wrote of each story (packed keys and members, the features
with the meaning sum). One such value cut short or garbled used to raise on every start
or every read of that story, forever: no article could be assigned again. Now the index
logs a warning naming the story, has it rebuilt from its articles and goes on; the other
stories are not touched.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from monitor.dedup.clusterer import StoryClusterer
from monitor.dedup.index import MEMBER, StoryIndex, hashes_problem, members_problem
from monitor.dedup.settings import DedupSettings
from monitor.storage.models import ArticleRow, Story
from monitor.types import Classification

from .conftest import Process, entity, make_process
from .samples import ATTACK_FIRST, ATTACK_SECOND, FLOOD

FAJR = Classification(entities=(entity("saraya-al-fajr", "Saraya al-Fajr"),))


def _cut_members(story: Story) -> None:
    assert story.index_members
    story.index_members = story.index_members[:-3]


def _cut_hashes(story: Story) -> None:
    assert story.index_hashes
    story.index_hashes = story.index_hashes + b"\x01"


def _garble_meaning_sum(story: Story) -> None:
    # Three bytes of base64 payload: not a whole single float.
    story.features = {**(story.features or {}), "meaning": "f:AAAA"}


@pytest.mark.parametrize("corrupt", [_cut_members, _cut_hashes, _garble_meaning_sum])
def test_a_corrupt_story_is_rebuilt_from_its_articles_and_the_rest_untouched(
    sessions: sessionmaker[Session],
    process: Process,
    caplog: pytest.LogCaptureFixture,
    corrupt: Callable[[Story], None],
) -> None:
    first = process(ATTACK_FIRST, FAJR)
    assert process(ATTACK_SECOND, FAJR).story_id == first.story_id
    other = process(FLOOD)
    assert other.story_id != first.story_id
    with sessions.begin() as session:
        story = session.get_one(Story, first.story_id)
        members_before = story.index_members
        corrupt(story)
        flood = session.get_one(Story, other.story_id)
        flood_before = (flood.revision, flood.index_members, flood.index_hashes, flood.features)
    restarted = make_process(sessions, StoryClusterer(DedupSettings()))
    with caplog.at_level(logging.WARNING, logger="monitor.dedup.index"):
        again = restarted(replace(ATTACK_SECOND, key="second-again"), FAJR)
    assert again.story_id == first.story_id  # the story still takes its reports
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(m.startswith(f"story {first.story_id}: ") and "rebuilding" in m for m in warned)
    with sessions.begin() as session:
        story = session.get_one(Story, first.story_id)
        assert members_problem(story.index_members) is None
        assert hashes_problem(story.index_hashes) is None
        assert story.index_members is not None and members_before is not None
        # the two earlier articles as the rebuild packed them, then the one that joined
        assert story.index_members[: len(members_before)] == members_before
        assert len(story.index_members) == len(members_before) + MEMBER.size
        profile = StoryIndex.profile_of(story)  # readable again
        assert profile.size == 3
        flood = session.get_one(Story, other.story_id)
        after = (flood.revision, flood.index_members, flood.index_hashes, flood.features)
        assert after == flood_before
    # and a later start reads it without another rebuild
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="monitor.dedup.index"):
        restarted_again = make_process(sessions, StoryClusterer(DedupSettings()))
        third = restarted_again(replace(ATTACK_SECOND, key="second-third"), FAJR)
    assert third.story_id == first.story_id
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_an_article_sketch_that_cannot_be_read_is_skipped_with_a_warning(
    sessions: sessionmaker[Session], process: Process, caplog: pytest.LogCaptureFixture
) -> None:
    first = process(ATTACK_FIRST, FAJR)
    second = process(ATTACK_SECOND, FAJR)
    with sessions.begin() as session:
        row = session.get_one(ArticleRow, _article_id(session, ATTACK_SECOND.key))
        assert row.sketch and row.sketch.get("minhash")
        row.sketch = {**row.sketch, "minhash": ["not a number"] * len(row.sketch["minhash"])}
        garbled = row.id
    with caplog.at_level(logging.WARNING, logger="monitor.dedup.index"):
        again = process(replace(ATTACK_SECOND, key="second-again"), FAJR)
    assert again.story_id == second.story_id == first.story_id  # joined on its words
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(m.startswith(f"article {garbled}: stored sketch unreadable") for m in warned)


def _article_id(session: Session, key: str) -> int:
    found = session.scalars(select(ArticleRow.id).where(ArticleRow.key == key)).one()
    return int(found)


def test_an_article_band_keys_cut_short_leave_it_out_of_a_rebuilt_entry(
    sessions: sessionmaker[Session], process: Process
) -> None:
    """``articles.sketch_bands`` of the wrong length: a rebuild packs the story's other
    articles and goes on (the article still counts in the story by its words)."""
    first = process(ATTACK_FIRST, FAJR)
    assert process(ATTACK_SECOND, FAJR).story_id == first.story_id
    with sessions.begin() as session:
        row = session.get_one(ArticleRow, _article_id(session, ATTACK_SECOND.key))
        assert row.sketch_bands
        row.sketch_bands = row.sketch_bands[:-5]
        _cut_members(session.get_one(Story, first.story_id))  # so the start rebuilds it
    restarted = make_process(sessions, StoryClusterer(DedupSettings()))
    again = restarted(replace(ATTACK_FIRST, key="first-again"), FAJR)
    assert again.story_id == first.story_id
    with sessions.begin() as session:
        story = session.get_one(Story, first.story_id)
        assert story.index_members is not None
        assert len(story.index_members) == 2 * MEMBER.size  # first and first-again
        assert StoryIndex.profile_of(story).size == 3
