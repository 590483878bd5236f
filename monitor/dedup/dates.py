"""The calendar days an article says things happened on ("on Tuesday", "last night", "March 11").

Two reports of one event name the same day somewhere; a second rocket salvo on the same
base, reported in the same words by the same outlets, names another. Days are resolved
against the article's publication date: a weekday is the one in the six days before
publication or the day after (an outlet ahead of UTC dates its evening reports
tomorrow), "overnight" and "last night" cover the night's two dates. Only days within a
week of publication count: older dates are background, not the news.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MONTH = r"(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_WEEKDAY_RE = re.compile(r"\b(" + "|".join(_WEEKDAYS) + r")\b", re.IGNORECASE)
_RELATIVE_RE = re.compile(
    r"\b(today|tonight|this (?:morning|afternoon|evening)|yesterday|last night|overnight)\b",
    re.IGNORECASE,
)
_MONTH_DAY_RE = re.compile(
    rf"\b{_MONTH}\s+(\d{{1,2}})\b(?!\s*(?:,\s*)?\d{{3}})|\b(\d{{1,2}})\s+{_MONTH}", re.IGNORECASE
)
_RELATIVE_DAYS = {"yesterday": (1,), "last night": (1, 0), "overnight": (1, 0)}  # days back
KEEP_DAYS = 7


def event_dates(text: str, published: date) -> frozenset[date]:
    """Days ``text`` refers to, resolved against ``published``."""
    found: set[date] = set()
    for m in _WEEKDAY_RE.finditer(text):
        back = (published.weekday() - _WEEKDAYS.index(m.group(1).lower())) % 7
        found.add(published - timedelta(days=back if back < 6 else -1))
    for m in _RELATIVE_RE.finditer(text):
        for back in _RELATIVE_DAYS.get(m.group(1).lower(), (0,)):
            found.add(published - timedelta(days=back))
    for m in _MONTH_DAY_RE.finditer(text):
        day = _month_day(m, published)
        if day is not None:
            found.add(day)
    return frozenset(d for d in found if -1 <= (published - d).days <= KEEP_DAYS)


def _month_day(m: re.Match[str], published: date) -> date | None:
    month = _MONTHS.index((m.group(1) or m.group(4))[:3].lower()) + 1
    day = int(m.group(2) or m.group(3))
    for year in (published.year, published.year - 1):  # "Dec 31" read on January 1
        try:
            candidate = date(year, month, day)
        except ValueError:
            return None
        if candidate <= published + timedelta(days=1):
            return candidate
    return None


def dated_apart(article: frozenset[date], story: set[date] | frozenset[date]) -> bool:
    """Both name days, and none in common: reports of two different happenings."""
    return bool(article and story and not article & story)
