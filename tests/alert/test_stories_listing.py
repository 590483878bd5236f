"""`monitor stories` prints each story's count of sources with its noun in agreement."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import time_machine
from alertkit import T0, add_article, add_story
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from monitor.cli import app


def listing(tmp_path: Path, engine: Engine, days: str) -> str:
    config = tmp_path / "monitor.yaml"
    config.write_text("feeds: []\nwatchlists: []\n", encoding="utf-8")
    args = ["stories", "--days", days, "--config", str(config), "--db", str(engine.url)]
    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    return result.output


def test_one_report_is_singular_and_two_are_plural(
    tmp_path: Path, sqlite_engine: Engine, db: sessionmaker[Session]
) -> None:
    with db.begin() as s:
        alone = add_story(s, headline="Shelling near the border")
        add_article(s, alone, key="a1", outlet="First Outlet")
        alone.source_count = 1
        pair = add_story(s, headline="Rockets hit a base")
        add_article(s, pair, key="b1", outlet="First Outlet")
        add_article(s, pair, key="b2", outlet="Second Outlet")
        pair.source_count = 2
        ids = alone.id, pair.id
    lines = {line.split()[0]: line for line in listing(tmp_path, sqlite_engine, "1").splitlines()}
    assert lines[f"#{ids[0]}"].endswith("(high, 1 report)")
    assert lines[f"#{ids[1]}"].endswith("(high, 2 reports)")


def test_an_empty_listing_names_its_window_in_agreement(
    tmp_path: Path, sqlite_engine: Engine
) -> None:
    assert listing(tmp_path, sqlite_engine, "1").strip() == "no stories in the last 1 day"
    assert listing(tmp_path, sqlite_engine, "2").strip() == "no stories in the last 2 days"
    assert listing(tmp_path, sqlite_engine, "0.5").strip() == "no stories in the last 0.5 days"
