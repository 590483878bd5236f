"""JSON Feed 1.0/1.1 (jsonfeed.org), which feedparser 6 does not read."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from urllib.parse import urljoin

from monitor.errors import NotAFeedError
from monitor.published import at_own_offset


def parse_json_feed(body: bytes, *, base: str) -> tuple[str | None, list[dict[str, Any]]]:
    """(feed title, raw entries) in the shape parse.py builds FeedEntry values from."""
    try:
        doc = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise NotAFeedError(f"not a feed: invalid JSON: {exc}") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("items"), list):
        raise NotAFeedError("not a feed: JSON without a JSON Feed 'items' list")
    if not str(doc.get("version", "")).startswith("https://jsonfeed.org/version/"):
        raise NotAFeedError("not a feed: JSON without a jsonfeed.org 'version'")
    items = [i for i in doc["items"] if isinstance(i, dict)]
    title = doc.get("title") if isinstance(doc.get("title"), str) else None
    return title, [_item(i, base) for i in items]


def _item(item: dict[str, Any], base: str) -> dict[str, Any]:
    link = item.get("url") or item.get("external_url")
    return {
        "id": str(item["id"]) if item.get("id") is not None else None,
        "link": urljoin(base, link) if isinstance(link, str) else None,
        "title": _str(item.get("title")),
        "html": _str(item.get("content_html"))
        or _str(item.get("content_text"))
        or _str(item.get("summary")),
        "published": _date(item.get("date_published") or item.get("date_modified")),
        "author": _author(item),
    }


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _date(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return at_own_offset(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except (ValueError, OverflowError):  # 0001-01-01T00:00:00+01:00 is before year 1 in UTC
        return None


def _author(item: dict[str, Any]) -> str | None:
    authors = item.get("authors") or ([item["author"]] if item.get("author") else [])
    names = [str(a["name"]) for a in authors if isinstance(a, dict) and a.get("name")]
    return ", ".join(names) or None
