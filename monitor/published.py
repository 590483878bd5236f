"""Publication times a source may claim, and what monitor believes instead.

A CMS default of 0001-01-01 (common in JSON-LD) or a scheduled post dated 2100 is not when
an article appeared. Believed as is, the first breaks date arithmetic (a story window
before year 1) and the second alerts for a century and sorts above every real report.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

from monitor.types import Article

# Clocks and time zones disagree a little; a feed an hour ahead is believed.
MAX_FUTURE_SKEW = timedelta(hours=1)
# Before the web there were no online news articles to poll.
EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)
# The world's time zones run from 12 hours behind UTC to 14 ahead; an offset outside them
# is a typo or a trick, and would put the article's own day where it is nowhere.
_WEST, _EAST = timedelta(hours=-12), timedelta(hours=14)


def is_believable(published: datetime, *, now: datetime) -> bool:
    return EARLIEST <= published <= now + MAX_FUTURE_SKEW


def with_believable_date(article: Article, *, now: datetime) -> Article:
    """The article with an unbelievable publication time replaced by ``now`` (the time it
    was first seen); the claimed time is kept in ``published_raw``."""
    if article.published is None or is_believable(article.published, now=now):
        return article
    return replace(article, published=now, published_raw=article.published.isoformat())


def at_own_offset(when: datetime) -> datetime:
    """``when`` (naive: UTC) at the offset it was written with, if that is a real zone's,
    else in UTC. The offset says which calendar day it was where the article was written
    ("23:30-05:00" is a Wednesday there, a Thursday in UTC): its "today" and "on Tuesday"
    count from that day (classify.dates)."""
    if when.tzinfo is None:
        return when.replace(tzinfo=UTC)
    offset = when.utcoffset()
    if offset is None or not _WEST <= offset <= _EAST:
        return when.astimezone(UTC)
    when.astimezone(UTC)  # raises OverflowError for a time before year 1 in UTC
    return when


def as_written(instant: datetime, written: str | None) -> datetime:
    """The UTC ``instant`` a feed's parser read from ``written`` (RFC 822 or ISO 8601),
    moved to the offset ``written`` gives, when it names the same instant (to the second);
    else ``instant`` unchanged. Feed parsers hand back UTC only; the offset is the day."""
    if not written:
        return instant
    try:
        claimed = parsedate_to_datetime(written)
    except (TypeError, ValueError, IndexError):
        try:
            claimed = datetime.fromisoformat(written.strip().replace("Z", "+00:00"))
        except ValueError:
            return instant
    if claimed.tzinfo is None:  # RFC 822's "-0000": the zone is unknown
        return instant
    try:
        own = at_own_offset(claimed)
        same = own.replace(microsecond=0) == instant.replace(microsecond=0)
    except (OverflowError, ValueError):
        return instant
    return instant.astimezone(own.tzinfo) if same else instant


def offset_minutes(when: datetime | None) -> int | None:
    """Minutes east of UTC ``when`` is written at, to store beside its UTC value."""
    offset = when.utcoffset() if when is not None else None
    return None if offset is None else int(offset.total_seconds()) // 60


def at_offset(when: datetime | None, minutes: int | None) -> datetime | None:
    """A stored UTC ``when`` back at the offset it was written with (``offset_minutes``)."""
    if when is None or minutes is None:
        return when
    return at_own_offset(when.astimezone(timezone(timedelta(minutes=minutes))))
