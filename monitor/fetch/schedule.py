"""When to poll a feed next: its interval, adapted to how often it publishes, with jitter;
exponential backoff after errors; never later than a cap, so no feed is silently dropped.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from monitor.fetch.settings import FeedConfig, FetchSettings

WEEK = timedelta(days=7)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def clamp(interval: timedelta, settings: FetchSettings) -> timedelta:
    return max(settings.min_interval, min(settings.max_interval, interval))


def base_interval(
    feed: FeedConfig, settings: FetchSettings, published: Sequence[datetime | None], now: datetime
) -> timedelta:
    """A configured per-feed interval wins; else the feed's weekly rhythm, else the default.

    A feed that published 7 entries last week is polled about daily, one that published
    700 every 15 minutes, always within [min_interval, max_interval].
    """
    if feed.interval is not None:
        return clamp(feed.interval, settings)
    if not settings.adaptive:
        return clamp(settings.interval, settings)
    recent = sum(1 for p in published if p is not None and now - WEEK <= p <= now + WEEK)
    if recent == 0:
        dated = any(p is not None for p in published)
        # Undated feeds give no rhythm: keep the default. Quiet ones drift to the maximum.
        return clamp(settings.max_interval if dated else settings.interval, settings)
    return clamp(WEEK / recent, settings)


def backoff(errors: int, interval: timedelta, settings: FetchSettings) -> timedelta:
    """interval, 2x, 4x, ... after consecutive errors, up to fetch.max_backoff."""
    if errors <= 0:
        return interval
    factor = 2 ** min(errors - 1, 20)
    return min(interval * factor, max(settings.max_backoff, interval))


def jittered(delay: timedelta, *, key: str, now: datetime, fraction: float) -> timedelta:
    """``delay`` +/- ``fraction``, deterministic per feed and moment (reproducible replays)."""
    if fraction <= 0:
        return delay
    return delay * (1 + fraction * (2 * _unit(f"{key}|{now.isoformat()}") - 1))


def _unit(text: str) -> float:
    """A number in [0, 1) fixed by ``text``."""
    digest = hashlib.blake2b(text.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def next_slot(*, key: str, now: datetime, interval: timedelta) -> datetime:
    """The feed's first poll slot after ``now``: one every ``interval`` since the epoch,
    shifted by a phase of the feed's own (from ``key``), so at most ``interval`` away.

    Counting from each poll's start instead would let the polls drift later by the
    scheduler's tick every time (a 30 s feed polled every 31 s), and would keep every
    feed in step with the others after a start, when all are due at once: each interval
    the whole list fetched, processed and alerted in one burst, its alerts queued behind
    Slack's one message per second per channel. The phases spread the feeds evenly over
    the interval; every replica and restart computes the same slots.
    """
    phase = interval * _unit(key)
    n = (now - EPOCH - phase) // interval + 1
    return EPOCH + phase + n * interval


def next_poll(
    *, key: str, now: datetime, delay: timedelta, settings: FetchSettings,
    not_before: datetime | None = None,
) -> datetime:  # fmt: skip
    """Now + jittered delay, and never before a server's Retry-After."""
    when = now + jittered(delay, key=key, now=now, fraction=settings.jitter)
    return max(when, not_before) if not_before else when
