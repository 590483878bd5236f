"""Which days an article says things happened on, read at the instant it was published."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from monitor.classify.dates import event_dates, local_days
from monitor.dedup.rules import named_apart as dated_apart

WEDNESDAY = date(2021, 5, 5)
TUESDAY, THURSDAY = date(2021, 5, 4), date(2021, 5, 6)
NOON = datetime(2021, 5, 5, 12, 0, tzinfo=UTC)  # Wednesday, noon UTC
NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# Every weekday of one week, at hours where the local day differs most around the world.
HOURS = (time(0, 30), time(6, 0), time(11, 30), time(12, 30), time(18, 0), time(23, 30))
INSTANTS = [
    datetime.combine(date(2021, 5, 3) + timedelta(days=d), h, tzinfo=UTC)
    for d in range(7)
    for h in HOURS
]


def _weekday(day: date) -> str:
    return NAMES[day.weekday()]


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("rockets landed late on Tuesday", {TUESDAY}),
        # Wednesday noon UTC is already Thursday east of UTC+12, so "Wednesday" may be
        # today or, read there, last week's.
        ("the group said on Wednesday", {WEDNESDAY}),
        # ... and "Thursday" may be Thursday there, or last Thursday here.
        ("a blast on Thursday morning", {THURSDAY, date(2021, 4, 29)}),
        ("on Friday", {date(2021, 4, 30)}),
        ("talks resume next Monday", set()),  # a plan, not a report
        ("fired overnight", {TUESDAY, WEDNESDAY, THURSDAY}),
        ("sirens sounded last night", {TUESDAY, WEDNESDAY, THURSDAY}),
        ("the minister said tonight", {WEDNESDAY, THURSDAY}),
        ("officials said yesterday", {TUESDAY, WEDNESDAY}),
        ("on May 3 and on 4 May", {date(2021, 5, 3), TUESDAY}),
        ("on the 4th of May", {TUESDAY}),
        ("May 4, 2021, a statement", {TUESDAY}),
        ("the 3 May 2019 bombing", set()),  # a written year is read, not replaced
        ("Mar. 11, 2020 and April 2 were long ago", set()),  # background, not the news
        ("in May 5,000 people marched", set()),  # a number, not a date
        ("another 3 may be trapped", set()),
        ("killed 3 Marines", set()),
        ("3 separate blasts, 2 decades, 10 marchers", set()),
        ("no day at all", set()),
    ],
)
def test_event_dates(text: str, days: set[date]) -> None:
    assert event_dates(text, NOON) == days


def test_december_read_in_january_is_last_year() -> None:
    new_year = datetime(2021, 1, 1, 15, 0, tzinfo=UTC)
    assert event_dates("on Dec. 31", new_year) == {date(2020, 12, 31)}


def test_local_days_span_the_world_s_time_zones() -> None:
    assert local_days(datetime(2021, 5, 5, 0, 30, tzinfo=UTC)) == (TUESDAY, WEDNESDAY)
    assert local_days(datetime(2021, 5, 5, 11, 0, tzinfo=UTC)) == (TUESDAY, WEDNESDAY, THURSDAY)
    assert local_days(datetime(2021, 5, 5, 23, 30, tzinfo=UTC)) == (WEDNESDAY, THURSDAY)
    # An offset timestamp is the same instant as its UTC reading.
    baghdad = datetime(2021, 5, 5, 3, 30, tzinfo=UTC).astimezone().replace(microsecond=0)
    assert local_days(baghdad) == local_days(datetime(2021, 5, 5, 3, 30, tzinfo=UTC))


@pytest.mark.parametrize("published", INSTANTS, ids=lambda d: d.strftime("%a-%H%M"))
@pytest.mark.parametrize("back", range(7))
def test_a_weekday_in_the_past_week_is_always_among_the_readings(
    published: datetime, back: int
) -> None:
    """Whatever the weekday and hour of publication, the day meant is never lost."""
    day = published.date() - timedelta(days=back)
    assert day in event_dates(f"rockets struck the base on {_weekday(day)}", published)


@pytest.mark.parametrize("published", INSTANTS, ids=lambda d: d.strftime("%a-%H%M"))
def test_two_reports_of_one_night_share_a_day_at_every_weekday_and_hour(
    published: datetime,
) -> None:
    """The first report names the day; the next morning's says "overnight" or "yesterday",
    or names the day as it is six days later ("Wednesday's attack" read on a Tuesday)."""
    event = published.date()
    first = event_dates(f"rockets landed late on {_weekday(event)}", published)
    for later, text in (
        (published + timedelta(hours=9), "rockets fired overnight"),
        (published + timedelta(hours=20), "officials said yesterday"),
        (published + timedelta(days=6), f"a week after {_weekday(event)}'s attack"),
    ):
        assert not dated_apart(event_dates(text, later), first), (later, text)


@pytest.mark.parametrize("published", INSTANTS, ids=lambda d: d.strftime("%a-%H%M"))
@pytest.mark.parametrize("days_later", [2, 3, 4])
def test_a_salvo_days_later_names_another_day_at_every_weekday_and_hour(
    published: datetime, days_later: int
) -> None:
    """The "other days" rule keeps its purpose: a second salvo reported days later in the
    same words names days the first report does not."""
    first = event_dates(f"rockets landed late on {_weekday(published.date())}", published)
    later = published + timedelta(days=days_later)
    second = event_dates(f"rockets landed on {_weekday(later.date())} evening", later)
    assert dated_apart(second, first)


def test_dated_apart_needs_days_on_both_sides_and_none_shared() -> None:
    tue, wed, thu = TUESDAY, WEDNESDAY, THURSDAY
    assert dated_apart(frozenset({thu}), {tue, wed})
    assert not dated_apart(frozenset({wed, thu}), {tue, wed})
    assert not dated_apart(frozenset(), {tue})
    assert not dated_apart(frozenset({thu}), set())
