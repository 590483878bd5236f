"""The demo's news sites: RSS feeds and article pages built from data/articles.json,
served by a real HTTP server on 127.0.0.1 in a background thread."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from email.utils import format_datetime
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

DATA = Path(__file__).parent / "data" / "articles.json"
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class DemoArticle:
    outlet: str
    outlet_name: str
    slug: str
    title: str
    author: str
    published: datetime
    paragraphs: tuple[str, ...]

    @property
    def path(self) -> str:
        return f"/{self.outlet}/{self.slug}.html"


def load_articles(now: datetime) -> list[DemoArticle]:
    """The sample articles, dated relative to the latest anchor day before ``now``."""
    data = json.loads(DATA.read_text(encoding="utf-8"))
    names = {o["slug"]: o["name"] for o in data["outlets"]}
    anchor = anchor_time(
        now, weekday=data["anchor_weekday"], at=time.fromisoformat(data["anchor_time"])
    )
    return [
        DemoArticle(
            outlet=a["outlet"],
            outlet_name=names[a["outlet"]],
            slug=a["slug"],
            title=a["title"],
            author=a["author"],
            published=datetime.combine(
                anchor.date() + timedelta(days=a["day"]), time.fromisoformat(a["time"]), UTC
            ),
            paragraphs=tuple(a["paragraphs"]),
        )
        for a in data["articles"]
    ]


def anchor_time(now: datetime, *, weekday: str, at: time) -> datetime:
    """The latest ``weekday`` at ``at`` UTC that is not after ``now``.

    The texts name weekdays ("on Thursday night", "Saturday morning"), so their dates are
    laid out around a fixed weekday: the demo tells the same stories on every day.
    """
    now = now.astimezone(UTC)
    back = (now.weekday() - WEEKDAYS.index(weekday)) % 7
    anchor = datetime.combine(now.date() - timedelta(days=back), at, UTC)
    return anchor if anchor <= now else anchor - timedelta(days=7)


def render_page(a: DemoArticle, base: str) -> bytes:
    body = "\n".join(f"<p>{escape(p)}</p>" for p in a.paragraphs)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{escape(a.title)} | {escape(a.outlet_name)}</title>
<link rel="canonical" href="{base}{a.path}">
<meta property="og:site_name" content="{escape(a.outlet_name)}">
<meta name="author" content="{escape(a.author)}">
<meta property="article:published_time" content="{a.published.isoformat()}">
</head><body>
<nav><a href="/">Home</a> | <a href="/world">World</a> | <a href="/sport">Sport</a></nav>
<article><h1>{escape(a.title)}</h1><p class="byline">By {escape(a.author)}</p>
{body}
</article>
<footer>Copyright {escape(a.outlet_name)}. All rights reserved.</footer>
</body></html>""".encode()


def render_feed(outlet: str, articles: list[DemoArticle], base: str) -> bytes:
    items = "".join(
        f"""<item><title>{escape(a.title)}</title><link>{base}{a.path}</link>
<guid isPermaLink="false">{outlet}-{a.slug}</guid>
<pubDate>{format_datetime(a.published)}</pubDate>
<description>{escape(a.paragraphs[0])}</description></item>"""
        for a in sorted(articles, key=lambda a: a.published)
        if a.outlet == outlet
    )
    name = next(a.outlet_name for a in articles if a.outlet == outlet)
    return f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>{escape(name)}</title><link>{base}/{outlet}/</link>
<description>Demo feed</description>{items}</channel></rss>""".encode()


class DemoSite:
    """Serves every outlet's feed at /<outlet>/feed.xml and each article page."""

    def __init__(self, articles: list[DemoArticle]) -> None:
        self.articles = articles
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.base = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def feed_urls(self) -> list[tuple[str, str]]:
        outlets = dict.fromkeys((a.outlet, a.outlet_name) for a in self.articles)
        return [(f"{self.base}/{slug}/feed.xml", name) for slug, name in outlets]

    def __enter__(self) -> DemoSite:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                status, ctype, body = site.respond(self.path)
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:  # keep the demo's output clean
                pass

        return Handler

    def respond(self, path: str) -> tuple[int, str, bytes]:
        for a in self.articles:
            if path == a.path:
                return 200, "text/html; charset=utf-8", render_page(a, self.base)
        for slug, _ in dict.fromkeys((a.outlet, a.outlet_name) for a in self.articles):
            if path == f"/{slug}/feed.xml":
                return 200, "application/rss+xml", render_feed(slug, self.articles, self.base)
        return 404, "text/plain", b"not found"
