"""bench.poll_feeds refuses to report speeds when monitor and reader did different work."""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType

import pytest

SAME = {"not_modified": 1800, "ok": 200, "new_entries": 400, "errors": 0}
TIMES = {"wall": 1.0, "cpu": 1.0, "rss_mib": 50.0}


def run_main(
    poll_feeds: ModuleType,
    monkeypatch: pytest.MonkeyPatch,
    monitor: dict[str, int],
    written: list[str],
) -> None:
    """main() with canned contenders; the sections it writes are appended to ``written``."""
    counts = {"monitor": monitor, "reader": SAME}
    monkeypatch.setattr(poll_feeds, "contender", lambda name, *_: {**TIMES, **counts[name]})
    monkeypatch.setattr(poll_feeds, "update_section", lambda name, *_, **__: written.append(name))
    poll_feeds.main(["--feeds", "2000"])


def test_different_work_fails_loudly_and_writes_no_figures(
    bench_module: Callable[[str], ModuleType], monkeypatch: pytest.MonkeyPatch
) -> None:
    poll_feeds = bench_module("poll_feeds")
    lost_state = {**SAME, "not_modified": 1077, "ok": 923, "new_entries": 16300}
    written: list[str] = []
    with pytest.raises(poll_feeds.DifferentWork) as raised:
        run_main(poll_feeds, monkeypatch, lost_state, written)
    message = str(raised.value)
    assert "ok: monitor 923, reader 200" in message
    assert "new_entries: monitor 16300, reader 400" in message
    assert "errors" not in message  # only the counts that differ are named
    assert written == []


def test_same_work_is_reported(
    bench_module: Callable[[str], ModuleType], monkeypatch: pytest.MonkeyPatch
) -> None:
    poll_feeds = bench_module("poll_feeds")
    written: list[str] = []
    run_main(poll_feeds, monkeypatch, dict(SAME), written)
    assert written == ["poll"]
