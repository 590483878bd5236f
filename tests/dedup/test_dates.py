"""Which days an article says things happened on, resolved against its publication date."""

from __future__ import annotations

from datetime import date

import pytest

from monitor.dedup.dates import event_dates
from monitor.dedup.profile import named_apart as dated_apart

WEDNESDAY = date(2021, 5, 5)


TUESDAY, THURSDAY = date(2021, 5, 4), date(2021, 5, 6)


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("rockets landed late on Tuesday", {TUESDAY}),
        ("the group said on Wednesday", {WEDNESDAY}),
        # An outlet ahead of UTC dates its evening report tomorrow: the day after, not a
        # week before.
        ("a blast on Thursday morning", {THURSDAY}),
        ("on Friday", {date(2021, 4, 30)}),
        ("talks resume next Monday", set()),  # a plan, not a report
        ("fired overnight", {TUESDAY, WEDNESDAY}),
        ("sirens sounded last night", {TUESDAY, WEDNESDAY}),
        # The outlet's own "today" may be the UTC day before or after.
        ("the minister said tonight", {TUESDAY, WEDNESDAY, THURSDAY}),
        ("officials said yesterday", {date(2021, 5, 3), TUESDAY, WEDNESDAY}),
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
    assert event_dates(text, WEDNESDAY) == days


def test_december_read_in_january_is_last_year() -> None:
    assert event_dates("on Dec. 31", date(2021, 1, 1)) == {date(2020, 12, 31)}


def test_dated_apart_needs_days_on_both_sides_and_none_shared() -> None:
    tue, wed, thu = TUESDAY, WEDNESDAY, THURSDAY
    assert dated_apart(frozenset({thu}), {tue, wed})
    assert not dated_apart(frozenset({wed, thu}), {tue, wed})
    assert not dated_apart(frozenset(), {tue})
    assert not dated_apart(frozenset({thu}), set())
