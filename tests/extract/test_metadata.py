"""The metadata reader: trafilatura's answers for what we keep, htmldate only when needed."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine
import trafilatura
from extract_fakes import FIXTURES, NOW, fixture_html
from lxml.html import tostring
from trafilatura.utils import load_html

from monitor.extract import metadata
from monitor.extract.metadata import read_metadata

URL = "http://127.0.0.1:8000/world/2026/river-crossing-closed.html"


def _page(
    head: str, body: str = "<article><p>The ferry did not run on Tuesday.</p></article>"
) -> Any:
    return load_html(f"<html lang='en-GB'><head>{head}</head><body>{body}</body></html>")


def _as_trafilatura(html: bytes | str, url: str | None) -> dict[str, str | None]:
    """What trafilatura's own metadata step gives, cleaned as we clean it."""
    doc = trafilatura.bare_extraction(load_html(html), url=url, with_metadata=True)
    assert isinstance(doc, trafilatura.settings.Document)
    return {
        "title": metadata._clean(doc.title),
        "author": metadata._clean(doc.author, limit=512),
        "site_name": metadata._clean(doc.sitename, limit=512),
        "description": metadata._clean(doc.description),
        "day": doc.date,
    }


HAND_MADE = {
    "og tags and a byline": (
        "<meta property='og:title' content='River crossing closed'>"
        "<meta property='og:site_name' content='Valley Courier'>"
        "<meta name='description' content='The ferry stopped &amp; the bridge is shut.'>",
        "<article><p class='byline'>By Ana Ruiz</p><p>The ferry did not run.</p></article>",
    ),
    "a lone handle as author, lower-case site name": (
        "<title>Crossing closed - courier</title><meta name='author' content='@valley'>"
        "<meta name='twitter:site' content='@valleycourier'>",
        "<h1>Crossing closed</h1><article><p>The ferry did not run.</p></article>",
    ),
    "JSON-LD": (
        '<script type=\'application/ld+json\'>{"@type": "NewsArticle", "headline": '
        '"Bridge shut", "author": {"@type": "Person", "name": "Tom Berg"}, '
        '"publisher": {"@type": "Organization", "name": "Courier"}}</script>',
        "<article><p>The bridge was shut for repairs.</p></article>",
    ),
    "nothing but a body": ("", "<article><p>The ferry did not run.</p></article>"),
}


@pytest.mark.parametrize("case", sorted(HAND_MADE))
def test_title_author_site_and_description_are_trafilaturas(case: str) -> None:
    head, body = HAND_MADE[case]
    html = f"<html><head>{head}</head><body>{body}</body></html>"
    found = read_metadata(load_html(html), URL, now=NOW)
    expected = _as_trafilatura(html, URL)
    assert (found.title, found.author, found.site_name, found.description) == (
        expected["title"],
        expected["author"],
        expected["site_name"],
        expected["description"],
    )


@pytest.mark.parametrize("fixture", sorted(p.stem for p in FIXTURES.glob("*.html")))
def test_fixture_pages_read_as_trafilatura_reads_them(fixture: str) -> None:
    html = fixture_html(fixture)
    tree = load_html(html)
    if tree is None or trafilatura.bare_extraction(load_html(html), url=URL) is None:
        pytest.skip("no main text: trafilatura gives no metadata either")
    found = read_metadata(tree, URL, now=NOW)
    expected = _as_trafilatura(html, URL)
    assert found.title == expected["title"]
    assert found.author == expected["author"]
    assert found.site_name == expected["site_name"]
    assert found.description == expected["description"]


def test_a_full_timestamp_in_the_head_wins_and_htmldate_is_not_asked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_htmldate(*args: object, **kwargs: object) -> str:
        raise AssertionError("htmldate asked although the head gave the time")

    monkeypatch.setattr(metadata, "find_date", no_htmldate)
    tree = _page("<meta property='article:published_time' content='2026-03-04T05:06:07+02:00'>")
    assert read_metadata(tree, URL, now=NOW).published == datetime(2026, 3, 4, 3, 6, 7, tzinfo=UTC)


def test_json_ld_timestamp_counts_as_the_heads() -> None:
    tree = _page(
        '<script type="application/ld+json">{"datePublished": "2026-01-02T10:00:00Z"}</script>'
    )
    assert read_metadata(tree, URL, now=NOW).published == datetime(2026, 1, 2, 10, tzinfo=UTC)


def test_without_a_timestamp_htmldate_reads_markup_for_the_day(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    asked: list[str | None] = []

    def fake_find_date(tree: object, **params: Any) -> str:
        asked.append(params["url"])
        assert params["original_date"] and not params["extensive_search"]  # markup only
        return "2026-02-03"

    monkeypatch.setattr(metadata, "find_date", fake_find_date)
    tree = _page("<meta property='article:published_time' content='2026-02-03'>")  # a day only
    assert read_metadata(tree, URL, now=NOW).published == datetime(2026, 2, 3, tzinfo=UTC)
    assert asked == [URL]


def test_htmldate_reads_a_dated_page() -> None:
    tree = _page("<meta name='date' content='2025-11-30'>")
    assert read_metadata(tree, URL, now=NOW).published == datetime(2025, 11, 30, tzinfo=UTC)


# The real clock frozen before and after the pages' dates: neither may matter.
WALL_CLOCKS = [datetime(2001, 1, 1, tzinfo=UTC), datetime(2090, 1, 1, tzinfo=UTC)]


@pytest.mark.parametrize("wall_clock", WALL_CLOCKS, ids=["real clock behind", "real clock ahead"])
def test_a_day_after_the_injected_now_is_not_the_pages_date(wall_clock: datetime) -> None:
    # The last day of a month: a later day of the same month, htmldate falls back to the
    # month's first day instead (also before now, also what the real clock did).
    now = datetime(2026, 3, 31, 8, 0, tzinfo=UTC)
    with time_machine.travel(wall_clock, tick=False):
        tomorrow = read_metadata(_page("<meta name='date' content='2026-04-01'>"), URL, now=now)
        today = read_metadata(_page("<meta name='date' content='2026-03-31'>"), URL, now=now)
        yesterday = read_metadata(_page("<meta name='date' content='2026-03-30'>"), URL, now=now)
    assert tomorrow.published is None  # unknown: the article falls back to when it was seen
    assert today.published == datetime(2026, 3, 31, tzinfo=UTC)
    assert yesterday.published == datetime(2026, 3, 30, tzinfo=UTC)


def test_language_and_canonical_come_from_the_head() -> None:
    tree = _page("<link rel='canonical' href='/world/river-crossing'>")
    found = read_metadata(tree, URL, now=NOW)
    assert found.language == "en"
    assert found.canonical_url == "http://127.0.0.1:8000/world/river-crossing"


def test_site_name_falls_back_to_the_host() -> None:
    found = read_metadata(_page(""), "http://www.valley-courier.localhost:8000/a/b.html", now=NOW)
    assert found.site_name == "valley-courier.localhost:8000"


def test_reading_leaves_the_tree_as_it_was() -> None:
    html = fixture_html("news_article")
    tree = load_html(html)
    before = tostring(tree)
    read_metadata(tree, URL, now=NOW)
    assert tostring(tree) == before
