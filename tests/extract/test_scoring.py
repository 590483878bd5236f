"""The benchmark's scorer (bench/extract_scoring.py) on hand-checked cases."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location(
    "extract_scoring", Path(__file__).parents[2] / "bench" / "extract_scoring.py"
)
assert _spec and _spec.loader
scoring = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(scoring)


def test_shingles_are_four_word_windows_with_counts() -> None:
    found = scoring.shingles("a b c d e, a b c d")
    assert found[("a", "b", "c", "d")] == 2 and found[("b", "c", "d", "e")] == 1
    assert sum(found.values()) == 6
    assert scoring.shingles("too short") == {("too", "short"): 1}
    assert scoring.shingles(" ... ") == {}


def test_page_counts_are_normalised() -> None:
    # expected has 3 shingles, predicted 4; they share 2.
    tp, fp, fn = scoring.page_counts("one two three four five six", "one two three four five x y")
    assert (tp, fp, fn) == pytest.approx((2 / 5, 2 / 5, 1 / 5))


def test_score_averages_pages_and_skips_empty_sides() -> None:
    perfect = scoring.page_counts("w1 w2 w3 w4 w5", "w1 w2 w3 w4 w5")
    missed = scoring.page_counts("w1 w2 w3 w4 w5", "")  # no prediction: recall 0, no precision
    result = scoring.score([perfect, missed])
    assert result["precision"] == 1.0 and result["recall"] == 0.5
    assert result["f1"] == pytest.approx(2 * 0.5 / 1.5)
    assert scoring.score([scoring.page_counts("", "")])["f1"] == 0.0
