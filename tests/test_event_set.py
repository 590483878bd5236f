"""The main-event development set (bench/data/event-annotations.jsonl) is well-formed and its
gold answers are checkable: ids exist in the shipped config, sentences are quoted verbatim,
weekday names agree with the dates."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from datetime import date, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_WEEKDAY = re.compile(r"\b(" + "|".join(WEEKDAYS) + r")\b")


def _load_module() -> ModuleType:
    # bench/ is not an installed package: load the module from its file
    path = ROOT / "bench" / "event_set.py"
    spec = importlib.util.spec_from_file_location("bench_event_set", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


event_set = _load_module()


@pytest.fixture(scope="module")
def records() -> list[dict[str, Any]]:
    return event_set.load_event_set()


def test_set_has_at_least_60_records_with_unique_ids(records: list[dict[str, Any]]) -> None:
    ids = [r["id"] for r in records]
    assert len(records) >= 60
    assert len(set(ids)) == len(ids)


def test_every_gold_id_exists_in_the_shipped_config(records: list[dict[str, Any]]) -> None:
    watchlist = event_set.shipped_watchlist()
    assert event_set.check_gold_ids(records, watchlist) == []
    # and the check does catch a wrong id
    bad = json.loads(json.dumps(records[0]))
    bad["gold"]["incident_type"] = "rocket-atack"
    bad["gold"]["place"] = "kataib-hezbollah"
    bad["gold"]["actors"] = [{"id": "no-such-group", "name": "x", "role": "attacker"}]
    problems = event_set.check_gold_ids([bad], watchlist)
    assert len(problems) == 3
    assert "not a place" in problems[1]


def test_sentences_occur_verbatim_and_carry_their_figure(records: list[dict[str, Any]]) -> None:
    for r in records:
        for key in ("killed", "wounded"):
            sentence = r["gold"][f"{key}_sentence"]
            if sentence is None:
                continue
            assert sentence in r["text"], (r["id"], key)
            # a quoted sentence stands alone: it starts a paragraph or follows a sentence end
            start = r["text"].index(sentence)
            before = r["text"][:start]
            assert start == 0 or before.endswith(("\n\n", ". ", '." ', "? ")), (r["id"], key)


def test_weekday_names_agree_with_dates(records: list[dict[str, Any]]) -> None:
    checked = 0
    for r in records:
        g = r["gold"]
        published = event_set.published_at(r).date()
        if g["date"] is None:
            continue
        when = date.fromisoformat(g["date"])
        days = (published - when).days
        # every event in the set is reported within the week it happened
        assert 0 <= days <= 6, (r["id"], days)
        if days:
            assert WEEKDAYS[when.weekday()] in r["text"], (r["id"], g["date"])
        # a weekday in the lede is the event's day or a later day on which it was reported,
        # unless the record says its lede names another event's day
        if "weekday-background" not in r.get("tags", []):
            lede = r["text"].split("\n\n")[0]
            for name in _WEEKDAY.findall(lede):
                named = _last(name, published)
                assert when <= named <= published, (r["id"], name)
                checked += 1
    assert checked >= 40


def _last(weekday: str, on_or_before: date) -> date:
    back = (on_or_before.weekday() - WEEKDAYS.index(weekday)) % 7
    return on_or_before - timedelta(days=back)


def test_publication_window_urls_and_non_incidents(records: list[dict[str, Any]]) -> None:
    for r in records:
        published = event_set.published_at(r)
        assert date(2026, 1, 1) <= published.date() <= date(2026, 11, 1), r["id"]
        assert r.get("url", "http://127.0.0.1/").startswith("http://127.0.0.1/")
        words = len(r["text"].split())
        assert 80 <= words <= 600, (r["id"], words)
    none = [r for r in records if r["gold"]["incident_type"] is None]
    assert len(none) >= 8
    for r in none:
        assert r["gold"]["killed"] is None and r["gold"]["wounded"] is None, r["id"]


def test_no_two_articles_share_a_long_passage(records: list[dict[str, Any]]) -> None:
    n = 10
    owner: dict[tuple[str, ...], str] = {}
    for r in records:
        tokens = re.findall(r"\w+", r["text"].lower())
        for gram in {tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)}:
            assert owner.setdefault(gram, r["id"]) == r["id"], (owner[gram], r["id"], gram)


def test_loader_reports_each_problem_with_line_and_field(tmp_path: Path) -> None:
    good = event_set.load_event_set()[0]
    bad = json.loads(json.dumps(good))
    bad["gold"]["killed"] = "12"
    bad["gold"]["actors"] = [{"id": None, "name": "x", "role": "shooter"}]
    del bad["source"]
    path = tmp_path / "set.jsonl"
    path.write_text(json.dumps(good) + "\n" + json.dumps(bad) + "\n{oops\n", encoding="utf-8")
    with pytest.raises(event_set.EventSetError) as info:
        event_set.load_event_set(path)
    errors = info.value.errors
    assert any(e.startswith(f"{path}:2: ev-001: source: missing") for e in errors)
    assert any("gold.killed: expected a non-negative integer" in e for e in errors)
    assert any("gold.actors.0.role: expected one of" in e for e in errors)
    assert any(e.startswith(f"{path}:2: ev-001: duplicate id") for e in errors)
    assert any(e.startswith(f"{path}:3: not JSON") for e in errors)
