"""Extractor.article_for: the page's text when usable, else the feed's, always saying why."""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from extract_fakes import NOW, FakeFetcher, FakeResponse, fixture_html, make_entry

from monitor.errors import ResponseTooLarge, UnsafeAddressError
from monitor.extract import html as html_module
from monitor.extract import pool as pool_module
from monitor.extract.extractor import Extractor
from monitor.extract.html import extract_html
from monitor.extract.settings import ExtractSettings
from monitor.types import Article, FeedEntry

URL = "https://lakeside-ledger.localhost/rss/item?id=77"
CANONICAL = "https://www.lakeside-ledger.localhost/world/2024/05/02/rockets-harbor-point"
LONG_SUMMARY = "The feed carries this longer summary of the attack on the base. " * 5


def run(
    entry: FeedEntry,
    pages: dict[str, Any],
    executor: Executor,
    **settings: Any,
) -> tuple[Article, FakeFetcher]:
    fetcher = FakeFetcher(pages)
    extractor = Extractor(ExtractSettings(**settings), fetcher, executor=executor)
    try:
        return asyncio.run(extractor.article_for(entry, now=NOW)), fetcher
    finally:
        extractor.close()


def html_page(case: str, url: str = URL, **kw: Any) -> FakeResponse:
    return FakeResponse(url=url, content=fixture_html(case), **kw)


def test_page_text_and_metadata(thread_executor: Executor) -> None:
    article, fetcher = run(make_entry(URL), {URL: html_page("news_article")}, thread_executor)
    assert article.text_source == "page" and article.text_source_reason is None
    assert article.text.startswith("Several rockets landed inside the Harbor Point")
    assert "Commenter Jo" not in article.text
    assert article.canonical_url == CANONICAL
    assert (article.author, article.site_name, article.language) == (
        "Mara Quell",
        "The Lakeside Ledger",
        "en",
    )
    # The feed's headline and timestamp win; the page fills what the feed lacks.
    assert article.title == "Rockets strike Harbor Point base"
    assert article.published == datetime(2024, 5, 2, 4, 0, tzinfo=UTC)
    assert article.key == f"guid:{URL}" and (article.feed_url or "").endswith("/feed.xml")
    assert article.content_hash is not None and article.raw_html is None
    assert "text/html" in (fetcher.requests[0][1] or {})["accept"]


def test_page_date_used_when_the_feed_has_none(thread_executor: Executor) -> None:
    entry = make_entry(URL, published=None, author=None)
    article, _ = run(entry, {URL: html_page("news_article")}, thread_executor)
    assert article.published == datetime(2024, 5, 2, 3, 45, tzinfo=UTC)
    assert article.author == "Mara Quell"


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (UnsafeAddressError("resolves to 10.0.0.8"), "page fetch failed: UnsafeAddressError"),
        (ResponseTooLarge("over 5 MiB"), "page fetch failed: ResponseTooLarge: over 5 MiB"),
        (html_page("news_article", status=402), "page answered HTTP 402 (paywall)"),
        (html_page("news_article", status=503), "page answered HTTP 503 (error)"),
        (
            FakeResponse(URL, content=b"%PDF-1.7 ...", content_type="application/pdf"),
            "page is not HTML (application/pdf)",
        ),
        (
            FakeResponse(URL, content=b'{"a": 1}', content_type=None),
            "page is not HTML (no content type)",
        ),
        (FakeResponse(URL, content=b"<html><body></body></html>"), "no article text found"),
    ],
)
def test_fallback_to_feed_text(answer: Any, reason: str, thread_executor: Executor) -> None:
    entry = make_entry(URL, summary="  Rockets hit the base before dawn.  ")
    article, _ = run(entry, {URL: answer}, thread_executor)
    assert article.text_source == "feed"
    assert article.text_source_reason is not None and reason in article.text_source_reason
    assert article.text == "Rockets hit the base before dawn."
    assert article.title == entry.title and article.canonical_url == URL


def test_html_without_content_type_is_sniffed(thread_executor: Executor) -> None:
    page = html_page("news_article", content_type=None)
    article, _ = run(make_entry(URL), {URL: page}, thread_executor)
    assert article.text_source == "page"


def test_short_page_falls_back_but_keeps_page_metadata(thread_executor: Executor) -> None:
    entry = make_entry(URL, summary=LONG_SUMMARY)
    article, _ = run(entry, {URL: html_page("empty_page")}, thread_executor)
    assert article.text_source == "feed"
    assert article.text_source_reason == "page text too short (25 < 200 chars)"
    assert article.text == LONG_SUMMARY.strip() and article.language == "en"


def test_short_page_kept_when_the_feed_has_even_less(thread_executor: Executor) -> None:
    entry = make_entry(URL, summary="")
    article, _ = run(entry, {URL: html_page("empty_page")}, thread_executor)
    assert (article.text_source, article.text) == ("page", "Please enable JavaScript.")


def test_paywalled_teaser_loses_to_a_longer_feed_text(thread_executor: Executor) -> None:
    entry = make_entry(URL, summary=LONG_SUMMARY)
    article, _ = run(entry, {URL: html_page("paywalled")}, thread_executor, min_text_chars=0)
    assert article.text_source == "feed"
    assert (article.text_source_reason or "").startswith("page is paywalled")


def test_site_override_skips_the_page(thread_executor: Executor) -> None:
    entry = make_entry("https://News.Lakeside-Ledger.localhost/a")
    sites = {"www.lakeside-ledger.localhost": {"fetch_page": False}}
    article, fetcher = run(entry, {}, thread_executor, sites=sites)
    assert fetcher.requests == []
    assert article.text_source_reason == (
        "site override for news.lakeside-ledger.localhost: fetch_page is false"
    )


@pytest.mark.parametrize(
    ("entry", "settings", "reason"),
    [
        (make_entry(None), {}, "the entry has no link"),
        (make_entry(URL), {"fetch_pages": False}, "page fetching is off"),
    ],
)
def test_no_fetch(
    entry: FeedEntry, settings: dict[str, Any], reason: str, thread_executor: Executor
) -> None:
    article, fetcher = run(entry, {URL: html_page("news_article")}, thread_executor, **settings)
    assert fetcher.requests == [] and reason in (article.text_source_reason or "")


class ScriptedExecutor(Executor):
    """Records what it is asked to run; answers with ``outcome`` instead of running it."""

    def __init__(self, outcome: Callable[[Future[Any]], None] | None = None) -> None:
        self.calls: list[Any] = []
        self.outcome = outcome
        self.inner = ThreadPoolExecutor(1)

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        self.calls.append(fn)
        if self.outcome is None:
            return self.inner.submit(fn, *args, **kwargs)
        future: Future[Any] = Future()
        self.outcome(future)
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self.inner.shutdown(wait=wait, cancel_futures=cancel_futures)


def test_site_favor_reaches_the_extraction() -> None:
    executor = ScriptedExecutor()
    sites = {"lakeside-ledger.localhost": {"favor": "precision"}}
    article, _ = run(make_entry(URL), {URL: html_page("news_article")}, executor, sites=sites)
    executor.shutdown()
    assert article.text_source == "page"
    assert executor.calls[0].keywords == {"url": URL, "now": NOW, "favor": "precision"}


@pytest.mark.parametrize(
    ("outcome", "reason"),
    [
        (lambda f: f.set_exception(RecursionError("tree too deep")), "extraction failed"),
        (lambda f: f.set_exception(BrokenProcessPool("killed")), "extraction worker crashed"),
        (lambda f: None, "extraction took longer than 0.05s"),  # never completes
    ],
)
def test_extraction_trouble_falls_back(outcome: Any, reason: str) -> None:
    executor = ScriptedExecutor(outcome)
    page = {URL: html_page("news_article")}
    article, _ = run(make_entry(URL), page, executor, timeout=timedelta(milliseconds=50))
    executor.shutdown()
    assert article.text_source == "feed"
    assert (article.text_source_reason or "").startswith(reason)


def test_raw_html_kept_when_asked(thread_executor: Executor) -> None:
    page = FakeResponse(URL, content=fixture_html("news_article").decode().encode("cp1252"))
    article, _ = run(make_entry(URL), {URL: page}, thread_executor, keep_raw_html=True)
    assert article.raw_html is not None and "<article>" in article.raw_html


def test_process_pool_keeps_the_event_loop_free(monkeypatch: pytest.MonkeyPatch) -> None:
    """Real worker processes: many big pages extract, none of them in this process (so
    neither on its event loop nor in a thread holding its GIL), and every one gives text.
    Shown by who runs the extraction, not by how late a ticker wakes on a loaded machine."""
    big = fixture_html("news_article").replace(
        b"</article>", b"<p>More words here.</p>" * 400 + b"</article>"
    )
    pages = {f"{URL}&n={i}": FakeResponse(f"{URL}&n={i}", content=big) for i in range(12)}
    here: list[str] = []

    def tripwire(html: Any, **kw: Any) -> Any:  # this process's extract_html
        here.append(kw.get("url") or "")
        return extract_html(html, **kw)

    # Same name and module: the job still pickles as a reference to extract_html, which a
    # worker resolves to the real one; only a call in this process trips the wire.
    tripwire.__module__, tripwire.__qualname__ = extract_html.__module__, extract_html.__name__
    monkeypatch.setattr(html_module, "extract_html", tripwire)
    monkeypatch.setattr(pool_module, "extract_html", tripwire)
    extractor = Extractor(ExtractSettings(workers=2), FakeFetcher(pages))

    async def main() -> list[Article]:
        return await asyncio.gather(*(extractor.article_for(make_entry(u), now=NOW) for u in pages))

    try:
        articles = asyncio.run(main())
    finally:
        extractor.close()
    assert all(a.text_source == "page" for a in articles), [a.text_source_reason for a in articles]
    assert here == []


def test_compressed_bytes_are_not_html(thread_executor: Executor) -> None:
    page = FakeResponse(URL, content=gzip.compress(b"<html></html>"), content_type=None)
    article, _ = run(make_entry(URL), {URL: page}, thread_executor)
    assert article.text_source_reason == "page is not HTML (no content type)"


@pytest.mark.parametrize(("fetch_pages", "started"), [(True, 2), (False, 0)])
def test_workers_warm_up_only_when_pages_are_fetched(fetch_pages: bool, started: int) -> None:
    """Each idle worker holds tens of MiB: a service that never fetches pages starts none."""
    executor = ScriptedExecutor()
    extractor = Extractor(
        ExtractSettings(workers=2, fetch_pages=fetch_pages), FakeFetcher({}), executor=executor
    )
    asyncio.run(extractor.warm_up())
    executor.shutdown()
    assert len(executor.calls) == started
