"""The seed articles become one story; operators can merge, split and mute stories."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from monitor.dedup.commands import stories_app
from monitor.dedup.operations import merge_stories, mute_story, split_article
from monitor.storage.models import ArticleRow, Story
from monitor.types import Article

from .conftest import Process
from .samples import ATTACK_FIRST, ATTACK_SECOND, FLOOD, T0, WIRE


def seed_articles(shared: Path) -> tuple[Article, Article]:
    """The two seeds, turned into articles as shared/seeds/README.md says."""
    second = (shared / "seeds" / "second-outlet-2020-03-12.txt").read_text(encoding="utf-8")
    wapo = (shared / "seeds" / "washington-post-2020-03-13.txt").read_text(encoding="utf-8")
    lines = wapo.splitlines()
    return (
        Article(
            key="second-outlet-2020-03-12",
            url=None,
            title=second.splitlines()[0][:160],
            text=second,
            published=datetime(2020, 3, 12, 22, 0, tzinfo=UTC),
        ),
        Article(
            key="washington-post-2020-03-13",
            url=None,
            title=lines[2],
            text="\n".join(x for x in lines[3:] if x.strip()),
            published=datetime(2020, 3, 13, 6, 0, tzinfo=UTC),
        ),
    )


def test_seed_articles_are_one_story(process: Process, shared_dir: Path) -> None:
    first, second = seed_articles(shared_dir)
    a, b = process(first), process(second)
    assert b.story_id == a.story_id and b.duplicate_of is None


def _story_of(sessions: sessionmaker[Session], key: str) -> int | None:
    with sessions() as s:
        return s.scalar(select(ArticleRow.story_id).where(ArticleRow.key == key))


def _assert_index_members_are_the_stored_articles(sessions: sessionmaker[Session]) -> None:
    """What a start loads of each story (``index_members``) lists the articles it holds now."""
    with sessions() as s:
        for story in s.scalars(select(Story)):
            packed = np.frombuffer(story.index_members or b"", dtype="<u8").reshape(-1, 17)
            held = select(ArticleRow.id).where(
                ArticleRow.story_id == story.id, ArticleRow.sketch_bands.is_not(None)
            )
            assert set(packed[:, 0].tolist()) == set(s.scalars(held)), story.id


def test_merge_makes_later_articles_join_the_kept_story(
    process: Process, sessions: sessionmaker[Session]
) -> None:
    attack, flood = process(ATTACK_FIRST), process(FLOOD)
    with sessions.begin() as s:
        merge_stories(session=s, keep_id=flood.story_id, merge_id=attack.story_id)
    assert _story_of(sessions, ATTACK_FIRST.key) == flood.story_id
    _assert_index_members_are_the_stored_articles(sessions)
    assert process(ATTACK_SECOND).story_id == flood.story_id
    _assert_index_members_are_the_stored_articles(sessions)
    with sessions() as s:
        gone = s.get(Story, attack.story_id)
        assert gone is not None and gone.merged_into_id == flood.story_id
        assert s.get(Story, flood.story_id).source_count == 3  # type: ignore[union-attr]


def test_split_pins_the_article_in_its_own_story(
    process: Process, sessions: sessionmaker[Session]
) -> None:
    first = process(ATTACK_FIRST)
    process(ATTACK_SECOND)
    with sessions.begin() as s:
        second_id = s.scalars(
            select(ArticleRow.id).where(ArticleRow.key == ATTACK_SECOND.key)
        ).one()
        new = split_article(session=s, article_id=second_id, now=T0)
        new_id = new.id
    _assert_index_members_are_the_stored_articles(sessions)
    assert new_id != first.story_id
    with sessions() as s:
        row = s.get(ArticleRow, second_id)
        assert row is not None and row.pinned and row.story_id == new_id
        assert s.get(Story, first.story_id).source_count == 1  # type: ignore[union-attr]
    process(WIRE)  # a later article must not move the pinned one back
    assert _story_of(sessions, ATTACK_SECOND.key) == new_id


def test_mute_and_list_stories_from_the_cli(
    process: Process, sessions: sessionmaker[Session], engine: object, tmp_path: Path
) -> None:
    story = process(ATTACK_FIRST).story_id
    process(ATTACK_SECOND)
    with sessions.begin() as s:
        mute_story(session=s, story_id=story)
    with sessions() as s:
        assert s.get(Story, story).muted  # type: ignore[union-attr]
    db = str(engine.url.render_as_string(hide_password=False))  # type: ignore[attr-defined]
    cfg = tmp_path / "monitor.yaml"
    cfg.write_text("feeds: []\n", encoding="utf-8")
    result = CliRunner().invoke(
        stories_app, ["--json", "--days", "100000", "--config", str(cfg), "--db", db]
    )
    assert result.exit_code == 0, result.output
    assert '"muted": true' in result.output and str(ATTACK_SECOND.url) in result.output


def test_subcommands_take_config_and_db_after_the_subcommand(
    process: Process, sessions: sessionmaker[Session], engine: object, tmp_path: Path
) -> None:
    story = process(ATTACK_FIRST).story_id
    db = str(engine.url.render_as_string(hide_password=False))  # type: ignore[attr-defined]
    cfg = tmp_path / "monitor.yaml"
    cfg.write_text("feeds: []\n", encoding="utf-8")
    result = CliRunner().invoke(stories_app, ["mute", str(story), "-c", str(cfg), "--db", db])
    assert result.exit_code == 0, result.output
    with sessions() as s:
        assert s.get(Story, story).muted  # type: ignore[union-attr]
