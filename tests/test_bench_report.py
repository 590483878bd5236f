"""bench/_report.py: a re-run goes on top of its section and keeps what was written before."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import _report


@pytest.fixture
def report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "BENCHMARKS.md"
    path.write_text(
        "# Benchmarks\n\n<!-- bench:other -->\n## other\nuntouched\n<!-- /bench:other -->\n",
        encoding="utf-8",
    )
    monkeypatch.setattr(_report, "REPORT", path)
    monkeypatch.setattr(_report, "TINY", False)
    return path


def test_a_rerun_keeps_the_sections_earlier_runs_below_it(report: Path) -> None:
    _report.update_section("speed", "## speed\n\nfirst: 1.0x\n\nwhy it is slow", command="a")
    _report.update_section("speed", "## speed\n\nsecond: 2.0x", command="b")
    _report.update_section("speed", "## speed\n\nthird: 3.0x", command="c")
    text = report.read_text(encoding="utf-8")
    section = text[text.index("<!-- bench:speed -->") : text.index("<!-- /bench:speed -->")]
    # newest first, every earlier run (and the note written with it) kept, in order
    order = [section.index(s) for s in ("third: 3.0x", "second: 2.0x", "first: 1.0x")]
    assert order == sorted(order)
    assert "why it is slow" in section
    assert section.count(_report.EARLIER) == 2
    assert section.index("`c`") < section.index(_report.EARLIER)  # its command with its run
    assert "<!-- bench:other -->\n## other\nuntouched\n<!-- /bench:other -->" in text


def test_a_new_section_is_appended_without_an_earlier_heading(report: Path) -> None:
    _report.update_section("fresh", "## fresh\n\nfigure", command="x")
    text = report.read_text(encoding="utf-8")
    assert text.rstrip().endswith("<!-- /bench:fresh -->")
    assert _report.EARLIER not in text


def test_a_smoke_run_writes_nothing(report: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = report.read_text(encoding="utf-8")
    monkeypatch.setattr(_report, "TINY", True)
    _report.update_section("other", "## other\n\nreplaced?", command="x")
    assert report.read_text(encoding="utf-8") == before
