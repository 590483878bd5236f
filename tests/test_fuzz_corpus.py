"""The fuzz target's seeds and every crash it found (fuzz/regressions/) go through the whole
path -- parse, extract, classify, store -- without an exception (atheris not needed)."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

FUZZ = Path(__file__).resolve().parents[1] / "fuzz"
INPUTS = sorted([*(FUZZ / "seeds").iterdir(), *(FUZZ / "regressions").iterdir()])


@pytest.fixture(scope="module")
def run_one() -> Iterator[object]:
    sys.path.insert(0, str(FUZZ))
    try:
        from pipeline_harness import run_one
    finally:
        sys.path.remove(str(FUZZ))
    yield run_one


@pytest.mark.parametrize("path", INPUTS, ids=[p.name for p in INPUTS])
def test_input_goes_through_without_a_crash(run_one: object, path: Path) -> None:
    try:
        run_one(path.read_bytes())  # type: ignore[operator]
    finally:
        # the harness silences expected warnings process-wide (logging.disable), which a
        # fuzzing process wants; every other test must see its log lines (conftest checks)
        logging.disable(logging.NOTSET)
