"""The offline demo: one command shows the whole path working."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from monitor.cli import app


@pytest.fixture(autouse=True)
def no_slack(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("SLACK_WEBHOOK_URL", "SLACK_BOT_TOKEN", "SLACK_CHANNEL"):
        monkeypatch.delenv(var, raising=False)


def test_demo_alerts_one_story_with_two_sources() -> None:
    result = CliRunner().invoke(app, ["demo", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    [story] = data["alerted_stories"]
    assert {s["outlet"] for s in story["sources"]} == {"Northgate Post", "Riverside Ledger"}
    assert "Kataib Hezbollah" in story["entities"]
    assert "Camp Taji" in story["entities"]
    assert {"Shelling/artillery/missile attack", "Air/drone strike"} <= set(story["acled_types"])
    assert [a["kind"] for a in story["alerts"]].count("new") == 1
    others = {s["headline"] for s in data["other_stories"]}
    assert len(others) == 2  # the week-later attack and the harvest article, each its own story
