"""Article text and metadata from one HTML page, with trafilatura.

Pure and picklable: `extract_html` runs in a worker process, so it takes and returns plain
values and never touches the network, the database or the clock.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import urljoin, urlsplit, urlunsplit

import trafilatura
from lxml.html import HtmlElement
from trafilatura.settings import Document
from trafilatura.utils import load_html

Favor = Literal["precision", "recall", "balanced"]
FAVORS: tuple[Favor, ...] = ("precision", "recall", "balanced")

# Google's paywall markup (schema.org), written by most paywalled outlets. Searched in the
# page lower-cased first (ASCII, as re.I is for bytes): a case-insensitive pattern gets no
# fast literal scan, and took 0.41 s of CPU for the 181 pages of the e2e-poll bench, 8% of
# their extraction (lower-casing and a plain search: 0.03 s).
_PAYWALL = re.compile(rb"""isaccessibleforfree["']?\s*[:=]\s*["']?false""")
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
class Extracted:
    """What a page says about itself. ``text`` is the main text, paragraphs split by newlines."""

    text: str
    title: str | None = None
    author: str | None = None
    published: datetime | None = None
    site_name: str | None = None
    language: str | None = None
    canonical_url: str | None = None
    description: str | None = None
    paywalled: bool = False


def extract_html(
    html: str | bytes, *, url: str | None, favor: str = "balanced"
) -> Extracted | None:
    """The page's main text and metadata; None when there is no main text to be found."""
    if favor not in FAVORS:
        raise ValueError(f"favor must be one of {', '.join(FAVORS)}, not {favor!r}")
    if not html or not html.strip():
        return None
    tree = load_html(html)
    if tree is None:
        return None
    # trafilatura prunes the tree it is given, so read the <head> signals first.
    head = _head_signals(tree, url)
    doc = _document(tree, url, favor)
    if doc is None:
        return None
    title = _clean(doc.title)
    text = _without_headline((doc.text or "").strip(), title)
    if not text:
        return None
    return Extracted(
        text=text,
        title=title,
        author=_clean(doc.author, limit=_NAME_CHARS),
        published=head["published"] or _day(doc.date),
        site_name=_clean(doc.sitename, limit=_NAME_CHARS),
        language=head["language"],
        canonical_url=head["canonical"],
        description=_clean(doc.description),
        paywalled=bool(_PAYWALL.search(_as_bytes(html).lower())),
    )


def _document(tree: HtmlElement, url: str | None, favor: str) -> Document | None:
    doc = trafilatura.bare_extraction(
        tree,
        url=url,
        with_metadata=True,
        include_comments=False,  # readers' comments are not what the outlet published
        favor_precision=favor == "precision",
        favor_recall=favor == "recall",
        deduplicate=False,
        # Markup only (meta tags, <time>, the URL): a year the body mentions ("In 2019, a
        # bombing ...") is background, not when the page was published, and believed it
        # would age the article past alerts.max_age. Unknown falls back to first seen.
        date_extraction_params={"original_date": True, "extensive_search": False},
    )
    return doc if isinstance(doc, Document) else None


def _head_signals(tree: HtmlElement, url: str | None) -> dict[str, Any]:
    return {
        "language": _language(tree),
        "canonical": _canonical(tree, url),
        "published": _published(tree),
    }


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
    """An ISO 8601 timestamp with a time of day, as UTC; a bare date is left to htmldate."""
    if not value or ("T" not in value and " " not in value.strip()):
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        return parsed.replace(tzinfo=parsed.tzinfo or UTC).astimezone(UTC)
    except (ValueError, OverflowError):  # a CMS's zero date with an offset leaves year 1
        return None


def _day(value: str | None) -> datetime | None:
    try:
        return datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC) if value else None
    except ValueError:
        return None


def _without_headline(text: str, title: str | None) -> str:
    """The body without a first line repeating the headline (the title is kept on its own)."""
    first, _, rest = text.partition("\n")
    if title and " ".join(first.split()).casefold() == title.casefold():
        return rest.strip()
    return text


def _clean(value: str | None, *, limit: int | None = None) -> str | None:
    """Whitespace collapsed; cut to ``limit`` because the columns are bounded (PostgreSQL
    rejects an over-long value, and one odd page must not cost its article)."""
    value = " ".join((value or "").split())[:limit]
    return value or None


def _as_bytes(html: str | bytes) -> bytes:
    return html if isinstance(html, bytes) else html.encode("utf-8", "replace")
