"""Entries a hostile or broken feed serves, polled over HTTP on 127.0.0.1: dates in year 1
or 2100, and links that are not http(s). Each is stored sanely and the feed keeps going."""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, datetime
from pathlib import Path

from localsite import Site
from sqlalchemy import select
from typer.testing import CliRunner

from monitor.cli import app
from monitor.config import load_config
from monitor.resources import shipped_config_dir
from monitor.runtime import Runtime, open_runtime, poll_once
from monitor.storage.models import AlertRow, ArticleRow

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
REPORT = (
    "Rockets struck a military base in Iraq north of Baghdad on {day}, wounding {n} soldiers, "
    "officials said. The rocket attack on the base was the {nth} this month."
)
PAGE = """<html><head><title>{title}</title>
<script type="application/ld+json">{{"@type": "NewsArticle",
 "datePublished": "{date}"}}</script></head>
<body><article><h1>{title}</h1><p>{text}</p></article></body></html>"""


def item(title: str, link: str | None, date: str | None, text: str) -> str:
    parts = [f"<title>{title}</title>", f"<description>{text}</description>"]
    parts += [f"<link>{link}</link>"] if link else [f'<guid isPermaLink="false">{title}</guid>']
    parts += [f"<pubDate>{date}</pubDate>"] if date else []
    return "<item>" + "".join(parts) + "</item>"


def hostile_feed(site: Site) -> str:
    page_text = REPORT.format(day="Sunday", n=4, nth="fourth") * 3
    for path, date in (("/page", "0001-01-01T00:00:00Z"), ("/offset", "0001-01-01T00:00:00+01:00")):
        html = PAGE.format(title="Page", text=page_text, date=date)
        site.pages[path] = ("text/html", html.encode())
    items = [
        item("Zero date", None, "Mon, 01 Jan 0001 00:00:00 GMT",
             REPORT.format(day="Monday", n=2, nth="second")),
        item("Future date", None, "Fri, 01 Jan 2100 00:00:00 GMT",
             REPORT.format(day="Tuesday", n=3, nth="third")),
        # No date in the feed: the page's JSON-LD zero date would be used.
        item("Page with a zero date", f"{site.base}/page", None,
             REPORT.format(day="Sunday", n=4, nth="fourth")),
        # Year 1 at +01:00 is before year 1 in UTC: no date, and the page is still read.
        item("Page with an offset zero date", f"{site.base}/offset", None,
             REPORT.format(day="Saturday", n=6, nth="sixth")),
        item("Script link", "javascript:alert(document.cookie)", "Wed, 01 May 2024 11:00:00 GMT",
             REPORT.format(day="Wednesday", n=5, nth="fifth")),
        item("Data link", "data:text/html,<script>alert(1)</script>", None, "A short note."),
        item("File link", "file:///etc/passwd", None, "Another short note."),
    ]  # fmt: skip
    rss = f'<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title>{"".join(items)}'
    site.pages["/feed"] = ("application/rss+xml", (rss + "</channel></rss>").encode())
    return f"{site.base}/feed"


def runtime(tmp_path: Path, feed_url: str) -> tuple[Runtime, io.StringIO]:
    config_dir = shipped_config_dir()
    path = tmp_path / "monitor.yaml"
    path.write_text(
        f"feeds:\n  - url: {feed_url}\n    name: Wire\n"
        f"watchlists:\n  - {config_dir / 'taxonomy.yaml'}\n  - {config_dir / 'watchlists'}/*.yaml\n"
        "fetch: {allow_private_addresses: true}\n"
        "extract: {min_text_chars: 50}\n"
        "dedup: {semantic: {enabled: false}}\n"
        "alerts:\n  routes:\n    default: {type: console}\n",
        encoding="utf-8",
    )
    rt = open_runtime(load_config(path), f"sqlite:///{tmp_path / 'm.db'}", migrate=True)
    rt.clock = lambda: NOW
    console = io.StringIO()
    rt.console = console
    return rt, console


def test_unbelievable_dates_become_the_first_seen_time(tmp_path: Path, site: Site) -> None:
    rt, _ = runtime(tmp_path, hostile_feed(site))
    try:
        [report] = asyncio.run(poll_once(rt))
        assert report.error is None
        with rt.sessions() as s:
            rows = {r.title: r for r in s.scalars(select(ArticleRow))}
        assert len(rows) == 7  # every entry processed, none lost to a crash
        zero, future, page = rows["Zero date"], rows["Future date"], rows["Page with a zero date"]
        assert (zero.published_at, zero.published_raw) == (NOW, "0001-01-01T00:00:00+00:00")
        assert (future.published_at, future.published_raw) == (NOW, "2100-01-01T00:00:00+00:00")
        assert page.text_source == "page" and page.published_at == NOW
        assert page.story_id is not None and zero.story_id is not None
        offset = rows["Page with an offset zero date"]
        assert offset.text_source == "page" and offset.published_at is None
        believed = rows["Script link"]
        assert believed.published_raw is None
        assert believed.published_at == datetime(2024, 5, 1, 11, tzinfo=UTC)
        # Polling again is quiet: nothing new, no error, the feed is healthy.
        [again] = asyncio.run(poll_once(rt))
        assert again.error is None and again.outcomes == ()
    finally:
        rt.close()
    shown = CliRunner().invoke(
        app, ["articles", "show", str(zero.id), "--db", f"sqlite:///{tmp_path / 'm.db'}"]
    )
    assert "(first seen; the source said 0001-01-01T00:00:00+00:00)" in shown.output


def test_links_that_are_not_http_are_dropped_and_the_entry_kept(tmp_path: Path, site: Site) -> None:
    rt, console = runtime(tmp_path, hostile_feed(site))
    try:
        asyncio.run(poll_once(rt))
        with rt.sessions() as s:
            rows = {r.title: r for r in s.scalars(select(ArticleRow))}
            alerts = s.scalars(select(AlertRow)).all()
            warning = CliRunner().invoke(
                app, ["feeds", "--json", "--db", f"sqlite:///{tmp_path / 'm.db'}",
                      "-c", str(tmp_path / "monitor.yaml")],
            ).output  # fmt: skip
    finally:
        rt.close()
    for title in ("Script link", "Data link", "File link"):
        assert (rows[title].url, rows[title].canonical_url) == (None, None), title
    script = rows["Script link"]
    assert script.text_source == "feed" and "Wednesday" in script.text
    assert script.story_id is not None  # classified and clustered from the feed's text
    assert alerts and console.getvalue()
    for scheme in ("javascript:", "data:", "file:"):
        assert scheme not in console.getvalue()
    assert "3 entry links not http or https (javascript:, data:, file:)" in warning
