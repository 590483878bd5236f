"""Benchmarks keep working: each new one runs at a tiny size (timings are never asserted)."""

from __future__ import annotations

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
