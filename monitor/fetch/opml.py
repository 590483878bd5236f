"""OPML in and out: feed lists from other readers, and ours for them."""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from pydantic import ValidationError

from monitor.errors import ConfigError
from monitor.fetch.settings import FeedConfig
from monitor.units import counted


def feeds_from_opml(path: str | os.PathLike[str]) -> list[FeedConfig]:
    """Every outline with an ``xmlUrl``, nested folders included, each URL once."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read OPML file: {exc.strerror or exc}") from exc
    feeds, errors = parse_opml(data, str(path))
    if errors:
        raise ConfigError(f"{path}: {counted(len(errors), 'bad outline')}", errors)
    return feeds


def parse_opml(data: bytes, source: str) -> tuple[list[FeedConfig], list[str]]:
    """The feeds of an OPML document, each URL once, and one line per bad outline (a file
    uploaded to the console reports those and keeps the good ones); ConfigError when the
    document is not OPML at all."""
    if b"<!ENTITY" in data:  # OPML needs no entities; refusing them refuses entity bombs
        raise ConfigError(f"{source}: OPML with entity declarations is not accepted")
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise ConfigError(f"{source}:{exc.position[0]}: not well-formed OPML: {exc}") from exc
    if root.tag.lower() != "opml" or root.find("body") is None:
        raise ConfigError(f"{source}: not an OPML document (no <opml><body>)")
    feeds: dict[str, FeedConfig] = {}
    errors = []
    for outline in _outlines(root.iter("outline")):
        url = _attr(outline, "xmlUrl").strip()
        name = _attr(outline, "title") or _attr(outline, "text") or None
        try:
            feeds.setdefault(url, FeedConfig(url=url, name=name))
        except ValidationError as exc:
            errors.append(f"{source}: outline {name or url!r}: {exc.errors()[0]['msg']}")
    return list(feeds.values()), errors


def _outlines(elements: Iterable[ET.Element]) -> Iterator[ET.Element]:
    return (e for e in elements if _attr(e, "xmlUrl").strip())


def _attr(element: ET.Element, name: str) -> str:
    """Attribute by name, ignoring case: exporters write xmlUrl, xmlurl and XMLURL."""
    lowered = name.lower()
    return next((v for k, v in element.attrib.items() if k.lower() == lowered), "")


def export_opml(feeds: Sequence[FeedConfig], *, title: str = "monitor feeds") -> str:
    """An OPML 2.0 document listing ``feeds`` in order."""
    opml = ET.Element("opml", version="2.0")
    head = ET.SubElement(opml, "head")
    ET.SubElement(head, "title").text = title
    body = ET.SubElement(opml, "body")
    for feed in feeds:
        label = feed.name or feed.url
        ET.SubElement(body, "outline", type="rss", text=label, title=label, xmlUrl=feed.url)
    ET.indent(opml)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(opml, encoding="unicode") + "\n"


def merge_opml_feeds(
    config_path: Path, feeds: Sequence[FeedConfig], opml_files: Sequence[str]
) -> list[FeedConfig]:
    """Config feeds, then OPML feeds not already listed (paths relative to the config file)."""
    merged = {feed.url: feed for feed in feeds}
    for name in opml_files:
        path = Path(name) if os.path.isabs(name) else config_path.parent / name
        for feed in feeds_from_opml(path):
            merged.setdefault(feed.url, feed)
    return list(merged.values())
