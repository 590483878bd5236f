"""Every bench module imports: mypy checks only the package, so a bench left behind by a
move in ``monitor/`` would otherwise break only in CI's bench smoke run, late and slowly."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"
MODULES = sorted(m.name for m in pkgutil.iter_modules([str(BENCH)]))


def test_the_bench_folder_is_read() -> None:
    assert {"run_all", "pipeline_replay", "dedup_errors"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_bench_module_imports(name: str) -> None:
    importlib.import_module(f"bench.{name}")
