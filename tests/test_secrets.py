"""Alert secrets are needed to send, not to read: stories, feeds, alerts, articles and
explain work without SLACK_BOT_TOKEN; commands that send name the variable that is unset."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from monitor.cli import app
from monitor.config import load_config
from monitor.storage.db import make_engine, upgrade

runner = CliRunner()


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    monkeypatch.delenv("MONITOR_DATABASE_URL", raising=False)
    (tmp_path / "rules.yaml").write_text(
        "entities:\n  - {id: x, kind: armed_group, name: Xgroup}\n"
        "rules:\n  - id: r1\n    entities: {any: [x]}\n    routes: [ops, screen]\n",
        encoding="utf-8",
    )
    path = tmp_path / "monitor.yaml"
    path.write_text(
        "feeds:\n  - url: http://127.0.0.1:8001/feed\n"
        "watchlists: [rules.yaml]\n"
        "alerts:\n  routes:\n"
        "    ops:\n      type: slack\n      channel: C1\n      token: ${SLACK_BOT_TOKEN}\n"
        "    screen: {type: console}\n"
        f"storage:\n  url: sqlite:///{tmp_path / 'm.db'}\n"
        "dedup: {semantic: {enabled: false}}\n",
        encoding="utf-8",
    )
    engine = make_engine(f"sqlite:///{tmp_path / 'm.db'}")
    upgrade(engine)
    engine.dispose()
    return path


MISSING = "alerts.routes.ops.token: environment variable SLACK_BOT_TOKEN is not set"


@pytest.mark.parametrize(
    "command",
    [
        ["stories"],
        ["feeds"],
        ["feeds", "export-opml"],
        ["alerts"],
        ["articles", "list"],
        ["db", "upgrade"],
    ],
)
def test_read_only_commands_need_no_alert_secret(config: Path, command: list[str]) -> None:
    result = runner.invoke(app, [*command, "-c", str(config)])
    assert result.exit_code == 0, result.output
    assert "SLACK_BOT_TOKEN" not in result.output


def test_explain_needs_no_alert_secret(config: Path, tmp_path: Path) -> None:
    article = tmp_path / "article.txt"
    article.write_text("Xgroup claims an attack\nXgroup said it fired rockets.\n", "utf-8")
    result = runner.invoke(app, ["explain", str(article), "-c", str(config)])
    assert result.exit_code == 0, result.output
    assert "r1" in result.output


def test_the_route_is_set_aside_and_says_what_it_lacks(config: Path) -> None:
    cfg = load_config(config)
    assert list(cfg.settings.alerts.routes) == ["screen"]
    [line] = cfg.unavailable_routes["ops"]
    assert line.startswith(f"{config}:9: {MISSING}")


@pytest.mark.parametrize("command", [["check-config"], ["poll", "--once"], ["run"]])
def test_commands_that_send_name_the_unset_variable(config: Path, command: list[str]) -> None:
    result = runner.invoke(app, [*command, "-c", str(config)])
    assert result.exit_code == 2
    assert f"{config}:9: {MISSING}" in result.output
    assert "route 'ops' cannot send without it" in result.output


def test_test_alert_needs_only_its_own_route_secret(config: Path) -> None:
    other = runner.invoke(app, ["test-alert", "screen", "-c", str(config)])
    assert other.exit_code == 0, other.output
    own = runner.invoke(app, ["test-alert", "ops", "-c", str(config)])
    assert own.exit_code == 2 and MISSING in own.output
