"""`monitor poll --once` says per feed what happened in words, not Python reprs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from monitor.cli import app, poll_line

FEED = "http://127.0.0.1:8765/rss.xml"


def polled(status: int | None, new: int, alerts: list[str], error: str | None = None) -> Any:
    return {"feed": FEED, "status": status, "error": error, "new_articles": new, "alerts": alerts}


@pytest.mark.parametrize(
    ("feed", "said"),
    [
        (polled(200, 3, ["new"]), "HTTP 200, 3 new articles; 1 alert queued (new)"),
        (polled(200, 1, []), "HTTP 200, 1 new article"),
        (polled(304, 0, []), "HTTP 304, nothing new"),
        (
            polled(200, 4, ["new", "update", "new"]),
            "HTTP 200, 4 new articles; 3 alerts queued (2 new, 1 update)",
        ),
        (
            polled(None, 0, [], error="refusing to contact 127.0.0.1"),
            "failed: refusing to contact 127.0.0.1",
        ),
    ],
)
def test_each_feed_is_one_plain_line(feed: Any, said: str) -> None:
    line = poll_line(feed)
    assert line == f"{FEED}: {said}"
    assert "[" not in line and "None" not in line


def test_poll_logs_which_configuration_it_read(tmp_path: Path) -> None:
    config = tmp_path / "monitor.yaml"
    config.write_text(
        "feeds: []\nwatchlists: []\nalerts: {routes: {default: {type: console}}}\n"
        f"storage: {{url: 'sqlite:///{tmp_path / 'm.db'}'}}\n"
        "dedup: {semantic: {enabled: false}}\n",
        encoding="utf-8",
    )
    runner = CliRunner()
    assert runner.invoke(app, ["db", "upgrade", "-c", str(config)]).exit_code == 0
    polled = runner.invoke(app, ["poll", "--once", "-c", str(config)])
    assert polled.exit_code == 0, polled.output
    assert "configuration read" in polled.output and f"config='{config}'" in polled.output
