"""Articles as stored, read back: what rebuilding or merging a story reads of its members."""

from __future__ import annotations

from monitor.storage.models import ArticleRow
from monitor.storage.stories import MemberReading
from monitor.types import Article


def outlet_of(member: MemberReading) -> Article:
    """The article as far as its outlet goes (``aggregate.outlet``): no title, no text."""
    return Article(
        key=member.key,
        url=member.url,
        title="",
        text="",
        published=member.at,
        source=member.source,
        canonical_url=member.canonical_url,
        site_name=member.site_name,
    )


def article_of(row: ArticleRow) -> Article:
    """The article as stored, with what dedup reads of it (title, text, time, outlet)."""
    return Article(
        key=row.key,
        url=row.url,
        title=row.title or "",
        text=row.text or "",
        published=row.published_at,
        source=row.source,
        canonical_url=row.canonical_url,
        site_name=row.site_name,
    )
