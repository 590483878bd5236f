"""`monitor explain` through the real CLI: names where a reader knows names, and why a field
is empty instead of a dash."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from monitor.cli import app

from .conftest import BASE

RULES = """
  - id: kh-only
    entities: {any: [kataib-hezbollah]}
    routes: [default]
"""
ARTICLE = "Rocket attack on Camp Taji\nRockets struck Camp Taji on Thursday, killing two.\n"


@pytest.fixture
def article(tmp_path: Path) -> tuple[Path, Path]:
    (tmp_path / "watch.yaml").write_text(BASE + RULES, encoding="utf-8")
    config = tmp_path / "monitor.yaml"
    config.write_text(
        "watchlists: [watch.yaml]\n"
        "alerts:\n  routes:\n    default: {type: console}\n"
        f"storage:\n  url: sqlite:///{tmp_path / 'm.db'}\n",
        encoding="utf-8",
    )
    path = tmp_path / "article.txt"
    path.write_text(ARTICLE, encoding="utf-8")
    return path, config


def _explain(*args: str) -> str:
    result = CliRunner().invoke(app, ["explain", *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_explain_names_places_types_and_rules_by_their_names(article: tuple[Path, Path]) -> None:
    path, config = article
    out = _explain(str(path), "-c", str(config))
    assert "Camp Taji [military_base] (in Iraq): " in out  # its parent's name, not "iraq"
    assert "Rocket attack [ACLED: Shelling/artillery/missile attack] (under Shelling)" in out
    assert "  type Shelling\n" in out  # the event's type by its label, not "shelling"
    assert "kh-only: no entity among Kataib Hezbollah" in out
    assert "Casualties (of the event): 2 killed" in out and "wounded -" not in out


def test_explain_says_why_the_event_has_no_date_or_reads_it(article: tuple[Path, Path]) -> None:
    path, config = article
    undated = _explain(str(path), "-c", str(config))
    assert "date -" not in undated
    assert "date none: no publication time to read day words" in undated
    assert "give one with --published" in undated
    # Friday 27 November 2026: "on Thursday" is the day before.
    dated = _explain(str(path), "-c", str(config), "--published", "2026-11-27T01:30Z")
    assert "  date 2026-11-26\n" in dated
    later = _explain(str(path), "-c", str(config), "--published", "2026-12-27T01:30")
    assert "  date 2026-12-24\n" in later  # no zone given: UTC


def test_explain_refuses_a_publication_time_it_cannot_read(article: tuple[Path, Path]) -> None:
    path, config = article
    result = CliRunner().invoke(
        app, ["explain", str(path), "-c", str(config), "--published", "yesterday"]
    )
    assert result.exit_code == 2 and "not an ISO 8601 time" in result.output
