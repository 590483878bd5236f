"""The online headline merge leaves a story as rebuilding it from its articles would.

Two paths make a story's row: the online one (each article folded in as it joins,
``aggregate.join_article``; two fragments folded together by the headline merge,
``merging.merge`` → ``StoryIndex.merge`` for the profile and ``aggregate.merged_row`` for
the row) and the operator's one (``operations.rebuild_story``: every aggregate recomputed
from the stored articles). The next decision, the alert and the console read whichever
wrote last, so they must agree on what the story is, down to the order of its lists (an
alert shows the first incident type and the first toll phrases).
"""

from __future__ import annotations

import copy
import math
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from monitor.dedup.clusterer import StoryClusterer
from monitor.dedup.operations import rebuild_story
from monitor.dedup.settings import HeadlineMergeSettings
from monitor.dedup.vectors import unpack_vector
from monitor.storage.models import Story
from monitor.types import (
    Article,
    Casualties,
    Classification,
    EntityMatch,
    Event,
    Mention,
    Place,
    RuleHit,
    StoryAssignment,
)

from .conftest import incident, store_and_assign
from .test_headline_merge import AIRLINER, T0, Topics, no_joins

# The story row's columns dedup writes, and the profile fields in ``features``.
COLUMNS = (
    "headline", "first_seen", "last_seen", "severity", "incident_types", "acled_types",
    "entities", "casualties", "event", "source_count", "index_keys", "index_hashes",
    "index_members",
)  # fmt: skip


def classified(n: int) -> Classification:
    """A different reading per fragment: entities (one shared), types, toll, severity, place."""
    group = EntityMatch("kh", "armed_group", "KH", (Mention(f"Kataib {n}", 0, 6),))
    own = EntityMatch(f"official-{n}", "person", f"Official {n}", (Mention(f"Off {n}", 8, 11),))
    return Classification(
        incident_types=(incident("air_crash" if n % 2 else "disappearance"),),
        entities=(group, own),
        rules=(RuleHit(f"rule-{n}", "high" if n == 2 else "low", ("default",), ""),),
        casualties=Casualties(killed=10 * n, wounded=None, evidence=(f"{10 * n} dead",)),
        event=Event(
            incident_type="air_crash",
            place=Place("sea", "South China Sea", ("asia",)) if n != 3 else None,
            killed=10 * n,
        ),
    )


def assign(
    sessions: sessionmaker[Session], clusterer: StoryClusterer, n: int, minutes: int
) -> StoryAssignment:
    """Store fragment ``n`` with its classification, as the pipeline does, and assign it."""
    article = Article(
        key=f"h{n}",
        url=f"http://127.0.0.1/h{n}",
        title=AIRLINER[n - 1],
        text=AIRLINER[n - 1],
        published=T0 + timedelta(minutes=minutes),
        source=f"outlet {n}",
    )
    return store_and_assign(sessions, clusterer, article, classified(n))


def state(story: Story) -> dict[str, Any]:
    """What the story's row says; its meaning sum read back as floats (compared apart)."""
    features = copy.deepcopy(dict(story.features or {}))
    meaning = unpack_vector(features.pop("meaning", None))
    return {
        **{name: copy.deepcopy(getattr(story, name)) for name in COLUMNS},
        "features": features,
        "meaning": meaning,
    }


def assert_same_story(merged: dict[str, Any], rebuilt: dict[str, Any]) -> None:
    """Equal, but for the meaning sum's last digits; what differs is named."""
    mine, theirs = merged.pop("meaning"), rebuilt.pop("meaning")
    differ = {k: (merged[k], rebuilt[k]) for k in merged if merged[k] != rebuilt[k]}
    if "features" in differ:
        f, g = differ.pop("features")
        differ.update({f"features.{k}": (f[k], g.get(k)) for k in f if f[k] != g.get(k)})
    assert not differ, "\n".join(f"{k}: {v!r}" for k, v in differ.items())
    # The stored articles keep their embeddings in half floats, the running sum in single
    # floats: a rebuilt sum differs in the fourth decimal, not in direction.
    assert mine is not None and theirs is not None and len(mine) == len(theirs)
    assert all(math.isclose(a, b, abs_tol=2e-3) for a, b in zip(mine, theirs, strict=True))


def merged_then_rebuilt(sessions: sessionmaker[Session], story_id: int) -> None:
    with sessions.begin() as s:
        story = s.get_one(Story, story_id)
        merged = state(story)
        rebuild_story(session=s, story=story)
        s.flush()
        rebuilt = state(story)
    assert_same_story(merged, rebuilt)


def test_a_merged_fragment_story_is_what_rebuilding_it_gives(
    sessions: sessionmaker[Session],
) -> None:
    clusterer = StoryClusterer(no_joins(), encoder=Topics())
    first = assign(sessions, clusterer, 1, 0)
    second = assign(sessions, clusterer, 2, 10)
    assert second.merged and second.story_id == first.story_id
    merged_then_rebuilt(sessions, first.story_id)


def test_interleaved_fragments_merged_into_a_younger_alerted_story_are_what_rebuilding_gives(
    sessions: sessionmaker[Session],
) -> None:
    """The alerted (younger) story survives; the third fragment first merges with the
    older one, which then merges into the alerted one: the survivor's articles (2) and
    the merged-away story's (1 and 3) interleave in time."""
    apart = StoryClusterer(no_joins(HeadlineMergeSettings(enabled=False)), encoder=Topics())
    older = assign(sessions, apart, 1, 0).story_id
    younger = assign(sessions, apart, 2, 10).story_id
    with sessions.begin() as s:
        s.get_one(Story, younger).alerted = True
    third = assign(sessions, StoryClusterer(no_joins(), encoder=Topics()), 3, 20)
    assert third.story_id == younger and set(third.merged) == {older, younger + 1}
    merged_then_rebuilt(sessions, younger)


def test_a_merge_into_a_story_stored_without_its_members_is_what_rebuilding_gives(
    sessions: sessionmaker[Session],
) -> None:
    """The alerted survivor was written by a version that kept no ``index_members``: the
    merge reads them from its articles, in the order a rebuild packs them (by id)."""
    apart = StoryClusterer(no_joins(HeadlineMergeSettings(enabled=False)), encoder=Topics())
    older = assign(sessions, apart, 1, 0).story_id
    younger = assign(sessions, apart, 2, 10).story_id
    with sessions.begin() as s:
        story = s.get_one(Story, younger)
        story.alerted, story.index_members = True, None
    third = assign(sessions, StoryClusterer(no_joins(), encoder=Topics()), 3, 20)
    assert third.story_id == younger and set(third.merged) == {older, younger + 1}
    with sessions.begin() as s:
        assert s.get_one(Story, younger).index_members  # the members the merge read
    merged_then_rebuilt(sessions, younger)
