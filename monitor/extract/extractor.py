"""FeedEntry -> Article: fetch the page, extract it off the event loop, else use the feed text.

`Extractor.article_for` never raises for a bad page. Whatever goes wrong (fetch error, HTTP
error, not HTML, paywall, nothing extracted, a crashed or slow worker), the article keeps the
feed's own text and says why in ``text_source_reason``.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import logging
from collections.abc import Mapping
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime
from typing import Protocol
from urllib.parse import urlsplit

from trafilatura.utils import decode_file

from monitor.errors import FetchError
from monitor.extract.html import Extracted
from monitor.extract.pool import ExtractionPool
from monitor.extract.settings import ExtractSettings
from monitor.observe import EXTRACT, PAGE, UNOBSERVED, StageObserver
from monitor.types import Article, FeedEntry
from monitor.units import counted

log = logging.getLogger(__name__)

ACCEPT = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1"
_HTML_TYPES = ("text/html", "application/xhtml+xml")
_WALL_STATUSES = {401: "login wall", 402: "paywall", 403: "access denied", 451: "legal block"}


class PageResponse(Protocol):
    """The parts of the fetch stage's FetchResult that extraction reads."""

    @property
    def url(self) -> str: ...  # final, after redirects
    @property
    def status(self) -> int: ...
    @property
    def headers(self) -> Mapping[str, str]: ...  # lower-case keys
    @property
    def content(self) -> bytes: ...  # decompressed, capped
    @property
    def content_type(self) -> str | None: ...


class PageFetcher(Protocol):
    """monitor.fetch.http.Fetcher, or a fake of it."""

    async def get(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> PageResponse: ...


class _Fallback(Exception):
    """Internal: use the feed text, for this reason (and with what the page did tell us)."""

    def __init__(self, reason: str, page: Extracted | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.page = page


class Extractor:
    def __init__(
        self,
        settings: ExtractSettings,
        fetcher: PageFetcher,
        *,
        executor: concurrent.futures.Executor | None = None,
        pool: ExtractionPool | None = None,
        observer: StageObserver = UNOBSERVED,
    ) -> None:
        """``pool``: one already started (see `start_pool`), else made here. ``observer``:
        told as each entry's page and extraction start and end (monitor/observe.py)."""
        self._settings = settings
        self._fetcher = fetcher
        self._observer = observer
        self._pool = pool or ExtractionPool(settings.workers, executor)

    async def article_for(self, entry: FeedEntry, *, now: datetime) -> Article:
        """The entry as an article: the page's text when usable, else the feed's, and why.
        ``now`` (the pipeline's clock as the page is asked for): a page's date after it is
        not believed."""
        key = entry.url or ""
        self._observer.started(EXTRACT, key)
        article = await self._article_for(entry, now)
        self._observer.ended(EXTRACT, key)
        return article

    async def _article_for(self, entry: FeedEntry, now: datetime) -> Article:
        raw_html: str | None = None
        try:
            self._observer.started(PAGE, entry.url or "")
            response = await self._fetch(entry)
            self._observer.ended(PAGE, entry.url or "")
            if self._settings.keep_raw_html:
                raw_html = decode_file(response.content)
            page = await self._extract(entry, response, now)
        except _Fallback as fallback:
            log.info(
                "using feed text: %s",
                fallback.reason,
                extra={"entry_url": entry.url, "feed_url": entry.feed_url},
            )
            return _article(entry, fallback.page, fallback.reason, raw_html)
        return _article(entry, page, None, raw_html)

    @property
    def workers(self) -> ExtractionPool | None:
        """The extraction processes, for other pure jobs (`ExtractionPool.run`); None when
        pages are never fetched: no processes are started for them then."""
        return self._pool if self._settings.fetch_pages else None

    async def warm_up(self) -> None:
        """Start the extraction workers before the first poll; none when pages are never
        fetched (each worker holds ~75 MiB, and the pool starts them lazily if needed)."""
        if self._settings.fetch_pages:
            await self._pool.warm_up()

    def close(self) -> None:
        self._pool.close()

    async def _fetch(self, entry: FeedEntry) -> PageResponse:
        if not entry.url:
            raise _Fallback("the entry has no link")
        if not self._settings.fetch_pages:
            raise _Fallback("page fetching is off (extract.fetch_pages: false)")
        host = urlsplit(entry.url).hostname
        site = self._settings.site(host)
        if site is not None and not site.fetch_page:
            raise _Fallback(f"site override for {host}: fetch_page is false")
        try:
            response = await self._fetcher.get(entry.url, headers={"accept": ACCEPT})
        except FetchError as exc:
            raise _Fallback(f"page fetch failed: {exc.__class__.__name__}: {exc}") from exc
        if response.status >= 400:
            why = _WALL_STATUSES.get(response.status, "error")
            raise _Fallback(f"page answered HTTP {response.status} ({why})")
        if not _is_html(response):
            raise _Fallback(f"page is not HTML ({response.content_type or 'no content type'})")
        return response

    async def _extract(self, entry: FeedEntry, response: PageResponse, now: datetime) -> Extracted:
        # The final URL names the real site when the feed links through a redirector.
        site = self._settings.site(urlsplit(response.url).hostname) or self._settings.site(
            urlsplit(entry.url or "").hostname
        )
        try:
            page = await self._pool.extract(
                response.content,
                url=response.url,
                favor=site.favor if site else "balanced",
                timeout=self._settings.timeout.total_seconds(),
                now=now,
            )
        except TimeoutError as exc:
            limit = self._settings.timeout.total_seconds()
            raise _Fallback(f"extraction took longer than {limit:g}s") from exc
        except BrokenProcessPool as exc:
            raise _Fallback("extraction worker crashed") from exc
        except Exception as exc:  # a parser bug on one odd page must not lose the article
            log.warning("extraction failed", exc_info=True, extra={"entry_url": entry.url})
            raise _Fallback(f"extraction failed: {exc.__class__.__name__}: {exc}") from exc
        if page is None:
            raise _Fallback("no article text found on the page")
        self._check_useful(entry, page)
        return page

    def _check_useful(self, entry: FeedEntry, page: Extracted) -> None:
        """Prefer the feed's text when the page gave less; keep the page's metadata anyway."""
        feed_chars, page_chars = len(entry.summary.strip()), len(page.text)
        if page.paywalled and feed_chars > page_chars:
            shown = counted(page_chars, "char")
            raise _Fallback(f"page is paywalled and shows less text ({shown})", page)
        minimum = self._settings.min_text_chars
        if page_chars < minimum and feed_chars > page_chars:
            needed = counted(minimum, "char")
            raise _Fallback(f"page text too short ({page_chars} < {needed})", page)


def _is_html(response: PageResponse) -> bool:
    ctype = (response.content_type or response.headers.get("content-type") or "").lower()
    if ctype:
        return ctype.split(";")[0].strip() in _HTML_TYPES
    # No declared type: sniff, as browsers do.
    head = response.content[:512].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html")) or b"<body" in head


def _article(
    entry: FeedEntry, page: Extracted | None, reason: str | None, raw_html: str | None
) -> Article:
    base = Article(
        key=entry.entry_key,
        url=entry.url,
        title=entry.title,
        text=entry.summary.strip(),
        published=entry.published,
        source=entry.source,
        canonical_url=entry.url,
        author=entry.author,
        text_source="feed",
        text_source_reason=reason,
        feed_url=entry.feed_url,
        raw_html=raw_html,
    )
    if page is None:
        return base
    return dataclasses.replace(
        base,
        # The feed's headline is the outlet's own; page titles often carry " | Site" suffixes.
        title=entry.title.strip() or page.title or "",
        text=page.text if reason is None else base.text,
        published=entry.published or page.published,
        canonical_url=page.canonical_url or entry.url,
        author=entry.author or page.author,
        site_name=page.site_name,
        language=page.language,
        text_source="page" if reason is None else "feed",
    )


def start_pool(settings: ExtractSettings) -> ExtractionPool:
    """The extraction pool, its workers starting now (none when pages are never fetched):
    started before the rest of start-up, they are ready when the first page arrives."""
    pool = ExtractionPool(settings.workers)
    if settings.fetch_pages:
        pool.start()
    return pool
