"""Fakes for the extract stage's tests: a scripted page fetcher, fixtures and feed entries.

Sites are named by RFC 6761 loopback names (``*.localhost``): extraction compares host
names (site overrides, canonical link against page URL, site name from the host), and
FakeFetcher answers every URL, so nothing ever resolves them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from monitor.errors import FetchError
from monitor.types import FeedEntry

FIXTURES = Path(__file__).parent / "fixtures"
# When the tests' pages are asked for (the pipeline's clock, injected): after every date the
# fixtures carry, whatever the real date.
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


@dataclass
class FakeResponse:
    url: str
    status: int = 200
    content: bytes = b""
    content_type: str | None = "text/html; charset=utf-8"
    headers: Mapping[str, str] = field(default_factory=dict)


class FakeFetcher:
    """Answers each URL from a script: a FakeResponse, or an exception to raise."""

    def __init__(self, pages: Mapping[str, FakeResponse | Exception] | None = None) -> None:
        self.pages = dict(pages or {})
        self.requests: list[tuple[str, Mapping[str, str] | None]] = []

    async def get(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> FakeResponse:
        self.requests.append((url, headers))
        answer = self.pages.get(url, FetchError(f"{url}: connection refused"))
        if isinstance(answer, Exception):
            raise answer
        return answer


def fixture_html(case: str) -> bytes:
    return (FIXTURES / f"{case}.html").read_bytes()


def golden(case: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{case}.expected.json").read_text(encoding="utf-8"))


def make_entry(
    url: str | None, *, summary: str = "A short feed summary.", **kw: object
) -> FeedEntry:
    values: dict[str, object] = {
        "feed_url": "https://lakeside-ledger.localhost/feed.xml",
        "entry_key": f"guid:{url}",
        "url": url,
        "title": "Rockets strike Harbor Point base",
        "summary": summary,
        "published": datetime(2024, 5, 2, 4, 0, tzinfo=UTC),
        "source": "The Lakeside Ledger",
    }
    values.update(kw)
    return FeedEntry(**values)  # type: ignore[arg-type]
