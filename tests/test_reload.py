"""Reloading watchlists in a running service checks them exactly as start-up does."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.config import current_watchlist_files, load_config
from monitor.runtime import open_runtime

RULE = """rules:
  - id: {rid}
    incident_types: {{any: [shelling]}}
    severity: high
    routes: [{route}]
"""
RULE_B = RULE.format(rid="b", route="ops").removeprefix("rules:\n")


def setup(tmp_path: Path) -> Path:
    config_dir = Path(__file__).resolve().parents[1] / "config"
    (tmp_path / "watch").mkdir()
    (tmp_path / "watch" / "a.yaml").write_text(RULE.format(rid="a", route="ops"), "utf-8")
    cfg = tmp_path / "monitor.yaml"
    cfg.write_text(
        f"watchlists:\n  - {config_dir / 'taxonomy.yaml'}\n  - watch/*.yaml\n"
        "alerts:\n  routes:\n    ops: {type: console}\n",
        encoding="utf-8",
    )
    return cfg


def test_reload_rejects_a_rule_with_an_unknown_route(tmp_path: Path) -> None:
    config = load_config(setup(tmp_path))
    rt = open_runtime(config, f"sqlite:///{tmp_path / 'm.db'}", migrate=True)
    (tmp_path / "watch" / "a.yaml").write_text(RULE.format(rid="a", route="nope"), "utf-8")
    [error] = rt.classifier.reload()
    assert "unknown route 'nope'" in error
    assert [r.id for r in rt.classifier.current.watchlist.rules] == ["a"]
    rt.close()


def test_reload_picks_up_a_new_file_matching_the_glob(tmp_path: Path) -> None:
    config = load_config(setup(tmp_path))
    rt = open_runtime(config, f"sqlite:///{tmp_path / 'm.db'}", migrate=True)
    (tmp_path / "watch" / "b.yaml").write_text(RULE.format(rid="b", route="ops"), "utf-8")
    assert len(current_watchlist_files(config)) == 3
    assert rt.classifier.reload() == []
    assert sorted(r.id for r in rt.classifier.current.watchlist.rules) == ["a", "b"]
    rt.close()


def test_a_watchlist_cut_to_nothing_is_refused_and_the_rules_stay(tmp_path: Path) -> None:
    """An editor that truncates the file before writing it must not silence every rule."""
    config = load_config(setup(tmp_path))
    rt = open_runtime(config, f"sqlite:///{tmp_path / 'm.db'}", migrate=True)
    watch = tmp_path / "watch" / "a.yaml"
    for text in ("", "# rules to come\n"):
        watch.write_text(text, "utf-8")
        [error] = rt.classifier.reload()
        assert error.startswith(f"{watch}:1: the file is empty (or only comments)")
        assert [r.id for r in rt.classifier.current.watchlist.rules] == ["a"]
    watch.write_text("rules: []\n", "utf-8")  # nothing, said on purpose
    assert rt.classifier.reload() == []
    assert rt.classifier.current.watchlist.rules == ()
    rt.close()


def test_the_running_service_says_what_became_of_each_edit(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """An unattended service checks its files every 30 s: an edit taken up is logged as
    surely as one refused (with file:line), /status tells which is in force, and an edit
    to monitor.yaml, which only a restart applies, is said once instead of ignored."""
    from monitor.scheduler import Service

    cfg = setup(tmp_path)
    rt = open_runtime(load_config(cfg), f"sqlite:///{tmp_path / 'm.db'}", migrate=True)
    svc = Service(rt)
    watch = tmp_path / "watch" / "a.yaml"
    try:
        svc.reload_watchlists()  # the first look records the files
        with caplog.at_level("INFO", logger="monitor.scheduler"):
            watch.write_text(RULE.format(rid="a", route="ops") + RULE_B, "utf-8")
            svc.reload_watchlists()
        assert [r.getMessage() for r in caplog.records] == ["watchlists reloaded"]
        assert sorted(r.id for r in rt.classifier.current.watchlist.rules) == ["a", "b"]
        caplog.clear()
        with caplog.at_level("INFO", logger="monitor.scheduler"):
            watch.write_text(RULE.format(rid="a", route="nope"), "utf-8")
            svc.reload_watchlists()
        [refused] = [r.getMessage() for r in caplog.records]
        assert "the previous watchlists stay" in refused and f"{watch}:5:" in refused
        assert sorted(r.id for r in rt.classifier.current.watchlist.rules) == ["a", "b"]
        memory = svc._memory()
        assert memory["watchlists"]["state"] == "rejected"
        assert memory["config"]["changed_since_start"] is False
        caplog.clear()
        with caplog.at_level("INFO", logger="monitor.scheduler"):
            cfg.write_text(cfg.read_text("utf-8") + "fetch: {interval: 5m}\n", "utf-8")
            svc.reload_watchlists()
            svc.reload_watchlists()  # said once per edit, not every 30 s
        [changed] = [r.getMessage() for r in caplog.records]
        assert changed.startswith(f"{cfg} changed on disk") and "restarts" in changed
        assert svc._memory()["config"]["changed_since_start"] is True
    finally:
        rt.close()
