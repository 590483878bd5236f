"""The seed articles through `monitor replay`, then the dispatcher: one message, one update."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fakeslack import FakeSlack
from typer.testing import CliRunner

from monitor.alert.dispatcher import Dispatcher
from monitor.cli import app
from monitor.config import load_config
from monitor.storage.db import make_engine, session_factory, upgrade

CONFIG = Path(__file__).resolve().parents[2] / "config" / "monitor.yaml"


def _seeds(shared: Path) -> list[dict[str, Any]]:
    second = (shared / "seeds" / "second-outlet-2020-03-12.txt").read_text(encoding="utf-8")
    wapo = (
        (shared / "seeds" / "washington-post-2020-03-13.txt")
        .read_text(encoding="utf-8")
        .splitlines()
    )
    return [
        {
            "id": "second-outlet",
            "title": second.splitlines()[0][:160],
            "text": second,
            "published": "2020-03-12T22:00:00+00:00",
            "source": "Second outlet",
        },
        {
            "id": "washington-post",
            "title": wapo[2],
            "text": "\n".join(x for x in wapo[3:] if x.strip()),
            "published": "2020-03-13T06:00:00+00:00",
            "source": "The Washington Post",
        },
    ]


def _config(tmp_path: Path, slack: FakeSlack) -> Path:
    """The shipped config, with its `default` route pointed at the fake Slack."""
    text = CONFIG.read_text(encoding="utf-8")
    text = text.replace("  - taxonomy.yaml", f"  - {CONFIG.parent / 'taxonomy.yaml'}")
    text = text.replace("  - watchlists/*.yaml", f"  - {CONFIG.parent / 'watchlists'}/*.yaml")
    route = (
        f"    default:\n      type: slack\n      token: {slack.token}\n"
        f"      channel: {slack.channel}\n      api_url: {slack.api_url}\n"
    )
    text = text.replace("    default:\n      type: console", route.rstrip("\n"), 1)
    path = tmp_path / "monitor.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_seeds_give_one_message_then_one_update(
    tmp_path: Path, shared_dir: Path, slack: FakeSlack
) -> None:
    config_path = _config(tmp_path, slack)
    db_url = f"sqlite:///{tmp_path / 'm.db'}"
    engine = make_engine(db_url)
    upgrade(engine)
    settings = load_config(config_path).settings.alerts
    dispatcher = Dispatcher(settings=settings, sessions=session_factory(engine))
    for n, seed in enumerate(_seeds(shared_dir)):
        line = tmp_path / f"in{n}.jsonl"
        line.write_text(json.dumps(seed) + "\n", encoding="utf-8")
        result = CliRunner().invoke(
            app, ["replay", str(line), "-c", str(config_path), "--db", db_url]
        )
        assert result.exit_code == 0, result.output
        assert dispatcher.run_once().sent == 1
    [message] = slack.top_level()
    [reply] = slack.replies(message["ts"])
    assert message.get("edited") and "Sources (2)" in json.dumps(message["blocks"])
    assert "The Washington Post" in json.dumps(reply["blocks"])
    engine.dispose()
