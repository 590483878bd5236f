"""The story index rebuilt from storage after a restart decides as the one kept in memory."""

from __future__ import annotations

import random
import struct
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from monitor.dedup.clusterer import StoryClusterer
from monitor.dedup.index import POSTINGS_PER_KEY, StoryIndex, pack_keys, pack_members
from monitor.dedup.nearcopy import PERMUTATIONS, SMALL_LOAD, LshIndex, Sketch, pack_bands
from monitor.dedup.settings import DedupSettings
from monitor.storage.db import make_engine, session_factory, upgrade
from monitor.storage.models import ArticleRow, Story
from monitor.types import Article, Classification, StoryAssignment

from .conftest import entity, make_process
from .samples import (
    ATTACK_AGAIN,
    ATTACK_FIRST,
    ATTACK_SECOND,
    ATTACK_WEEK_LATER,
    FLOOD,
    OTHER_BASE,
    T0,
    WIRE,
    WIRE_REPOST,
)

FAJR = Classification(entities=(entity("saraya-al-fajr", "Saraya al-Fajr"),))
# Near-copies, joins by words and entities, new stories, and a week's gap (sweeps, windows).
STREAM: list[tuple[Article, Classification]] = [
    (ATTACK_FIRST, FAJR),
    (FLOOD, Classification()),
    (WIRE, Classification()),
    (ATTACK_SECOND, FAJR),
    (WIRE_REPOST, Classification()),
    (OTHER_BASE, Classification()),
    (ATTACK_WEEK_LATER, FAJR),
    (ATTACK_AGAIN, FAJR),
]


@pytest.fixture
def reference_sessions(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(f"sqlite:///{tmp_path / 'reference.db'}")
    upgrade(engine)
    yield session_factory(engine)
    engine.dispose()


def _decision(result: StoryAssignment) -> tuple[int, bool, str | None]:
    return result.story_id, result.is_new_story, result.duplicate_of


def test_a_restarted_index_groups_each_next_article_as_the_running_one(
    sessions: sessionmaker[Session], reference_sessions: sessionmaker[Session]
) -> None:
    settings = DedupSettings()
    running = make_process(reference_sessions, StoryClusterer(settings))
    expected = [running(article, c) for article, c in STREAM]
    got = []
    for article, c in STREAM:  # a new process, its index rebuilt from storage, each time
        got.append(make_process(sessions, StoryClusterer(settings))(article, c))
    assert [_decision(r) for r in got] == [_decision(r) for r in expected]
    # Scores agree to rounding: stored centroids keep 4 decimals, and a running index
    # reweighs a story only once the stream grew 2 % (``REWEIGH_GROWTH``).
    assert [r.score for r in got] == pytest.approx([r.score for r in expected], abs=0.005)
    assert len({r.story_id for r in expected}) < len(STREAM)  # some joined
    assert any(r.duplicate_of for r in expected)  # a near-copy was found


def test_start_up_reads_no_story_until_it_is_a_candidate(
    sessions: sessionmaker[Session],
) -> None:
    process = make_process(sessions, StoryClusterer(DedupSettings()))
    for article, c in STREAM[:3]:
        process(article, c)
    index = StoryIndex(DedupSettings())
    with sessions.begin() as session:
        index.sync(session=session, now=T0 + timedelta(hours=12))
        assert index.profiles == {}  # filed under their keys, features not read
        assert len(index.spans) == 3 and len(index.lsh) == 3
    restarted = StoryClusterer(DedupSettings())
    restarted.index = index
    make_process(sessions, restarted)(ATTACK_SECOND, FAJR)
    assert index.spans and 0 < len(index.profiles) < 3  # only its candidates were read


def test_document_frequencies_after_a_restart_come_from_the_latest_df_memory_articles(
    engine: Engine, sessions: sessionmaker[Session]
) -> None:
    settings = DedupSettings(df_memory=100)
    with sessions.begin() as session:
        story = Story(first_seen=T0, last_seen=T0, features={}, revision=1)
        session.add(story)
        session.flush()
        for n in range(150):
            term = "old" if n < 50 else "new"
            session.add(
                ArticleRow(
                    key=f"a{n}", processed_at=T0, story_id=story.id, sketch_terms=f"{term} all"
                )
            )
    index = StoryIndex(settings)
    with sessions.begin() as session:
        index.sync(session=session, now=T0)
    assert index.df.documents == 100
    assert (index.df.counts["all"], index.df.counts["new"], index.df.counts["old"]) == (100, 100, 0)


def _random_sketch(rng: random.Random) -> Sketch:
    # Few distinct values: many articles share bands, as near-copies do.
    return Sketch(tuple(rng.randrange(3) for _ in range(PERMUTATIONS)))


def test_lsh_loaded_in_bulk_finds_what_one_built_article_by_article_finds() -> None:
    rng = random.Random(5)
    sketches = {article_id: _random_sketch(rng) for article_id in range(1, SMALL_LOAD + 1000)}
    one_by_one, loaded = LshIndex(), LshIndex()
    for article_id, sketch in sketches.items():
        one_by_one.add(article_id, sketch)
    loaded.load((a, pack_bands(s.bands)) for a, s in sketches.items())
    queries = [_random_sketch(rng) for _ in range(30)] + list(sketches.values())[:10]

    def same() -> None:
        assert len(loaded) == len(one_by_one)
        for query in queries:
            assert loaded.candidates(query) == one_by_one.candidates(query)

    same()
    for index in (one_by_one, loaded):  # most go: the arrays are compacted
        index.remove(range(1, SMALL_LOAD + 600))
    same()
    for index in (one_by_one, loaded):  # some come back; some are added anew
        for article_id in [*range(250, 260), 5000, 5001]:
            index.add(article_id, sketches.get(article_id) or _random_sketch(random.Random(9)))
    same()
    assert 255 in loaded and 100 not in loaded
    assert len(loaded._base_keys) < 1000 * 16  # compacted


def test_a_few_articles_loaded_later_join_without_a_rebuild() -> None:
    rng = random.Random(6)
    index = LshIndex()
    first = {a: _random_sketch(rng) for a in range(1, SMALL_LOAD + 1)}
    index.load((a, pack_bands(s.bands)) for a, s in first.items())
    arrays = index._base_keys
    later = _random_sketch(rng)
    index.load([(SMALL_LOAD + 1, pack_bands(later.bands))])  # another replica's article
    assert index._base_keys is arrays and SMALL_LOAD + 1 in index.candidates(later)


def _stored_story(session: Session, story_id: int, keys: list[str], old: bool) -> None:
    """A story filed under ``keys`` with one article; ``old``: written by a version that
    stored no packed keys or members (the start reads its keys and articles instead)."""
    sketch = _random_sketch(random.Random(story_id))
    bands = pack_bands(sketch.bands)
    story = Story(
        id=story_id, first_seen=T0, last_seen=T0, features={}, revision=story_id, index_keys=keys
    )
    if not old:
        story.index_hashes = pack_keys(keys)
        story.index_members = pack_members([(story_id * 10, bands)])
    session.add(story)
    session.flush()
    session.add(
        ArticleRow(
            id=story_id * 10, key=f"a{story_id}", processed_at=T0, story_id=story_id,
            sketch_bands=bands, sketch_terms="x",
        )
    )  # fmt: skip


def test_a_start_files_stories_as_filing_them_one_by_one_oldest_first(
    sessions: sessionmaker[Session],
) -> None:
    rng = random.Random(8)
    # 150 stories under one common key (more than a posting list keeps), a few shared keys,
    # each its own key; every tenth written by an older version.
    stories = {
        sid: ["t:common", f"t:shared{rng.randrange(5)}", f"t:own{sid}", f"e:x{sid % 7}"]
        for sid in range(1, 151)
    }
    with sessions.begin() as session:
        for sid, keys in stories.items():
            _stored_story(session, sid, keys, old=sid % 10 == 0)
    loaded, one_by_one = StoryIndex(DedupSettings()), StoryIndex(DedupSettings())
    with sessions.begin() as session:
        loaded.sync(session=session, now=T0)
    for sid, keys in stories.items():
        one_by_one._post(sid, keys)
    # A story filed again after the start moves to the end of its lists, as it would have.
    loaded._post(3, stories[3])
    one_by_one._post(3, stories[3])
    every_key = {k for ks in stories.values() for k in ks} | {"t:never"}
    for key in sorted(every_key):
        assert list(loaded._posting(key) or ()) == list(one_by_one._posting(key) or ()), key
    assert len(loaded._posting("t:common") or ()) == POSTINGS_PER_KEY
    # Every article's band keys are loaded, old and new; a dropped story's are gone.
    for sid in (1, 10, 77):
        assert sid * 10 in loaded.near_copies(_random_sketch(random.Random(sid)))
    loaded.drop(77)
    assert 770 not in loaded.near_copies(_random_sketch(random.Random(77)))
    assert 760 in loaded.near_copies(_random_sketch(random.Random(76)))


def test_a_story_written_without_packed_members_gets_them_when_an_article_joins(
    sessions: sessionmaker[Session],
) -> None:
    process = make_process(sessions, StoryClusterer(DedupSettings()))
    first = process(WIRE)
    with sessions.begin() as session:  # as an older version left it
        story = session.get(Story, first.story_id)
        assert story is not None
        story.index_members = story.index_hashes = None
    again = make_process(sessions, StoryClusterer(DedupSettings()))(WIRE_REPOST)
    assert again.story_id == first.story_id
    with sessions() as session:
        story = session.get(Story, first.story_id)
        assert story is not None and story.index_members is not None
        ids = [row[0] for row in struct.iter_unpack("<Q16Q", story.index_members)]
        stored = session.scalars(select(ArticleRow.id).order_by(ArticleRow.id)).all()
        assert ids == list(stored)  # each once, the earlier one first
