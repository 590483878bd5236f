"""The offline demo: one command shows the whole path working, on every day and hour."""

from __future__ import annotations

import io
import json
import re
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
import time_machine
from typer.testing import CliRunner

from monitor.cli import app
from monitor.demo.run import DemoResult, DemoStory, run_demo
from monitor.demo.site import anchor_time, load_articles

# Monday 2026-03-02 to Sunday 2026-03-08, just after midnight, at noon, before midnight UTC.
WEEK = [
    datetime.combine(date(2026, 3, 2) + timedelta(days=d), t, UTC)
    for d in range(7)
    for t in (time(0, 30), time(12, 0), time(23, 30))
]


@pytest.fixture(autouse=True)
def no_slack(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("SLACK_WEBHOOK_URL", "SLACK_BOT_TOKEN", "SLACK_CHANNEL"):
        monkeypatch.delenv(var, raising=False)


def assert_the_demo_s_promise(data: dict[str, Any]) -> None:
    """ONE alerted story with TWO sources; the week-later barrage and the harvest apart."""
    [story] = data["alerted_stories"]
    assert {s["outlet"] for s in story["sources"]} == {"Northgate Post", "Riverside Ledger"}
    assert "Kataib Hezbollah" in story["entities"]
    assert "Camp Taji" in story["entities"]
    assert {"Shelling/artillery/missile attack", "Air/drone strike"} <= set(story["acled_types"])
    assert [a["kind"] for a in story["alerts"]].count("new") == 1
    # The news is the air strike in Iraq; Camp Taji and its toll are the rocket attack's
    # the day before, which the headline's "after ..." and the lede's "a day after ..." name.
    event = story["event"]
    assert event["incident_type"] == "air-strike" and event["place"]["name"] == "Iraq"
    assert (event["killed"], event["wounded"]) == (None, None)
    # "the raids killed soldiers" is the strikes' toll: no armed clash beside them
    assert "armed-clash" not in event["secondary_types"]
    prior = event["prior"]
    assert prior["incident_type"] == "rocket-attack" and prior["place"]["name"] == "Camp Taji"
    assert (prior["killed"], prior["wounded"]) == (3, 12)
    others = {s["headline"] for s in data["other_stories"]}
    assert others == {
        "New rocket barrage hits Camp Taji a week after deadly strike",
        "Basra farmers expect a record date harvest",
    }


def test_demo_alerts_one_story_with_two_sources() -> None:
    result = CliRunner().invoke(app, ["demo", "--json"])
    assert result.exit_code == 0, result.output
    assert_the_demo_s_promise(json.loads(result.stdout))


def _day_shown(line: str) -> date:
    """The day a summary line shows ("Thu 26 Nov 2026")."""
    found = re.search(r"\b\w{3} \d{2} \w{3} \d{4}\b", line)
    assert found is not None, line
    return datetime.strptime(found.group(0), "%a %d %b %Y").date()


def test_the_demo_alert_heads_with_the_strike_and_shows_the_attack_before_it_as_context() -> None:
    console = io.StringIO()
    run_demo(console=console)
    lines = console.getvalue().splitlines()
    assert "HIGH · Air or drone strike · Iraq" in lines
    summary = next(line for line in lines if line.startswith("Air or drone strike against"))
    assert "in Iraq" in summary and "killed" not in summary and "wounded" not in summary
    [after] = [line for line in lines if line.startswith("After: ")]
    assert after.startswith("After: Rocket attack at Camp Taji · ")
    assert " · 3 killed, 12 wounded · toll from" in after
    # "a day after a rocket attack": the attack's day is the one before the strike's
    strike_day, attack_day = (_day_shown(line) for line in (summary, after))
    assert attack_day == strike_day - timedelta(days=1)
    assert "at least 12 others were wounded" in after
    assert not any(line.startswith("Toll from:") for line in lines)  # the strike has none


def test_the_demo_alert_says_which_rule_sent_it_in_plain_text() -> None:
    console = io.StringIO()
    run_demo(console=console)
    text = console.getvalue()
    alert = text.split("─" * 60, 1)[1].split("\nAlerted:", 1)[0]
    [rule] = [line for line in alert.splitlines() if line.startswith("Rule: ")]
    # The demo rule's own ``severity: high``, not escalated by the toll.
    assert rule.startswith("Rule: demo-strikes-on-kataib-hezbollah (severity high) · ")
    assert "Entities" in alert.splitlines()  # a field's name, its bold markers gone
    for markup in ("*", "`", "<!date", "&amp;", "&lt;", "&gt;", "|"):
        assert markup not in alert, markup


@pytest.mark.parametrize(
    "now", [t for t in WEEK if t.hour != 12], ids=lambda d: d.strftime("%a-%H%M")
)
def test_demo_tells_the_same_stories_whatever_the_day_and_hour(now: datetime) -> None:
    with time_machine.travel(now, tick=True):
        result: DemoResult = run_demo(console=io.StringIO())
    assert_the_demo_s_promise(result.as_json())


@pytest.mark.parametrize("now", WEEK, ids=lambda d: d.strftime("%a-%H%M"))
def test_sample_dates_agree_with_the_weekdays_their_texts_name(now: datetime) -> None:
    articles = {a.slug: a for a in load_articles(now)}
    assert all(a.published <= now for a in articles.values())
    assert max(now - a.published for a in articles.values()) < timedelta(days=16)
    assert articles["taji-rocket-attack-us-strikes"].published.strftime("%A") == "Friday"
    assert articles["iraq-militia-strikes-reaction"].published.strftime("%A") == "Saturday"
    assert articles["taji-second-rocket-barrage"].published.strftime("%A") == "Saturday"


def test_anchor_is_the_latest_weekday_at_that_time_not_after_now() -> None:
    sat_3pm = time(15, 0)
    saturday = datetime(2026, 3, 7, 15, 0, tzinfo=UTC)
    assert anchor_time(saturday, weekday="Saturday", at=sat_3pm) == saturday
    before = saturday - timedelta(minutes=1)
    assert anchor_time(before, weekday="Saturday", at=sat_3pm) == saturday - timedelta(days=7)
    # An offset clock is read as the same instant in UTC.
    tokyo = saturday.astimezone().replace(microsecond=0)
    assert anchor_time(tokyo, weekday="Saturday", at=sat_3pm) == saturday


def _story(casualties: dict[str, Any], event: dict[str, Any]) -> DemoStory:
    return DemoStory(
        id=1,
        headline="h",
        severity="high",
        incident_types=[],
        acled_types=[],
        entities=[],
        casualties=casualties,
        sources=[],
        alerts=[{"route": "demo", "kind": "new", "status": "sent"}],
        event=event,
    )


@pytest.mark.parametrize(
    ("casualties", "event", "shown"),
    [
        (
            {},
            {"prior": {"killed": 3, "wounded": 12}},
            "none stated for this event (the earlier event: 3 killed, 12 wounded)",
        ),
        ({"killed": 2}, {}, "2 killed"),
        ({"killed": 0, "wounded": 4}, {"prior": {"killed": None}}, "0 killed, 4 wounded"),
        ({}, {}, "none stated for this event"),
    ],
)
def test_the_summary_says_whose_toll_it_is(
    casualties: dict[str, Any], event: dict[str, Any], shown: str
) -> None:
    text = DemoResult([_story(casualties, event)]).as_text()
    assert f"  casualties:     {shown}" in text.splitlines()


def test_each_story_not_alerted_says_its_own_reason() -> None:
    quiet = replace(_story({}, {}), headline="Harvest", severity=None, alerts=[])
    below = replace(_story({}, {}), headline="Barrage", alerts=[], routes=["default"])
    lines = DemoResult([quiet, below]).as_text().splitlines()
    assert "  - Harvest: no rule matched" in lines
    [barrage] = [line for line in lines if line.startswith("  - Barrage: ")]
    assert "severity high" in barrage and "min_severity of route default" in barrage


def test_an_update_sent_within_the_first_message_says_so() -> None:
    alerts: list[dict[str, Any]] = [
        {"route": "demo", "kind": "new", "status": "sent"},
        {"route": "demo", "kind": "update", "status": "sent", "with_first_message": True},
        {"route": "demo", "kind": "update", "status": "sent", "with_first_message": False},
    ]
    story = replace(_story({}, {}), alerts=alerts)
    [line] = [x for x in DemoResult([story]).as_text().splitlines() if "alerts:" in x]
    assert line.endswith(
        "demo new (sent), demo update (sent in the same message as the new alert), "
        "demo update (sent)"
    )


def test_the_demo_s_update_went_out_in_its_one_message() -> None:
    data = CliRunner().invoke(app, ["demo", "--json"])
    [story] = json.loads(data.stdout)["alerted_stories"]
    updates = [a for a in story["alerts"] if a["kind"] == "update"]
    assert all(a["with_first_message"] for a in updates)
    assert data.stderr.count("[new alert") == 1 and "[update" not in data.stderr
