"""Feed bytes -> FeedEntry values. feedparser for RSS/Atom/RDF, our own reader for JSON Feed.

feedparser gets the raw bytes and the response headers (never decoded text), so it can
pick the encoding the way the spec says and resolve relative links against the final URL.
"""

from __future__ import annotations

import calendar
import hashlib
import io
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import feedparser

from monitor.errors import NotAFeedError
from monitor.fetch.http import FetchResult
from monitor.fetch.jsonfeed import parse_json_feed
from monitor.fetch.text import plain_text
from monitor.fetch.urls import http_url
from monitor.published import as_written
from monitor.types import FeedEntry
from monitor.units import counted

_HTML = re.compile(rb"^\s*(<!--.*?-->\s*)*<(!doctype\s+html|html|head|body)\b", re.I | re.S)
_JSON_TYPES = ("application/feed+json", "application/json")
# <link rel="alternate" type="application/rss+xml" href="..."> in a page's head: its feed.
_LINK_TAG = re.compile(rb"<link\b[^>]*>", re.I)
_ATTR = re.compile(rb"""(?<![\w-])(rel|type|href)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.I)
_FEED_TYPES = (b"application/rss+xml", b"application/atom+xml", b"application/feed+json")


@dataclass(frozen=True)
class ParsedFeed:
    title: str | None
    entries: tuple[FeedEntry, ...]  # oldest first
    warning: str | None = None  # a recoverable problem (e.g. a wrong charset declaration)


def parse_feed(result: FetchResult, *, feed_url: str, source: str | None = None) -> ParsedFeed:
    """Entries of a fetched feed; NotAFeedError for HTML, empty bodies and unparsable bytes."""
    body = result.content.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not body:
        raise NotAFeedError(f"not a feed: empty body (HTTP {result.status})")
    if result.content_type in _JSON_TYPES or body[:1] == b"{":
        title, raw = parse_json_feed(body, base=result.url)
        return _build(feed_url, source, title, raw, warning=None)
    try:
        parsed = feedparser.parse(
            io.BytesIO(result.content),  # a stream: bytes would be tried as a file name
            response_headers={**result.headers, "content-location": result.url},
        )
    except ValueError as exc:
        # feedparser reads the declared encoding's name as UTF-8, then decodes with it (a NUL
        # in the name is a ValueError there): either way the body is not a feed we can read.
        raise NotAFeedError(f"not a feed: unreadable encoding declaration ({exc})") from exc
    except (KeyError, IndexError, AttributeError, TypeError) as exc:
        # feedparser's loose (sgmllib) parser trips over its own state on some malformed
        # nestings (an image or source holding an item, found by fuzzing): a document that
        # breaks the parser is not a feed we can read, and must not take the poll down.
        raise NotAFeedError(
            f"not a feed: feedparser failed on this document ({type(exc).__name__}: {exc})"
        ) from exc
    if not parsed.get("version"):
        raise NotAFeedError(_why_not(result, body, parsed))
    warning = None
    if parsed.get("bozo"):
        warning = f"recovered from: {_bozo(parsed)}"
    title = parsed.feed.get("title")
    raw = [_from_feedparser(e) for e in parsed.entries]
    return _build(feed_url, source, title, raw, warning=warning)


def _why_not(result: FetchResult, body: bytes, parsed: Any) -> str:
    if result.content_type in ("text/html", "application/xhtml+xml") or _HTML.match(body[:2048]):
        why = f"not a feed: got an HTML page (HTTP {result.status}, {result.content_type or '?'})"
        announced = announced_feed(body, base=result.url)
        return f"{why}; the page names its feed: {announced}" if announced else why
    if parsed.get("bozo"):
        return f"not a feed: malformed XML: {_bozo(parsed)}"
    return f"not a feed: no RSS, Atom or JSON Feed document (content type {result.content_type!r})"


def announced_feed(page: bytes, *, base: str) -> str | None:
    """The first feed a page announces in its head, as an absolute URL: a site's home
    page given in place of its feed says where the feed is."""
    head = page[:65536].split(b"</head", 1)[0]
    for tag in _LINK_TAG.findall(head):
        attrs = {m[0].lower(): (m[1] or m[2] or m[3]).strip() for m in _ATTR.findall(tag)}
        rel = attrs.get(b"rel", b"").lower().split()
        if b"alternate" in rel and attrs.get(b"type", b"").lower() in _FEED_TYPES:
            href = attrs.get(b"href", b"").decode("utf-8", "replace")
            return http_url(urljoin(base, href)) if href else None
    return None


def _bozo(parsed: Any) -> str:
    exc = parsed.get("bozo_exception")
    return f"{type(exc).__name__}: {exc}" if exc else "malformed document"


def _from_feedparser(entry: Any) -> dict[str, Any]:
    content = entry.get("content") or []
    html = max((c.get("value", "") for c in content), key=len, default="")
    return {
        "id": entry.get("id"),
        "link": entry.get("link"),
        "title": entry.get("title", ""),
        "html": html or entry.get("summary", ""),
        "published": _published(entry),
        "author": entry.get("author"),
    }


def _published(entry: Any) -> datetime | None:
    """The entry's date at the offset the feed wrote it with (feedparser gives UTC only)."""
    field = "published" if entry.get("published_parsed") else "updated"
    struct = entry.get(f"{field}_parsed")
    if not struct:
        return None
    try:
        instant = datetime.fromtimestamp(calendar.timegm(struct), tz=UTC)
    except (OverflowError, ValueError, OSError):  # a date the platform cannot represent
        return None
    written = entry.get(field)
    return as_written(instant, written if isinstance(written, str) else None)


def _build(
    feed_url: str,
    source: str | None,
    title: str | None,
    raw: list[dict[str, Any]],
    *,
    warning: str | None,
) -> ParsedFeed:
    source = source or (plain_text(title) if title else None)
    entries = [_entry(feed_url, source, r) for r in raw]
    dropped = _dropped_links(raw, entries)
    if dropped:
        warning = "; ".join(filter(None, [warning, dropped]))
    entries.reverse()  # feeds list newest first; the pipeline wants oldest first
    if all(e.published for e in entries):
        entries.sort(key=lambda e: e.published or datetime.min.replace(tzinfo=UTC))
    unique = {e.entry_key: e for e in reversed(entries)}  # a repeated id counts once (newest)
    kept = tuple(e for e in entries if unique.get(e.entry_key) is e)
    return ParsedFeed(title=plain_text(title) if title else None, entries=kept, warning=warning)


def _dropped_links(raw: list[dict[str, Any]], entries: list[FeedEntry]) -> str | None:
    """Say which unusable links were dropped, so `monitor feeds` shows why an entry has none."""
    schemes = [
        urlsplit(r["link"].strip()).scheme or "relative"
        for r, e in zip(raw, entries, strict=True)
        if r.get("link") and e.url is None
    ]
    if not schemes:
        return None
    kinds = ", ".join(f"{s}:" if s != "relative" else s for s in dict.fromkeys(schemes))
    return (
        f"{counted(len(schemes), 'entry link')} not http or https ({kinds}): kept without the link"
    )


def _entry(feed_url: str, source: str | None, raw: dict[str, Any]) -> FeedEntry:
    # An unsafe link is dropped, not the entry: its title and text are still the outlet's
    # report (a CMS bug should not hide an attack), but nothing may fetch or link to it.
    link = http_url(raw["link"]) if raw.get("link") else None
    title = plain_text(raw.get("title") or "")
    published = raw.get("published")
    return FeedEntry(
        feed_url=feed_url,
        entry_key=entry_key(raw.get("id"), link, title, published),
        url=link,
        title=title,
        summary=plain_text(raw.get("html") or ""),
        published=published,
        author=(raw.get("author") or None),
        source=source,
    )


def entry_key(guid: str | None, link: str | None, title: str, published: datetime | None) -> str:
    """GUID/id as published, else the canonical link, else a hash of title and date."""
    key = (guid or "").strip() or link
    if key:
        # Keys longer than the column are hashed; a GUID that long is still stable.
        return key if len(key) <= 1024 else "sha1:" + hashlib.sha1(key.encode()).hexdigest()
    # In UTC, as keys were made before dates kept their offset: the same entry, same key.
    stamp = published.astimezone(UTC).isoformat() if published else ""
    return "sha1:" + hashlib.sha1(f"{title}\n{stamp}".encode()).hexdigest()
