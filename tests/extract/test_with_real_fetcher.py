"""The extract stage behind the fetch stage's real Fetcher, against a server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from concurrent.futures import Executor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from extract_fakes import NOW, fixture_html, make_entry

from monitor.extract.extractor import Extractor
from monitor.extract.settings import ExtractSettings
from monitor.fetch.http import Fetcher
from monitor.fetch.settings import FetchSettings
from monitor.types import Article

ROUTES: dict[str, tuple[int, str, bytes]] = {
    "/news/rockets": (200, "text/html; charset=utf-8", fixture_html("news_article")),
    "/report.pdf": (200, "application/pdf", b"%PDF-1.7 not a web page"),
    "/gone": (404, "text/html", b"<html><body><h1>Not found</h1></body></html>"),
}


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/short-link":
            self.send_response(301)
            self.send_header("location", "/news/rockets")
            self.end_headers()
            return
        status, ctype, body = ROUTES[self.path]
        self.send_response(status)
        self.send_header("content-type", ctype)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def fetch_article(url: str, executor: Executor, **fetch: object) -> Article:
    async def main() -> Article:
        settings = FetchSettings(**{"allow_private_addresses": True, **fetch})  # type: ignore[arg-type]
        async with Fetcher(settings) as fetcher:
            extractor = Extractor(ExtractSettings(), fetcher, executor=executor)
            return await extractor.article_for(make_entry(url), now=NOW)

    return asyncio.run(main())


def test_page_through_a_redirect(base_url: str, thread_executor: Executor) -> None:
    article = fetch_article(f"{base_url}/short-link", thread_executor)
    assert article.text_source == "page", article.text_source_reason
    assert "launch rails" in article.text
    assert article.canonical_url is not None and "rockets-harbor-point" in article.canonical_url


@pytest.mark.parametrize(
    ("path", "reason"),
    [("/report.pdf", "page is not HTML (application/pdf)"), ("/gone", "HTTP 404")],
)
def test_fallbacks(base_url: str, path: str, reason: str, thread_executor: Executor) -> None:
    article = fetch_article(f"{base_url}{path}", thread_executor)
    assert article.text_source == "feed" and reason in (article.text_source_reason or "")


def test_unsafe_address_is_refused_and_falls_back(base_url: str, thread_executor: Executor) -> None:
    article = fetch_article(
        f"{base_url}/news/rockets", thread_executor, allow_private_addresses=False
    )
    assert article.text_source == "feed"
    assert "UnsafeAddressError" in (article.text_source_reason or "")
