"""Article text and metadata from one HTML page: the text with trafilatura, the metadata
with `monitor.extract.metadata`.

Pure and picklable: `extract_html` runs in a worker process, so it takes and returns plain
values and never touches the network, the database or the clock (``now`` comes with the page).
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import trafilatura
from lxml.html import HtmlElement
from trafilatura.settings import Document
from trafilatura.utils import load_html

from monitor.extract.metadata import PageMetadata, read_metadata

Favor = Literal["precision", "recall", "balanced"]
FAVORS: tuple[Favor, ...] = ("precision", "recall", "balanced")

# Google's paywall markup (schema.org), written by most paywalled outlets. Searched in the
# page lower-cased first (ASCII, as re.I is for bytes): a case-insensitive pattern gets no
# fast literal scan, and took 0.41 s of CPU for the 181 pages of the e2e-poll bench, 8% of
# their extraction (lower-casing and a plain search: 0.03 s).
_PAYWALL = re.compile(rb"""isaccessibleforfree["']?\s*[:=]\s*["']?false""")


@dataclass(frozen=True, slots=True, kw_only=True)
class Extracted(PageMetadata):
    """What a page says about itself. ``text`` is the main text, paragraphs split by newlines."""

    text: str
    paywalled: bool = False


def extract_html(
    html: str | bytes, *, url: str | None, now: datetime, favor: str = "balanced"
) -> Extracted | None:
    """The page's main text and metadata; None when there is no main text to be found.
    ``now``: when the page was asked for; no date after it is believed."""
    if favor not in FAVORS:
        raise ValueError(f"favor must be one of {', '.join(FAVORS)}, not {favor!r}")
    if not html or not html.strip():
        return None
    tree = load_html(html)
    if tree is None:
        return None
    doc = _document(tree, url, favor)  # works on a copy of the tree
    body = (doc.text or "").strip() if doc is not None else ""
    if not body:
        return None
    meta = read_metadata(tree, url, now=now)
    text = _without_headline(body, meta.title)
    if not text:
        return None
    return Extracted(
        **dataclasses.asdict(meta),
        text=text,
        paywalled=bool(_PAYWALL.search(_as_bytes(html).lower())),
    )


def _document(tree: HtmlElement, url: str | None, favor: str) -> Document | None:
    doc = trafilatura.bare_extraction(
        tree,
        url=url,
        with_metadata=False,  # read_metadata reads what we keep, and only that
        include_comments=False,  # readers' comments are not what the outlet published
        favor_precision=favor == "precision",
        favor_recall=favor == "recall",
        deduplicate=False,
    )
    return doc if isinstance(doc, Document) else None


def _without_headline(text: str, title: str | None) -> str:
    """The body without a first line repeating the headline (the title is kept on its own)."""
    first, _, rest = text.partition("\n")
    if title and " ".join(first.split()).casefold() == title.casefold():
        return rest.strip()
    return text


def _as_bytes(html: str | bytes) -> bytes:
    return html if isinstance(html, bytes) else html.encode("utf-8", "replace")
