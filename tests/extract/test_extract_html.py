"""Golden files: fixtures/<case>.html -> extract_html -> fixtures/<case>.expected.json.

Regenerate after a deliberate change with ``UPDATE_GOLDEN=1 pytest tests/extract`` and
review the diff: it is the record of what extraction does to each kind of page.
"""

from __future__ import annotations

import dataclasses
import json
import os
import pickle
from datetime import UTC, datetime
from typing import Any

import pytest
from extract_fakes import FIXTURES, NOW, fixture_html, golden

from monitor.extract.html import Extracted, extract_html

CASES = sorted(p.name.removesuffix(".expected.json") for p in FIXTURES.glob("*.expected.json"))


def _as_json(found: Extracted | None) -> dict[str, Any] | None:
    if found is None:
        return None
    data = dataclasses.asdict(found)
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in data.items()}


@pytest.mark.parametrize("case", CASES)
def test_golden(case: str) -> None:
    spec = golden(case)
    found = _as_json(
        extract_html(fixture_html(case), now=NOW, url=spec["url"], favor=spec["favor"])
    )
    if os.environ.get("UPDATE_GOLDEN"):
        spec["expected"] = found
        path = FIXTURES / f"{case}.expected.json"
        path.write_text(json.dumps(spec, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    assert found == spec["expected"]


def test_every_fixture_has_a_golden_file() -> None:
    pages = sorted(p.name.removesuffix(".html") for p in FIXTURES.glob("*.html"))
    assert pages == CASES


def test_main_text_leaves_out_navigation_comments_and_footer() -> None:
    found = extract_html(
        fixture_html("news_article"), now=NOW, url="https://lakeside-ledger.localhost/x"
    )
    assert found is not None
    assert "launch rails in the orchard" in found.text
    for boilerplate in ("Subscribe today", "Commenter Jo", "Most read", "All rights reserved"):
        assert boilerplate not in found.text
    # The headline is the title, not the first line of the body.
    assert not found.text.startswith("Rockets strike")


def test_str_and_bytes_give_the_same_result() -> None:
    raw = fixture_html("relative_canonical")
    url = "https://infos-du-sud.localhost/monde/frappe-frontiere-4521"
    assert extract_html(raw, now=NOW, url=url) == extract_html(
        raw.decode("utf-8"), now=NOW, url=url
    )


def test_canonical_without_page_url_keeps_absolute_links_only() -> None:
    found = extract_html(fixture_html("relative_canonical"), now=NOW, url=None)
    assert found is not None and found.canonical_url is None
    found = extract_html(fixture_html("news_article"), now=NOW, url=None)
    assert found is not None
    assert found.canonical_url == (
        "https://www.lakeside-ledger.localhost/world/2024/05/02/rockets-harbor-point"
    )


@pytest.mark.parametrize(
    "html", [b"", "   ", b"\x00\x01\x02 binary junk", "plain words, no markup"]
)
def test_nothing_to_extract_is_none(html: str | bytes) -> None:
    assert extract_html(html, now=NOW, url="http://127.0.0.1/a") is None


def test_precision_never_returns_more_text_than_recall() -> None:
    html, url = fixture_html("news_article"), "https://lakeside-ledger.localhost/x"
    precise = extract_html(html, now=NOW, url=url, favor="precision")
    broad = extract_html(html, now=NOW, url=url, favor="recall")
    assert precise is not None and broad is not None
    assert len(precise.text) <= len(broad.text)


def test_unknown_favor_is_refused() -> None:
    with pytest.raises(ValueError, match="favor must be one of"):
        extract_html("<p>x</p>", now=NOW, url=None, favor="fast")


def test_result_crosses_process_boundaries() -> None:
    found = extract_html(
        fixture_html("news_article"), now=NOW, url="https://lakeside-ledger.localhost/x"
    )
    assert pickle.loads(pickle.dumps(found)) == found


def test_over_long_metadata_is_cut_to_fit_the_columns() -> None:
    long_name = "Staff " * 200
    html = fixture_html("news_article").replace(b"Mara Quell", long_name.encode())
    html = html.replace(b"/world/2024", b"/world/" + b"x" * 2100 + b"/2024")
    found = extract_html(html, now=NOW, url="https://lakeside-ledger.localhost/a")
    assert found is not None and found.author is not None
    assert len(found.author) <= 512
    # An unusable canonical falls back to the page's own URL.
    assert found.canonical_url == "https://lakeside-ledger.localhost/a"


@pytest.mark.parametrize(
    ("markup", "paywalled"),
    [
        (b'"isAccessibleForFree": false', True),
        (b"'IsAccessibleForFree' = 'FALSE'", True),
        (b"isaccessibleforfree:\n False", True),
        (b'"isAccessibleForFree": true', False),
        (b'"isAccessibleForFree": "True"', False),
    ],
)
def test_paywall_markup_is_read_whatever_its_case_and_quotes(
    markup: bytes, paywalled: bool
) -> None:
    html = fixture_html("news_article").replace(
        b"</head>", b'<script type="application/ld+json">{' + markup + b"}</script></head>"
    )
    found = extract_html(html, now=NOW, url="http://127.0.0.1/a")
    assert found is not None and found.paywalled is paywalled
    assert extract_html(html.decode("utf-8"), now=NOW, url="http://127.0.0.1/a") == found


_BACKGROUND_YEAR_PAGE = """<html><head><title>Rockets hit the depot</title>{head}</head><body>
<article><h1>Rockets hit the depot</h1>
<p>Several rockets hit a fuel depot outside the town early on Tuesday, setting two tanks on
fire and wounding four workers, the provincial governor said in a statement.</p>
<p>Firefighters from three districts needed most of the morning to bring the blaze under
control, and the road past the depot stayed closed until the afternoon.</p>
<p>In 2019, a similar attack on the same depot killed six people and cut fuel deliveries to
the region for a week.</p></article></body></html>"""


def test_a_year_the_body_mentions_is_not_the_publication_date() -> None:
    page = _BACKGROUND_YEAR_PAGE.format(head="")
    found = extract_html(page, now=NOW, url="http://127.0.0.1:8011/news/depot-fire")
    assert found is not None and "In 2019" in found.text
    assert found.published is None  # unknown: the pipeline falls back to first seen


def test_a_date_in_the_markup_is_still_read() -> None:
    stamped = '<meta property="article:published_time" content="2026-03-03T08:15:00+02:00">'
    found = extract_html(_BACKGROUND_YEAR_PAGE.format(head=stamped), now=NOW, url=None)
    assert found is not None
    assert found.published == datetime(2026, 3, 3, 6, 15, tzinfo=UTC)
    dated_url = "http://127.0.0.1:8011/2026/03/03/depot-fire"
    found = extract_html(_BACKGROUND_YEAR_PAGE.format(head=""), now=NOW, url=dated_url)
    assert found is not None and found.published == datetime(2026, 3, 3, tzinfo=UTC)
