"""`monitor stories` says a story's size in words that match the lines listed under it."""

from __future__ import annotations

from typing import Any

import pytest

from monitor.dedup.commands import story_counts, when


def listed(severity: str | None, outlets: int, reports: int) -> dict[str, Any]:
    sources = [{"article_id": n, "outlet": f"Outlet {n % outlets}"} for n in range(reports)]
    return {"severity": severity, "source_count": outlets, "sources": sources}


@pytest.mark.parametrize(
    ("severity", "outlets", "reports", "said"),
    [
        ("high", 1, 2, "high, 2 reports from 1 outlet"),
        ("high", 1, 1, "high, 1 report"),
        ("low", 3, 3, "low, 3 reports"),
        ("medium", 2, 5, "medium, 5 reports from 2 outlets"),
        (None, 1, 1, "no rule matched, 1 report"),
    ],
)
def test_story_size_counts_reports_and_outlets_apart(
    severity: str | None, outlets: int, reports: int, said: str
) -> None:
    assert story_counts(listed(severity, outlets, reports)) == said


@pytest.mark.parametrize(
    ("iso", "shown"),
    [
        ("2026-12-07T18:20:56+00:00", "2026-12-07 18:20 UTC"),
        ("2026-12-07T20:20:56.123456+02:00", "2026-12-07 18:20 UTC"),
    ],
)
def test_times_are_shown_in_utc_to_the_minute_as_feeds_and_alerts_show_them(
    iso: str, shown: str
) -> None:
    assert when(iso) == shown
