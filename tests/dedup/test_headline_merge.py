"""Fragments of one headline-only story merge as the stream goes; other stories do not.

The settings here keep every item from joining a story by its score (a join threshold no
score reaches, the rules judging, no meaning-confirm join), so each headline founds a
story and only the merge step (dedup/merging.py) can bring two together.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from bench._dedup import final_stories
from monitor.config import load_config
from monitor.dedup.clusterer import StoryClusterer
from monitor.dedup.index import StoryIndex
from monitor.dedup.merging import sum_cosine
from monitor.dedup.operations import split_article
from monitor.dedup.settings import (
    CombinerSettings,
    DedupSettings,
    HeadlineMergeSettings,
    SemanticSettings,
)
from monitor.errors import ConfigError
from monitor.pipeline import Outcome
from monitor.replay import ReplayInput, output_line
from monitor.storage.models import ArticleRow, Story, StoryFacet
from monitor.types import Article

from .conftest import Process, make_process

T0 = datetime(2014, 3, 10, 8, 0, tzinfo=UTC)
AIRLINER = (
    "Malaysia Airlines jet missing over South China Sea",
    "Search for vanished Malaysia Boeing widens as relatives wait",
    "Malaysia says radar may show plane turned back",
)
PHONE = "Malaysia launch of new phone draws queues in Kuala Lumpur"
LONG = (
    "The airliner vanished from radar an hour after leaving the capital, officials said, "
    "and ships and aircraft from six countries searched the sea through the night while "
    "relatives waited at the airport hotel for news that did not come by the morning."
)
LONG_TOO = (
    "Navies of several nations combed a wide stretch of water on Sunday for any trace of "
    "the Boeing, whose transponder stopped without a distress call; investigators would "
    "not rule out a hijacking, and the carrier's chief executive promised families answers."
)


class Topics:
    """Reads a text as one of two subjects (airliner or phone), each text a little apart
    from the others of its subject, as two real headlines of one story are."""

    dimensions = 3

    def encode(self, text: str) -> tuple[float, ...]:
        wobble = (sum(map(ord, text)) % 13) / 40  # 0 .. 0.3, fixed per text
        vector = (0.0, 1.0, wobble) if "phone" in text.lower() else (1.0, 0.0, wobble)
        norm = math.sqrt(sum(v * v for v in vector))
        return tuple(v / norm for v in vector)


def no_joins(merge: HeadlineMergeSettings | None = None) -> DedupSettings:
    return DedupSettings(
        join_threshold=50.0,
        combiner=CombinerSettings(enabled=False),
        semantic=SemanticSettings(headline_confirm=1.0, confirm=1.0),
        headline_merge=merge or HeadlineMergeSettings(),
    )


def headline(n: int, title: str, *, minutes: int | None = None, text: str = "") -> Article:
    return Article(
        key=f"h{n}",
        url=f"http://127.0.0.1/h{n}",
        title=title,
        text=text or title,
        published=T0 + timedelta(minutes=10 * n if minutes is None else minutes),
        source=f"outlet {n}",
    )


@pytest.fixture
def merging(sessions: sessionmaker[Session]) -> Process:
    return make_process(sessions, StoryClusterer(no_joins(), encoder=Topics()))


def stories(sessions: sessionmaker[Session]) -> dict[str, int | None]:
    with sessions() as s:
        return {k: v for k, v in s.execute(select(ArticleRow.key, ArticleRow.story_id))}


def test_two_fragments_of_one_headline_story_merge_into_the_older(
    merging: Process, sessions: sessionmaker[Session]
) -> None:
    first = merging(headline(1, AIRLINER[0]))
    second = merging(headline(2, AIRLINER[1]))
    assert second.story_id == first.story_id and second.merged
    [gone] = second.merged
    assert "merged into story" in second.reason and ">= 0.55" in second.reason
    assert stories(sessions) == {"h1": first.story_id, "h2": first.story_id}
    with sessions() as s:
        assert s.get_one(Story, gone).merged_into_id == first.story_id
        kept = s.get_one(Story, first.story_id)
        assert kept.features["size"] == 2 and kept.features["headlines"] == 2
        assert kept.source_count == 2
        moved = s.scalars(select(ArticleRow).where(ArticleRow.key == "h2")).one()
        assert "meaning-sum cosine" in (moved.story_reason or "")


def test_a_later_headline_of_either_fragment_finds_the_merged_story(
    merging: Process, sessions: sessionmaker[Session]
) -> None:
    first = merging(headline(1, AIRLINER[0]))
    merging(headline(2, AIRLINER[1]))
    third = merging(headline(3, AIRLINER[2]))
    assert third.story_id == first.story_id
    assert set(stories(sessions).values()) == {first.story_id}


def test_different_headline_stories_stay_apart(
    merging: Process, sessions: sessionmaker[Session]
) -> None:
    first = merging(headline(1, AIRLINER[0]))
    other = merging(headline(2, PHONE))  # shares "Malaysia": a candidate, another subject
    assert other.story_id != first.story_id and not other.merged


def test_full_reports_never_merge(merging: Process) -> None:
    first = merging(headline(1, AIRLINER[0], text=LONG))
    second = merging(headline(2, AIRLINER[1], text=LONG_TOO))
    assert second.story_id != first.story_id and not second.merged


def test_a_headline_never_merges_into_a_story_holding_a_full_report(merging: Process) -> None:
    first = merging(headline(1, AIRLINER[0], text=LONG))
    second = merging(headline(2, AIRLINER[1]))
    assert second.story_id != first.story_id and not second.merged


def test_the_off_switch(sessions: sessionmaker[Session]) -> None:
    off = no_joins(HeadlineMergeSettings(enabled=False))
    process = make_process(sessions, StoryClusterer(off, encoder=Topics()))
    first = process(headline(1, AIRLINER[0]))
    second = process(headline(2, AIRLINER[1]))
    assert second.story_id != first.story_id and not second.merged


def test_below_the_threshold_nothing_merges(sessions: sessionmaker[Session]) -> None:
    strict = no_joins(HeadlineMergeSettings(threshold=1.0))
    process = make_process(sessions, StoryClusterer(strict, encoder=Topics()))
    first = process(headline(1, AIRLINER[0]))
    assert process(headline(2, AIRLINER[1])).story_id != first.story_id


def _set(sessions: sessionmaker[Session], story_id: int, **values: object) -> None:
    with sessions.begin() as s:
        story = s.get_one(Story, story_id)
        for name, value in values.items():
            setattr(story, name, value)


def _fragments(sessions: sessionmaker[Session]) -> tuple[int, int, Process]:
    """Two fragments of one story made with merging off; a process that merges."""
    apart = make_process(
        sessions,
        StoryClusterer(no_joins(HeadlineMergeSettings(enabled=False)), encoder=Topics()),
    )
    a, b = apart(headline(1, AIRLINER[0])).story_id, apart(headline(2, AIRLINER[1])).story_id
    assert a != b
    return a, b, make_process(sessions, StoryClusterer(no_joins(), encoder=Topics()))


def test_an_alerted_fragment_survives_even_when_younger(sessions: sessionmaker[Session]) -> None:
    older, alerted, process = _fragments(sessions)
    _set(sessions, alerted, alerted=True)
    third = process(headline(3, AIRLINER[2]))
    assert third.story_id == alerted
    assert set(stories(sessions).values()) == {alerted}
    with sessions() as s:
        assert s.get_one(Story, older).merged_into_id == alerted


def test_two_alerted_fragments_stay_apart(sessions: sessionmaker[Session]) -> None:
    a, b, process = _fragments(sessions)
    _set(sessions, a, alerted=True)
    _set(sessions, b, alerted=True)
    third = process(headline(3, AIRLINER[2]))
    assert third.story_id in (a, b)  # the new fragment joins one of them ...
    placed = stories(sessions)
    assert placed["h1"] == a and placed["h2"] == b  # ... which stay two stories
    with sessions() as s:
        assert s.get_one(Story, a).merged_into_id is None
        assert s.get_one(Story, b).merged_into_id is None


@pytest.mark.parametrize("mark", ["muted", "pinned"])
def test_muted_or_operator_split_stories_never_merge(
    sessions: sessionmaker[Session], mark: str
) -> None:
    _, b, process = _fragments(sessions)
    if mark == "muted":
        _set(sessions, b, muted=True)
    else:
        with sessions.begin() as s:
            h2 = s.scalars(select(ArticleRow.id).where(ArticleRow.key == "h2")).one()
            split_article(session=s, article_id=h2, now=T0)
    process(headline(3, AIRLINER[2]))
    placed = stories(sessions)
    assert placed["h2"] != placed["h1"]


def test_a_restarted_index_sees_the_merge_as_the_running_one(
    sessions: sessionmaker[Session],
) -> None:
    running = StoryClusterer(no_joins(), encoder=Topics())
    process = make_process(sessions, running)
    first = process(headline(1, AIRLINER[0]))
    process(headline(2, AIRLINER[1]))
    restarted = StoryIndex(no_joins())
    with sessions() as s:
        restarted.sync(session=s, now=T0 + timedelta(hours=1))
        restarted._read(s, sorted(restarted.spans))
    live = {i: (p.merged_into, p.size, p.headlines) for i, p in running.index.profiles.items()}
    loaded = {i: (p.merged_into, p.size, p.headlines) for i, p in restarted.profiles.items()}
    assert live == loaded and loaded[first.story_id] == (None, 2, 2)


def test_sum_cosine_normalises_both_sums() -> None:
    assert sum_cosine([2.0, 0.0], [0.0, 3.0]) == 0.0
    assert sum_cosine([2.0, 2.0], [5.0, 5.0]) == pytest.approx(1.0)
    assert sum_cosine(None, [1.0]) is None


def test_the_setting_is_validated_and_can_be_turned_off(tmp_path: Path) -> None:
    path = tmp_path / "monitor.yaml"
    path.write_text("dedup:\n  headline_merge:\n    threshold: 1.5\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    [error] = info.value.errors
    assert error.startswith(f"{path}:3: dedup.headline_merge.threshold: ")
    path.write_text("dedup:\n  headline_merge:\n    enabled: false\n", encoding="utf-8")
    assert not load_config(path).settings.dedup.headline_merge.enabled


def test_replay_lines_name_the_merged_stories_and_benches_follow_them() -> None:
    article = headline(1, AIRLINER[0])
    merged = Outcome(article, 7, None, None, None, merged_stories=(9,))
    plain = Outcome(article, 9, None, None, None)
    item = ReplayInput(id="h1", title=article.title)
    assert output_line(item, merged)["merged_stories"] == [9]
    assert "merged_stories" not in output_line(item, plain)
    lines: dict[str, dict[str, Any]] = {
        "a": {"story_id": 9},
        "b": {"story_id": 8},
        "c": {"story_id": 7, "merged_stories": [9]},
        "d": {"story_id": 5, "merged_stories": [7, 8]},
    }
    assert {i: o["story_id"] for i, o in final_stories(lines).items()} == dict.fromkeys("abcd", 5)


def test_one_process_and_a_process_per_headline_group_alike(
    sessions: sessionmaker[Session],
) -> None:
    # `monitor replay` keeps one index for the stream; live polls may restart between any
    # two articles. Merges must leave the same stories either way.
    stream = [
        headline(1, AIRLINER[0]),
        headline(2, PHONE),
        headline(3, AIRLINER[1]),
        headline(4, PHONE.replace("queues", "crowds")),
        headline(5, AIRLINER[2]),
    ]
    replayed = make_process(sessions, StoryClusterer(no_joins(), encoder=Topics()))
    for article in stream:
        replayed(article)
    once = grouping(stories(sessions))
    with sessions.begin() as s:
        s.execute(update(Story).values(merged_into_id=None))
        for table in (StoryFacet, ArticleRow, Story):
            s.execute(delete(table))
    for article in stream:  # a fresh index per article, as after a restart
        make_process(sessions, StoryClusterer(no_joins(), encoder=Topics()))(article)
    assert grouping(stories(sessions)) == once
    assert len(once) == 2  # the airliner's three headlines, the phone's two


def grouping(placed: dict[str, int | None]) -> set[frozenset[str]]:
    by_story: dict[int | None, set[str]] = {}
    for key, story in placed.items():
        by_story.setdefault(story, set()).add(key)
    return {frozenset(keys) for keys in by_story.values()}
