"""OPML import/export and the `monitor feeds` commands."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from monitor.cli import app
from monitor.config import load_config
from monitor.errors import ConfigError
from monitor.fetch.opml import export_opml, feeds_from_opml
from monitor.fetch.settings import FeedConfig
from monitor.storage.db import make_engine, session_factory, upgrade
from monitor.storage.feeds import sync_feeds

OPML = """<?xml version="1.0"?><opml version="1.0"><head><title>mine</title></head><body>
<outline text="Region"><outline text="Wire A" xmlurl="http://127.0.0.1:8001/rss"/>
  <outline text="Wire B" title="B title" xmlUrl="http://127.0.0.1:8002/atom"/></outline>
<outline text="Wire A again" xmlUrl="http://127.0.0.1:8001/rss"/>
<outline text="not a feed" htmlUrl="http://127.0.0.1:8003/"/></body></opml>"""


def test_opml_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "subs.opml"
    path.write_text(OPML)
    feeds = feeds_from_opml(path)
    assert [(f.url, f.name) for f in feeds] == [
        ("http://127.0.0.1:8001/rss", "Wire A"),
        ("http://127.0.0.1:8002/atom", "B title"),
    ]
    path.write_text(export_opml(feeds))
    assert feeds_from_opml(path) == feeds


@pytest.mark.parametrize("text", ["<opml><body><outline", "<html><body/></html>"])
def test_bad_opml_is_a_config_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "bad.opml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=r"bad\.opml"):
        feeds_from_opml(path)


@pytest.fixture
def config(tmp_path: Path) -> Path:
    (tmp_path / "subs.opml").write_text(OPML)
    path = tmp_path / "monitor.yaml"
    path.write_text(
        "feeds:\n  - url: http://127.0.0.1:8001/rss\n    name: Config name\n"
        "  - url: http://127.0.0.1:8004/rss\n    paused: true\nopml: [subs.opml]\n"
    )
    return path


def test_config_merges_opml_feeds_without_duplicates(config: Path) -> None:
    feeds = load_config(config).settings.feeds
    assert [(f.url, f.name) for f in feeds] == [
        ("http://127.0.0.1:8001/rss", "Config name"),
        ("http://127.0.0.1:8004/rss", None),
        ("http://127.0.0.1:8002/atom", "B title"),
    ]


def test_feeds_command_lists_health_and_exports(
    config: Path, tmp_path: Path, now: datetime
) -> None:
    db = f"sqlite:///{tmp_path / 'm.db'}"
    engine = make_engine(db)
    upgrade(engine)
    with session_factory(engine).begin() as s:
        sync_feeds(session=s, feeds=[FeedConfig(url="http://127.0.0.1:8005/rss")], now=now)
    engine.dispose()
    runner = CliRunner()
    result = runner.invoke(app, ["feeds", "--json", "--config", str(config), "--db", db])
    assert result.exit_code == 0, result.output
    rows = {r["configured_url"]: r for r in json.loads(result.output)}
    assert rows["http://127.0.0.1:8004/rss"]["state"] == "paused"
    assert rows["http://127.0.0.1:8002/atom"]["state"] == "new"
    assert rows["http://127.0.0.1:8005/rss"]["state"] == "removed"
    assert set(rows["http://127.0.0.1:8001/rss"]) >= {
        "last_status", "last_success_at", "consecutive_errors", "last_error", "next_poll_at",
        "entries_seen",
    }  # fmt: skip
    table = runner.invoke(app, ["feeds", "--config", str(config), "--db", db])
    assert "PAUSED   http://127.0.0.1:8004/rss" in table.output
    exported = runner.invoke(app, ["feeds", "export-opml", "--config", str(config)])
    assert exported.exit_code == 0 and exported.output.count("<outline") == 3
