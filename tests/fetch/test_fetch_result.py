"""FetchResult answers the poller's questions: modified? moved? when may we retry?"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from monitor.fetch.http import FetchResult

NOW = datetime(2020, 3, 12, 22, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", NOW + timedelta(seconds=120)),
        ("Thu, 12 Mar 2020 22:30:00 GMT", NOW + timedelta(minutes=30)),
        ("Thu, 12 Mar 2020 21:00:00 GMT", NOW),  # in the past: now
        ("99999999", NOW + timedelta(hours=6)),  # capped
        ("Mon, 01 Jan 2035 00:00:00 GMT", NOW + timedelta(hours=6)),
        ("soon", None),
        ("", None),
    ],
)
def test_retry_after_both_forms_capped(value: str, expected: datetime | None) -> None:
    result = FetchResult("http://127.0.0.1:8001/", 429, {"retry-after": value})
    assert result.retry_after(NOW, cap=timedelta(hours=6)) == expected


@pytest.mark.parametrize(
    ("hops", "moved"),
    [
        (((301, "http://127.0.0.1:8002/"),), "http://127.0.0.1:8003/"),
        (
            ((308, "http://127.0.0.1:8002/"), (301, "http://127.0.0.1:8003/")),
            "http://127.0.0.1:8003/",
        ),
        (((301, "http://127.0.0.1:8002/"), (302, "http://127.0.0.1:8003/")), None),
        (((307, "http://127.0.0.1:8003/"),), None),
        ((), None),
    ],
)
def test_permanent_redirect_only_when_every_hop_is_permanent(
    hops: tuple[tuple[int, str], ...], moved: str | None
) -> None:
    assert FetchResult("http://127.0.0.1:8003/", 200, {}, b"", hops).permanent_redirect() == moved


def test_modified_and_content_type() -> None:
    result = FetchResult("u", 200, {"content-type": "Application/RSS+XML; charset=utf-8"})
    assert result.is_modified() and result.content_type == "application/rss+xml"
    assert not FetchResult("u", 304).is_modified()
