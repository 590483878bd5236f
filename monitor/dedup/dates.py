"""The calendar days an article says things happened on ("on Tuesday", "last night", "March 11").

Two reports of one event name the same day somewhere; a second rocket salvo on the same
base, reported in the same words by the same outlets, names another. Days are resolved
against the article's publication date (UTC), read generously where the outlet's own time
zone may differ: a weekday is the one in the six days before publication or the day
after (an outlet ahead of UTC dates its evening reports tomorrow); "today", "tonight" and
"yesterday" also cover the neighbouring days; "overnight" and "last night" cover the
night's two dates. Extra days only make two reports more likely to share one, so a wrong
reading errs towards joining. Only days within a week of publication count: older dates
are background, not the news. Weekdays and months are matched capitalised, as English
writes them, so "3 may be trapped" and "3 Marines" are not dates.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

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
# Days back from publication that each relative word may mean, local time zones allowed for.
_RELATIVE_DAYS = {"yesterday": (2, 1, 0), "last night": (1, 0), "overnight": (1, 0)}
_TODAY = (1, 0, -1)
KEEP_DAYS = 7


def event_dates(text: str, published: date) -> frozenset[date]:
    """Days ``text`` refers to, resolved against ``published``."""
    found: set[date] = set()
    for m in _WEEKDAY_RE.finditer(text):
        back = (published.weekday() - _WEEKDAYS.index(m.group(1))) % 7
        found.add(published - timedelta(days=back if back < 6 else -1))
    for m in _RELATIVE_RE.finditer(text):
        for back in _RELATIVE_DAYS.get(m.group(1).lower(), _TODAY):
            found.add(published - timedelta(days=back))
    for m in _MONTH_DAY_RE.finditer(text):
        day = _month_day(m, published)
        if day is not None:
            found.add(day)
    return frozenset(d for d in found if -1 <= (published - d).days <= KEEP_DAYS)


def _month_day(m: re.Match[str], published: date) -> date | None:
    name, day, year = (m.group(1), m.group(2), m.group(3)) if m.group(1) else m.group(5, 4, 6)
    month = _MONTHS.index(name[:3]) + 1
    years = (int(year),) if year else (published.year, published.year - 1)
    for y in years:  # without a year, "Dec 31" read on January 1 is last year's
        try:
            candidate = date(y, month, int(day))
        except ValueError:
            return None
        if candidate <= published + timedelta(days=1):
            return candidate
    return None
