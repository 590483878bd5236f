"""Points in time on console pages: a ``<time>`` element whose ``datetime`` is ISO 8601
with its offset, its text in UTC with the zone said. The server's own zone never shows:
a page read in Tokyo and one read in Denver name the same instant the same way."""

from __future__ import annotations

from datetime import UTC, datetime

from markupsafe import Markup, escape


def time_element(when: datetime | None, *, seconds: bool = False, missing: str = "-") -> Markup:
    """``<time datetime="2026-03-05T04:30:00+00:00">2026-03-05 04:30 UTC</time>``;
    ``missing`` (escaped) for no time. A naive value is UTC, as the database stores it."""
    if when is None:
        return Markup(escape(missing))
    at = (when if when.tzinfo else when.replace(tzinfo=UTC)).astimezone(UTC)
    shown = at.strftime("%Y-%m-%d %H:%M:%S UTC" if seconds else "%Y-%m-%d %H:%M UTC")
    return Markup('<time datetime="{}">{}</time>').format(at.isoformat(), shown)
