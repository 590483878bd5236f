"""What a page says about itself in its markup: title, author, site name, date, language, URL.

Pure, like `monitor.extract.html`, which calls it in a worker process after the main text.

Our own reading of the ``<head>`` (language, canonical URL, a full publication timestamp)
comes first; for the title, author, site name and description we ask trafilatura's metadata
readers, in the order its ``with_metadata`` option runs them, but not for what that option also
computes and we never store: categories, tags, a licence, and a date from htmldate on every
page. htmldate (the costliest of them, and only a day) is asked only when the ``<head>`` gives
no full timestamp, which is when its answer is used.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

from htmldate import find_date
from lxml.html import HtmlElement
from trafilatura.metadata import (
    META_URL,
    examine_meta,
    extract_author,
    extract_meta_json,
    extract_sitename,
    extract_title,
    extract_url,
)
from trafilatura.settings import Document, set_date_params

from monitor.published import at_own_offset

log = logging.getLogger(__name__)

_JSONLD_PUBLISHED = re.compile(r'"datePublished"\s*:\s*"([^"]{8,40})"')
_NAME_CHARS = 512  # articles.author / site_name
_URL_CHARS = 2048  # articles.canonical_url
# Meta tags that carry a full timestamp; htmldate only gives us the day.
_PUBLISHED_META = (
    "article:published_time",
    "og:published_time",
    "datepublished",
    "parsely-pub-date",
    "sailthru.date",
    "dc.date.issued",
    "pubdate",
)


@dataclass(frozen=True, slots=True)
class PageMetadata:
    """The page's own account of itself, each field None when the page does not say."""

    title: str | None = None
    author: str | None = None
    published: datetime | None = None
    site_name: str | None = None
    language: str | None = None
    canonical_url: str | None = None
    description: str | None = None


def read_metadata(tree: HtmlElement, url: str | None, *, now: datetime) -> PageMetadata:
    """The page's metadata; reads the tree without changing it. ``now`` is when the page
    was asked for: a day after it is not the page's date (htmldate is told so)."""
    published = _published(tree)
    found = _described(tree, url, latest=now if published is None else None)
    return PageMetadata(
        title=_clean(found.title),
        author=_clean(found.author, limit=_NAME_CHARS),
        published=published or _day(found.date),
        site_name=_clean(found.sitename, limit=_NAME_CHARS),
        language=_language(tree),
        canonical_url=_canonical(tree, url),
        description=_clean(found.description),
    )


def _described(tree: HtmlElement, url: str | None, *, latest: datetime | None) -> Document:
    """Title, author, site name and description as trafilatura's ``with_metadata`` finds
    them (same readers, same order, same clean-up); the date, no later than ``latest``'s
    day, only when ``latest`` is given."""
    found = examine_meta(tree)
    if found.author and " " not in found.author:  # a lone handle is not a byline
        found.author = None
    try:
        found = extract_meta_json(tree, found)
    except Exception:  # trafilatura's JSON-LD reader, on odd markup; the rest still counts
        log.warning("JSON-LD metadata unreadable", exc_info=True)
    found.title = found.title or extract_title(tree)
    found.author = found.author or extract_author(tree)
    found.url = found.url or extract_url(tree, url)
    if latest is not None:
        # Markup only (meta tags, <time>, the URL), not htmldate's extensive search: a year
        # the body mentions ("In 2019, a bombing ...") is background, not when the page was
        # published, and believed it would age the article past alerts.max_age. Unknown
        # falls back to when the article was first seen.
        found.date = find_date(tree, **_date_params(latest), url=found.url)
    found.sitename = _site_name(found.sitename or extract_sitename(tree), found.url)
    found.clean_and_trim()  # entities, control characters, over-long values
    return found


def _date_params(latest: datetime) -> dict[str, Any]:
    """trafilatura's htmldate options, with the ceiling from ``latest``, not the wall clock
    (its own reads ``datetime.now()`` in the machine's time zone): extraction runs in a
    worker process, so the pipeline's clock comes in with the page."""
    return {**set_date_params(False), "max_date": latest.astimezone(UTC).strftime("%Y-%m-%d")}


def _site_name(name: str | None, url: str | None) -> str | None:
    if name:
        name = name.lstrip("@")  # a Twitter handle
        return name.title() if name and "." not in name and not name[0].isupper() else name
    match = META_URL.match(url) if url else None
    return match[1] if match else None


def _language(tree: HtmlElement) -> str | None:
    """The declared language as a lower-case primary tag ("en-US" -> "en")."""
    candidates = [tree.get("lang"), tree.get("{http://www.w3.org/XML/1998/namespace}lang")]
    candidates += tree.xpath(
        '//meta[translate(@http-equiv,"CONTENTLANGUAGE","contentlanguage")'
        '="content-language"]/@content|//meta[@property="og:locale"]/@content'
    )
    for value in candidates:
        tag = re.split(r"[-_,;\s]", (value or "").strip(), maxsplit=1)[0].lower()
        if re.fullmatch(r"[a-z]{2,3}", tag):
            return tag
    return None


def _canonical(tree: HtmlElement, url: str | None) -> str | None:
    """rel=canonical, else og:url, resolved against the page URL; the page URL as last resort.

    A canonical naming the site's home page for an article is a common template bug; trusting
    it would make every article of the site look like one, so it is ignored.
    """
    hrefs = tree.xpath('//link[@rel="canonical"]/@href|//meta[@property="og:url"]/@content')
    for href in hrefs:
        resolved = _absolute(href.strip(), url)
        if resolved and not _is_home_page_for_article(resolved, url):
            return resolved
    return _absolute(url, None) if url else None


def _absolute(href: str | None, base: str | None) -> str | None:
    if not href:
        return None
    full = urljoin(base or "", href)
    parts = urlsplit(full)
    if parts.scheme not in ("http", "https") or not parts.netloc or len(full) > _URL_CHARS:
        return None
    return urlunsplit((parts.scheme, parts.netloc.lower(), parts.path or "/", parts.query, ""))


def _is_home_page_for_article(canonical: str, url: str | None) -> bool:
    if not url:
        return False
    return urlsplit(canonical).path in ("", "/") and urlsplit(url).path not in ("", "/")


def _published(tree: HtmlElement) -> datetime | None:
    for meta in tree.iter("meta"):
        name = (meta.get("property") or meta.get("name") or meta.get("itemprop") or "").lower()
        if name in _PUBLISHED_META and (found := _timestamp(meta.get("content"))):
            return found
    for script in tree.xpath('//script[@type="application/ld+json"]/text()'):
        if (m := _JSONLD_PUBLISHED.search(script)) and (found := _timestamp(m.group(1))):
            return found
    return None


def _timestamp(value: str | None) -> datetime | None:
    """An ISO 8601 timestamp with a time of day, at the offset it gives (its own day; none:
    UTC); a bare date is left to htmldate."""
    if not value or ("T" not in value and " " not in value.strip()):
        return None
    try:
        return at_own_offset(datetime.fromisoformat(value.strip().replace("Z", "+00:00")))
    except (ValueError, OverflowError):  # a CMS's zero date with an offset leaves year 1
        return None


def _day(value: str | None) -> datetime | None:
    try:
        return datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC) if value else None
    except ValueError:
        return None


def _clean(value: str | None, *, limit: int | None = None) -> str | None:
    """Whitespace collapsed; cut to ``limit`` because the columns are bounded (PostgreSQL
    rejects an over-long value, and one odd page must not cost its article)."""
    value = " ".join((value or "").split())[:limit]
    return value or None
