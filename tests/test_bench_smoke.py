"""Benchmarks keep working: each new one runs at a tiny size (timings are never asserted)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def test_e2e_poll_runs_at_a_tiny_size(shared_dir: Path) -> None:
    if not (shared_dir / "data" / "extraction" / "html").exists():
        pytest.skip("the extraction pages are not in ../shared")
    result = subprocess.run(
        [sys.executable, "-m", "bench.e2e_poll", "--tiny"],
        cwd=ROOT, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    poll_row = next(line for line in result.stdout.splitlines() if "poll --once" in line)
    assert poll_row.split("|")[2].strip() == "6"  # every page fetched, extracted and stored


def test_e2e_dump_of_two_runs_compares_identical(shared_dir: Path, tmp_path: Path) -> None:
    """The comparison a speed-only change is checked with: one version, two runs, no diff."""
    if not (shared_dir / "data" / "extraction" / "html").exists():
        pytest.skip("the extraction pages are not in ../shared")
    env = {**os.environ, "MONITOR_BENCH_TINY": "1"}
    for name in ("a", "b"):
        subprocess.run(
            [sys.executable, "-m", "bench.e2e_dump", "--out", str(tmp_path / f"{name}.json")],
            cwd=ROOT, capture_output=True, text=True, timeout=600, check=True, env=env,
        )  # fmt: skip
    result = subprocess.run(
        [sys.executable, "-m", "bench.e2e_dump", "--compare",
         str(tmp_path / "a.json"), str(tmp_path / "b.json")],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-2000:]
    assert '"articles": [' in (tmp_path / "a.json").read_text(encoding="utf-8")
