"""Every feed format we read, and the documents that are not feeds."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from monitor.errors import NotAFeedError
from monitor.fetch.http import FetchResult
from monitor.fetch.parse import parse_feed

BASE = "http://127.0.0.1:8001/feeds/main.xml"
WHEN = datetime(2020, 3, 12, 20, 0, tzinfo=UTC)
ITEM = "Rockets hit a base north of the capital"

DOCS = {
    "rss091": f"""<?xml version="1.0"?><rss version="0.91"><channel><title>W</title>
      <item><title>{ITEM}</title><link>/news/1</link><description>Text</description></item>
      </channel></rss>""",
    "rss20": f"""<?xml version="1.0"?><rss version="2.0"><channel><title>W</title>
      <item><title>{ITEM}</title><link>/news/1</link><guid isPermaLink="false">w-1</guid>
      <pubDate>Thu, 12 Mar 2020 20:00:00 GMT</pubDate>
      <description>&lt;p&gt;Text&lt;/p&gt;</description>
      </item></channel></rss>""",
    "rss10": f"""<?xml version="1.0"?>
      <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
      xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
      <channel rdf:about="{BASE}"><title>W</title><link>http://127.0.0.1:8001/</link></channel>
      <item rdf:about="http://127.0.0.1:8001/news/1"><title>{ITEM}</title>
      <link>http://127.0.0.1:8001/news/1</link><dc:date>2020-03-12T20:00:00Z</dc:date></item></rdf:RDF>""",
    "atom03": f"""<?xml version="1.0"?><feed version="0.3" xmlns="http://purl.org/atom/ns#">
      <title>W</title><entry><title>{ITEM}</title><link rel="alternate" href="/news/1"/>
      <id>tag:wire.localhost,2020:1</id><issued>2020-03-12T20:00:00Z</issued></entry></feed>""",
    "atom10": f"""<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>W</title>
      <entry><title>{ITEM}</title><link href="/news/1?utm_campaign=z"/>
      <id>tag:wire.localhost,2020:1</id>
      <updated>2020-03-12T20:00:00Z</updated><content type="html">&lt;b&gt;Text&lt;/b&gt;</content>
      </entry></feed>""",
}


@pytest.mark.parametrize("version", sorted(DOCS))
def test_feed_formats(version: str) -> None:
    result = FetchResult(BASE, 200, {"content-type": "application/xml"}, DOCS[version].encode())
    parsed = parse_feed(result, feed_url=BASE)
    assert parsed.title == "W" and parsed.warning is None
    (entry,) = parsed.entries
    assert entry.title == ITEM and entry.url == "http://127.0.0.1:8001/news/1"  # relative resolved
    assert entry.source == "W" and entry.feed_url == BASE
    if version != "rss091":
        assert entry.published == WHEN


def test_json_feed() -> None:
    doc = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "J",
        "items": [
            {"id": "j-2", "url": "/n/2", "title": "Later", "content_html": "<p>B</p>",
             "date_published": "2020-03-12T21:00:00Z", "authors": [{"name": "Desk"}]},
            {"id": 1, "url": "http://127.0.0.1:8001/n/1", "content_text": "A",
             "date_published": "2020-03-12T20:00:00+00:00"},
        ],
    }  # fmt: skip
    result = FetchResult(
        BASE, 200, {"content-type": "application/feed+json"}, json.dumps(doc).encode()
    )
    parsed = parse_feed(result, feed_url=BASE, source="Configured name")
    assert [e.entry_key for e in parsed.entries] == ["1", "j-2"]  # oldest first
    assert parsed.entries[1].url == "http://127.0.0.1:8001/n/2" and parsed.entries[1].summary == "B"
    assert parsed.entries[1].author == "Desk" and parsed.entries[0].source == "Configured name"


def test_a_date_before_year_1_in_utc_is_no_date_not_a_failed_feed() -> None:
    # A CMS zero date with an offset: 0001-01-01T00:00:00+01:00 is 31 Dec of year 0 in UTC.
    doc = {
        "version": "https://jsonfeed.org/version/1.1",
        "items": [
            {"id": "a", "url": "http://127.0.0.1:8001/a", "content_text": "A",
             "date_published": "0001-01-01T00:00:00+01:00"},
            {"id": "b", "url": "javascript:alert(1)", "content_text": "B",
             "date_published": "9999-12-31T23:00:00-05:00"},
        ],
    }  # fmt: skip
    result = FetchResult(BASE, 200, {"content-type": "application/json"}, json.dumps(doc).encode())
    parsed = parse_feed(result, feed_url=BASE)
    assert sorted((e.entry_key, e.published, e.url) for e in parsed.entries) == [
        ("a", None, "http://127.0.0.1:8001/a"),
        ("b", None, None),
    ]
    assert parsed.warning == "1 entry link not http or https (javascript:): kept without the link"


def test_entry_key_falls_back_to_link_then_title_and_date() -> None:
    doc = f"""<?xml version="1.0"?><rss version="2.0"><channel><title>W</title>
      <item><title>{ITEM}</title><link>http://127.0.0.1:8001/a?utm_source=x</link></item>
      <item><title>No link</title><pubDate>Thu, 12 Mar 2020 20:00:00 GMT</pubDate></item>
      </channel></rss>"""
    entries = parse_feed(FetchResult(BASE, 200, {}, doc.encode()), feed_url=BASE).entries
    keys = {e.title: e.entry_key for e in entries}
    assert keys[ITEM] == "http://127.0.0.1:8001/a"
    assert keys["No link"].startswith("sha1:")


@pytest.mark.parametrize(
    ("body", "ctype", "why"),
    [
        (b"", "application/rss+xml", "empty body"),
        (b"  \n", "application/rss+xml", "empty body"),
        (b"<!doctype html><html><body>Log in</body></html>", "text/html", "HTML page"),
        (b"<html><body>Service error</body></html>", "application/xml", "HTML page"),
        (b'<?xml version="1.0"?><a><b></a>', "application/xml", "malformed XML"),
        (b"Internal error", "text/plain", "not a feed"),
        (b'{"error": "quota"}', "application/json", "JSON"),
    ],
)
def test_not_a_feed(body: bytes, ctype: str, why: str) -> None:
    with pytest.raises(NotAFeedError, match=why):
        parse_feed(FetchResult(BASE, 200, {"content-type": ctype}, body), feed_url=BASE)


def test_a_page_in_place_of_its_feed_says_where_the_feed_is() -> None:
    page = (
        b"<!doctype html><html><head><title>Valley Courier</title>"
        b"<link rel='stylesheet' href='/site.css'>"
        b'<link type="application/rss+xml" rel="alternate" title="News" href="/news/rss">'
        b"</head><body><a href='/other.xml'>x</a></body></html>"
    )
    home = "http://127.0.0.1:8011/"
    result = FetchResult(home, 200, {"content-type": "text/html"}, page)
    with pytest.raises(NotAFeedError) as caught:
        parse_feed(result, feed_url=home)
    assert str(caught.value).endswith(
        "got an HTML page (HTTP 200, text/html); the page names its feed: "
        "http://127.0.0.1:8011/news/rss"
    )
    quiet = FetchResult(home, 200, {"content-type": "text/html"}, b"<html><body>Log in")
    with pytest.raises(NotAFeedError, match=r"HTML page \(HTTP 200, text/html\)$"):
        parse_feed(quiet, feed_url=home)


@pytest.mark.parametrize("name", [b"ut\x00\x00\x01\x93", b"utf-8\x00"])
def test_an_unreadable_encoding_declaration_is_not_a_feed_not_a_crash(name: bytes) -> None:
    # Found by fuzz/pipeline_target.py: feedparser decodes the declared encoding's name as
    # UTF-8 (UnicodeDecodeError) and then decodes with it (ValueError on a NUL): a traceback
    # on every poll of such a feed.
    body = b'<?xml version="1.0" encoding="' + name + b'"?><feed xmlns="x"></feed>'
    with pytest.raises(NotAFeedError, match="encoding"):
        parse_feed(FetchResult(BASE, 200, {"content-type": "application/atom+xml"}, body),
                   feed_url=BASE)  # fmt: skip
