"""`monitor test-alert ROUTE` and `monitor alerts [--json]`."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from alertkit import T0, add_article, add_story
from fakeslack import FakeSlack
from typer.testing import CliRunner

from monitor.cli import app
from monitor.demo.site import DemoSite, load_articles
from monitor.resources import shipped_config_dir
from monitor.storage.db import make_engine, session_factory, upgrade
from monitor.storage.models import AlertRow

runner = CliRunner()


def _config(tmp_path: Path, slack: FakeSlack, token: str, channel: str | None = None) -> Path:
    path = tmp_path / "monitor.yaml"
    path.write_text(
        "alerts:\n  routes:\n    ops:\n      type: slack\n"
        f"      token: {token}\n      channel: '{channel or slack.channel}'\n"
        f"      api_url: {slack.api_url}\n"
        "    screen:\n      type: console\n"
        f"storage:\n  url: sqlite:///{tmp_path / 'm.db'}\n",
        encoding="utf-8",
    )
    return path


def test_test_alert_posts_a_sample_and_names_a_bad_token(tmp_path: Path, slack: FakeSlack) -> None:
    good = runner.invoke(
        app, ["test-alert", "ops", "-c", str(_config(tmp_path, slack, slack.token))]
    )
    assert good.exit_code == 0, good.output
    assert "sent a test alert to route 'ops'" in good.output
    [message] = slack.top_level()
    assert "Test alert from monitor" in message["text"]

    bad = runner.invoke(
        app, ["test-alert", "ops", "-c", str(_config(tmp_path, slack, "xoxb-nope"))]
    )
    assert bad.exit_code == 1 and "invalid_auth" in bad.output
    unknown = runner.invoke(
        app, ["test-alert", "nope", "-c", str(_config(tmp_path, slack, slack.token))]
    )
    assert unknown.exit_code == 2 and "ops, screen" in unknown.output
    assert len(slack.top_level()) == 1


@pytest.mark.parametrize("probe", [True, False], ids=["probed", "probe-refused"])
def test_test_alert_says_when_a_channel_given_by_name_cannot_be_looked_up(
    tmp_path: Path, probe: bool
) -> None:
    with FakeSlack(scopes=frozenset({"chat:write"})) as slack:
        if not probe:
            slack.fail("chat.scheduledMessages.list", "missing_scope")
        config = _config(tmp_path, slack, slack.token, channel="#alerts")
        result = runner.invoke(app, ["test-alert", "ops", "-c", str(config)])
    assert result.exit_code == 0, result.output  # posting works without the scopes
    assert len(slack.top_level()) == 1
    warnings = [line for line in result.output.splitlines() if line.startswith("warning:")]
    if probe:  # the ID came from a probe deleted at once: nothing to warn of
        assert warnings == [] and slack.scheduled == {}
        return
    [warning] = warnings
    for words in ("'#alerts'", "missing_scope", "channels:read", "posted twice"):
        assert words in warning


def test_alerts_lists_delivery_state(tmp_path: Path, slack: FakeSlack) -> None:
    config = _config(tmp_path, slack, slack.token)
    engine = make_engine(f"sqlite:///{tmp_path / 'm.db'}")
    upgrade(engine)
    with session_factory(engine).begin() as s:
        story = add_story(s)
        art = add_article(s, story, key="a", outlet="Outlet")
        s.add(
            AlertRow(
                story_id=story.id,
                article_id=art.id,
                route="ops",
                kind="new",
                status="failed",
                attempts=1,
                created_at=T0,
                last_error="chat.postMessage: channel_not_found",
            )
        )
    engine.dispose()
    out = runner.invoke(app, ["alerts", "--json", "-c", str(config)])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert data["alerts"][0]["status"] == "failed" and data["routes"]["ops"]["failed"] == 1
    text = runner.invoke(app, ["alerts", "-c", str(config)])
    assert "channel_not_found" in text.output and "failed" in text.output
    assert f"created {T0:%Y-%m-%d %H:%M:%S} UTC" in text.output  # what the time is, in UTC


def test_alerts_retry_queues_failed_alerts_again_by_route(tmp_path: Path, slack: FakeSlack) -> None:
    """The console (off in the container) is not the only way back for a failed alert."""
    config = _config(tmp_path, slack, slack.token)
    engine = make_engine(f"sqlite:///{tmp_path / 'm.db'}")
    upgrade(engine)
    sessions = session_factory(engine)
    with sessions.begin() as s:
        story = add_story(s)
        for i, (route, kind, status) in enumerate([
            ("ops", "new", "failed"), ("ops", "update", "failed"), ("ops", "update", "sent"),
            ("screen", "new", "failed"), ("ops", "test", "failed"),
        ]):  # fmt: skip
            art = add_article(s, story, key=f"a{i}", outlet=f"Outlet {i}")
            s.add(
                AlertRow(
                    story_id=None if kind == "test" else story.id, article_id=art.id,
                    route=route, kind=kind, status=status, attempts=12, created_at=T0,
                    first_attempt_at=T0, last_error="route broken for longer than 3d",
                )
            )  # fmt: skip

    def states() -> list[tuple[str, str, str, int]]:
        with sessions() as s:
            rows = s.query(AlertRow).order_by(AlertRow.id)
            return [(a.route, a.kind, a.status, a.attempts) for a in rows]

    out = runner.invoke(app, ["alerts", "retry", "--route", "ops", "-c", str(config)])
    assert out.exit_code == 0, out.output
    assert "route ops: 2 failed alerts queued again" in out.output
    assert states() == [
        ("ops", "new", "pending", 0), ("ops", "update", "pending", 0),
        ("ops", "update", "sent", 12), ("screen", "new", "failed", 12),
        ("ops", "test", "failed", 12),
    ]  # fmt: skip
    with sessions() as s:  # kept: the dispatcher looks for a message that landed after all
        assert all(a.first_attempt_at is not None for a in s.query(AlertRow))
    out = runner.invoke(app, ["alerts", "retry", "-c", str(config)])
    assert out.exit_code == 0 and "route screen: 1 failed alert queued again" in out.output
    again = runner.invoke(app, ["alerts", "retry", "-c", str(config)])
    assert again.exit_code == 0 and "no failed alerts" in again.output
    unknown = runner.invoke(app, ["alerts", "retry", "--route", "nope", "-c", str(config)])
    assert unknown.exit_code == 2 and "ops, screen" in unknown.output
    sent = [i for i, st in enumerate(states(), 1) if st[2] == "sent"]
    refused = runner.invoke(app, ["alerts", "retry", "--id", str(sent[0]), "-c", str(config)])
    assert refused.exit_code == 1 and "only a failed alert is retried" in refused.output
    assert [st[2] for st in states()] == ["pending", "pending", "sent", "pending", "failed"]
    engine.dispose()


@pytest.mark.slow
def test_poll_once_says_what_it_left_in_the_outbox_and_the_next_poll_sends_it(
    tmp_path: Path, slack: FakeSlack
) -> None:
    now = datetime(2026, 3, 7, 18, 0, tzinfo=UTC)  # a Saturday: the barrage was at 15:00
    [article] = [a for a in load_articles(now) if a.slug == "taji-second-rocket-barrage"]
    shipped = shipped_config_dir()
    with DemoSite([article]) as site:
        [(feed, outlet)] = site.feed_urls()
        config = tmp_path / "monitor.yaml"
        config.write_text(
            f"feeds:\n  - url: {feed}\n    name: {outlet}\n"
            f"watchlists: [{shipped / 'taxonomy.yaml'}, {shipped / 'watchlists'}/*.yaml]\n"
            "fetch: {allow_private_addresses: true}\n"
            "alerts:\n  routes:\n    default:\n      type: slack\n"
            f"      token: {slack.token}\n      channel: {slack.channel}\n"
            f"      api_url: {slack.api_url}\n"
            f"storage: {{url: 'sqlite:///{tmp_path / 'm.db'}'}}\n",
            encoding="utf-8",
        )
        upgraded = runner.invoke(app, ["db", "upgrade", "-c", str(config)])
        assert upgraded.exit_code == 0, upgraded.output
        slack.fail("chat.postMessage", "429", retry_after=30)
        with time_machine.travel(now, tick=True):
            first = runner.invoke(app, ["poll", "--once", "-c", str(config)])
        assert first.exit_code == 0, first.output
        assert "route default: 1 alert not sent yet" in first.output
        assert "rate limited" in first.output and not slack.top_level()
        with time_machine.travel(now + timedelta(minutes=1), tick=True):
            second = runner.invoke(app, ["poll", "--once", "--json", "-c", str(config)])
        assert second.exit_code == 0, second.output
        assert json.loads(second.stdout)["pending_alerts"] == {}
    assert len(slack.top_level()) == 1
    assert slack.calls_to("chat.postMessage") == 2  # the 429, then the one message
