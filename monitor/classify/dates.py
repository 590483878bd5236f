"""The calendar days an article says things happened on ("on Tuesday", "last night", "March 11").

Two reports of one event name the same day somewhere; a second rocket salvo on the same
base, reported in the same words by the same outlets, names another. A day name means
different dates depending on where it is read, so every reading that is possible at the
moment of publication is kept: somewhere on Earth (UTC-12 to UTC+14) it is one of one to
three calendar days ("local days"), and a weekday is the one in the six days up to each of
them ("Wednesday's attack" read on a Tuesday is six days back, never tomorrow); "today" and
"tonight" are each local day, "yesterday" the day before, "overnight" and "last night" the
night's two dates. Extra days only make two reports more likely to share one, so ambiguity
errs towards joining, whatever the weekday or hour of publication. Only days within a week
of publication count: older dates are background, not the news. Weekdays and months are
matched capitalised, as English writes them, so "3 may be trapped" and "3 Marines" are not
dates.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTH = (
    r"(January|February|March|April|May|June|July|August|September|October|November|December"
    r"|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)\b\.?"
)
_YEAR = r"(?:,?\s+(\d{4})\b)?"
# "next Monday" is a plan, not a report of what happened.
_WEEKDAY_RE = re.compile(r"(?<!next )(?<!Next )\b(" + "|".join(_WEEKDAYS) + r")\b")
_RELATIVE_RE = re.compile(
    r"\b(today|tonight|this (?:morning|afternoon|evening)|yesterday|last night|overnight)\b",
    re.IGNORECASE,
)
_MONTH_DAY_RE = re.compile(
    rf"\b{_MONTH}\s+(\d{{1,2}})(?:st|nd|rd|th)?\b(?![.,]\d){_YEAR}"  # not "May 5,000"
    rf"|\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}{_YEAR}"
)
# Days back from a local day that each relative word may mean (default: that day itself).
_RELATIVE_DAYS = {"yesterday": (1,), "last night": (1, 0), "overnight": (1, 0)}
# The world's time zones run from 12 hours behind UTC to 14 ahead.
_WEST, _EAST = timedelta(hours=-12), timedelta(hours=14)
KEEP_DAYS = 7


def local_days(published: datetime) -> tuple[date, ...]:
    """The calendar days it is somewhere on Earth at the instant ``published``."""
    instant = published.astimezone(UTC) if published.tzinfo else published  # naive: UTC
    first, last = (instant + _WEST).date(), (instant + _EAST).date()
    return tuple(first + timedelta(days=n) for n in range((last - first).days + 1))


def event_dates(text: str, published: datetime) -> frozenset[date]:
    """Every day ``text`` may refer to, read at the instant ``published``."""
    return event_dates_on(text, local_days(published))


def event_dates_on(text: str, days: tuple[date, ...]) -> frozenset[date]:
    """Days ``text`` refers to when read on each of the local ``days`` (oldest first)."""
    found: set[date] = set()
    for m in _WEEKDAY_RE.finditer(text):
        weekday = _WEEKDAYS.index(m.group(1))
        found.update(day - timedelta(days=(day.weekday() - weekday) % 7) for day in days)
    for m in _RELATIVE_RE.finditer(text):
        backs = _RELATIVE_DAYS.get(m.group(1).lower(), (0,))
        found.update(day - timedelta(days=back) for day in days for back in backs)
    for m in _MONTH_DAY_RE.finditer(text):
        named = _month_day(m, latest=days[-1])
        if named is not None:
            found.add(named)
    oldest = days[0] - timedelta(days=KEEP_DAYS)
    return frozenset(d for d in found if oldest <= d <= days[-1])


def explicit_dates(text: str, published: datetime) -> list[date]:
    """Month-and-day dates written in ``text`` ("Dec. 27", "3 May 2019"), however old."""
    latest = local_days(published)[-1]
    return [d for m in _MONTH_DAY_RE.finditer(text) if (d := _month_day(m, latest=latest))]


def likely_event_date(text: str, published: datetime) -> date | None:
    """The one day ``text`` most likely means: read on the publication's own calendar day,
    the latest day named up to it (for an alert's "when"; dedup keeps every reading).

    The own day is the one at the offset the source gave with its date ("23:30-05:00" is
    that Wednesday, though Thursday in UTC): the writer's "on Tuesday" and "today" count
    from it. A date given without an offset is read as UTC; the server's zone never counts.
    """
    today = published.date()
    days = [d for d in event_dates_on(text, (today,)) if d <= today]
    return max(days, default=None)


def _month_day(m: re.Match[str], *, latest: date) -> date | None:
    name, day, year = (m.group(1), m.group(2), m.group(3)) if m.group(1) else m.group(5, 4, 6)
    month = _MONTHS.index(name[:3]) + 1
    years = (int(year),) if year else (latest.year, latest.year - 1)
    for y in years:  # without a year, "Dec 31" read on January 1 is last year's
        try:
            candidate = date(y, month, int(day))
        except ValueError:
            return None
        if candidate <= latest:
            return candidate
    return None
