"""`monitor replay`, the offline contract: seeds (when ../shared is present) and our samples."""

from __future__ import annotations

import json
from collections.abc import Sequence
from concurrent.futures import Future
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from monitor import replay
from monitor.cli import app
from monitor.demo.site import load_articles

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "config" / "monitor.yaml"


def run_replay(
    tmp_path: Path, lines: Sequence[str | dict[str, Any]]
) -> tuple[list[dict[str, Any]], str]:
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "input.jsonl"
    path.write_text(
        "\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(app, ["replay", str(path), "--config", str(CONFIG)])
    assert result.exit_code == 0, result.output
    out = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    return out, result.stderr


def seed_lines(shared: Path) -> list[dict[str, Any]]:
    """The seeds as replay input, exactly as ../shared/seeds/README.md describes."""
    second = (shared / "seeds" / "second-outlet-2020-03-12.txt").read_text(encoding="utf-8")
    wapo = (shared / "seeds" / "washington-post-2020-03-13.txt").read_text(encoding="utf-8")
    wapo_lines = wapo.splitlines()
    return [
        {
            "id": "second-outlet-2020-03-12",
            "title": second.splitlines()[0][:160],
            "text": second,
            "published": "2020-03-12T22:00:00+00:00",
        },
        {
            "id": "washington-post-2020-03-13",
            "title": wapo_lines[2],
            "text": "\n".join(line for line in wapo_lines[3:] if line.strip()),
            "published": "2020-03-13T06:00:00+00:00",
        },
    ]


def entity_names(out: dict[str, Any]) -> set[str]:
    return {e["name"] for e in out["entities"]}


def test_seed_articles_are_one_story_with_one_alert_then_an_update(
    tmp_path: Path, shared_dir: Path
) -> None:
    first, second = run_replay(tmp_path, seed_lines(shared_dir))[0]
    assert first["story_id"] == second["story_id"]
    assert (first["alert"], second["alert"]) == ("new", "update")
    for out in (first, second):
        assert "Kataib Hezbollah" in entity_names(out)
    assert "Camp Taji" in entity_names(first) | entity_names(second)
    acled = set(first["acled_sub_event_types"]) | set(second["acled_sub_event_types"])
    assert {"Shelling/artillery/missile attack", "Air/drone strike"} <= acled
    types = first["incident_types"] + second["incident_types"]
    assert any("rocket" in t for t in types)


def sample_lines() -> list[dict[str, Any]]:
    # Dated as of the test's clock (frozen or not), as the demo dates them: replay takes a
    # date after its own start for a wrong one and does not move its clock to it.
    now = datetime.now(UTC)
    articles = sorted(load_articles(now), key=lambda a: a.published)
    return [
        {
            "id": a.slug,
            "title": a.title,
            "text": "\n".join(a.paragraphs),
            "published": a.published.isoformat(),
            "source": a.outlet_name,
        }
        for a in articles
    ]


def test_our_samples_same_event_joins_different_attack_stays_apart(tmp_path: Path) -> None:
    outs = {o["id"]: o for o in run_replay(tmp_path, sample_lines())[0]}
    first = outs["taji-rocket-attack-us-strikes"]
    second = outs["iraq-militia-strikes-reaction"]
    week_later = outs["taji-second-rocket-barrage"]
    unrelated = outs["basra-date-harvest"]
    assert first["story_id"] == second["story_id"]
    assert (first["alert"], second["alert"]) == ("new", "update")
    assert week_later["story_id"] != first["story_id"]
    assert unrelated["story_id"] not in {first["story_id"], week_later["story_id"]}
    assert unrelated["alert"] is None and unrelated["severity"] is None
    assert "Kataib Hezbollah" in entity_names(first) and "Kataib Hezbollah" in entity_names(second)
    assert "Camp Taji" in entity_names(week_later)
    assert "Shelling/artillery/missile attack" in week_later["acled_sub_event_types"]
    # Why dedup decided: the scores against the story joined, or the closest candidate.
    assert second["story_reason"].startswith("same event: text ")
    assert " meaning " in second["story_reason"]
    assert week_later["story_reason"].startswith("new story (")


def test_invalid_lines_are_reported_and_skipped(tmp_path: Path) -> None:
    good = sample_lines()[0]
    outs, err = run_replay(tmp_path, ["{not json", {"title": "no id"}, good, "[1, 2]"])
    assert [o["id"] for o in outs] == [good["id"]]
    assert "input.jsonl:1: skipped: not JSON" in err
    assert "input.jsonl:2: skipped: id: Field required" in err
    assert "input.jsonl:4: skipped:" in err


def test_exact_copy_is_a_duplicate_and_empty_articles_are_not(tmp_path: Path) -> None:
    a = sample_lines()[0]
    later = (datetime.fromisoformat(a["published"]) + timedelta(hours=1)).isoformat()
    copy = {**a, "id": "copy", "published": later, "source": "Another Outlet"}
    empty1 = {"id": "empty-1", "title": "", "text": ""}
    empty2 = {"id": "empty-2", "title": "", "text": ""}
    outs = run_replay(tmp_path, [a, copy, empty1, empty2])[0]
    assert outs[1]["duplicate_of"] == a["id"]
    assert outs[1]["story_id"] == outs[0]["story_id"]
    assert outs[2]["duplicate_of"] is None and outs[3]["duplicate_of"] is None
    assert outs[2]["story_id"] != outs[3]["story_id"]


@pytest.mark.parametrize("missing", ["published"])
def test_missing_published_takes_the_previous_time(tmp_path: Path, missing: str) -> None:
    lines = sample_lines()[:2]
    del lines[1][missing]
    outs = run_replay(tmp_path, lines)[0]
    assert outs[0]["story_id"] == outs[1]["story_id"]


def test_a_line_that_is_not_utf8_is_skipped(tmp_path: Path) -> None:
    good = sample_lines()[0]
    path = tmp_path / "input.jsonl"
    path.write_bytes(b'{"id": "x", "title": "caf\xe9"}\n' + json.dumps(good).encode() + b"\n")
    result = CliRunner().invoke(app, ["replay", str(path), "--config", str(CONFIG)])
    assert result.exit_code == 0, result.output
    assert [json.loads(x)["id"] for x in result.stdout.splitlines()] == [good["id"]]
    assert "input.jsonl:1: skipped: not UTF-8" in result.stderr


def test_a_repeated_report_still_carries_its_classification(tmp_path: Path) -> None:
    a = sample_lines()[0]
    outs = run_replay(tmp_path, [a, {**a, "id": "again"}])[0]
    assert outs[1]["duplicate_of"] == a["id"] and outs[1]["alert"] is None
    assert outs[1]["acled_sub_event_types"] == outs[0]["acled_sub_event_types"] != []
    assert entity_names(outs[1]) == entity_names(outs[0])


def test_zero_and_future_dates_neither_crash_nor_move_the_clock(tmp_path: Path) -> None:
    first, second = sample_lines()[:2]
    zero = {**second, "id": "zero", "published": "0001-01-01T00:00:00Z"}
    future = {**second, "id": "future", "published": "2100-01-01T00:00:00Z", "source": "Other"}
    outs, _ = run_replay(tmp_path, [first, zero, future])
    assert [o["id"] for o in outs] == [first["id"], "zero", "future"]
    # Both are processed as of the previous article's time, so they join its story.
    assert outs[1]["story_id"] == outs[0]["story_id"] == outs[2]["story_id"]


def test_embedding_ahead_on_workers_gives_the_output_of_one_by_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Replay embeds the next articles on worker threads while it assigns the current one;
    # the output must be exactly that of embedding each article when it is assigned.
    lines = sample_lines()
    ahead, _ = run_replay(tmp_path / "ahead", lines)

    def nothing_ahead(_stages: object, _article: object) -> Future[None]:
        done: Future[None] = Future()
        done.set_result(None)  # process_article then embeds the article itself
        return done

    monkeypatch.setattr(replay, "start_embedding", nothing_ahead)
    one_by_one, _ = run_replay(tmp_path / "inline", lines)
    assert ahead == one_by_one
    assert len({o["story_id"] for o in ahead}) > 1
