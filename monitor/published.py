"""Publication times a source may claim, and what monitor believes instead.

A CMS default of 0001-01-01 (common in JSON-LD) or a scheduled post dated 2100 is not when
an article appeared. Believed as is, the first breaks date arithmetic (a story window
before year 1) and the second alerts for a century and sorts above every real report.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from monitor.types import Article

# Clocks and time zones disagree a little; a feed an hour ahead is believed.
MAX_FUTURE_SKEW = timedelta(hours=1)
# Before the web there were no online news articles to poll.
EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)


def is_believable(published: datetime, *, now: datetime) -> bool:
    return EARLIEST <= published <= now + MAX_FUTURE_SKEW


def with_believable_date(article: Article, *, now: datetime) -> Article:
    """The article with an unbelievable publication time replaced by ``now`` (the time it
    was first seen); the claimed time is kept in ``published_raw``."""
    if article.published is None or is_believable(article.published, now=now):
        return article
    return replace(article, published=now, published_raw=article.published.isoformat())
