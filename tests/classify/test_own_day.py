"""An event's day is the day where it was reported: read at the offset the article's date
was written with, never the server's zone nor UTC's day.

"Rockets hit the base on Tuesday", dated 23:30-05:00 on a Wednesday, means the Tuesday
before that Wednesday, though it is already Thursday in UTC (and Friday on the server in
Kiritimati). The clock is frozen far from the article, and the day must not depend on it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone

import pytest
import time_machine
from sqlalchemy.orm import Session, sessionmaker

from monitor.classify.classifier import Classifier
from monitor.classify.dates import event_dates, likely_event_date
from monitor.config import load_config
from monitor.extract.metadata import _timestamp
from monitor.fetch.jsonfeed import _date as json_feed_date
from monitor.fetch.parse import entry_key
from monitor.published import as_written, at_own_offset
from monitor.replay import ReplayInput
from monitor.resources import shipped_config_dir
from monitor.storage.backlog import store_backlog, take_backlog
from monitor.storage.models import Feed
from monitor.types import FeedEntry

NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
WEEK = [date(2026, 3, 2) + timedelta(days=d) for d in range(7)]  # Monday to Sunday
# Hours where the own day and the UTC day differ, on one side or the other.
HOURS = (time(0, 15), time(0, 45), time(12, 0), time(23, 15), time(23, 45))
# The world's offsets: UTC-12 (Baker Island) to UTC+14 (Kiritimati), half and quarter hours.
OFFSETS = tuple(
    timedelta(hours=h, minutes=m)
    for h, m in (
        (-12, 0),
        (-9, -30),
        (-5, 0),
        (-3, -30),
        (0, 0),
        (5, 45),
        (9, 0),
        (12, 45),
        (14, 0),
    )
)
# Instants the clock is frozen at: a day of the article, and one a week later elsewhere.
CLOCKS = (datetime(2026, 3, 2, 0, 30, tzinfo=UTC), datetime(2026, 3, 12, 13, 0, tzinfo=UTC))


def _published(day: date, at: time, offset: timedelta) -> datetime:
    return datetime.combine(day, at, tzinfo=timezone(offset))


@pytest.fixture(params=CLOCKS, ids=lambda c: c.strftime("clock-%a-%H%M"))
def frozen(request: pytest.FixtureRequest) -> object:
    with time_machine.travel(request.param, tick=False):
        yield request.param


@pytest.mark.parametrize("offset", OFFSETS, ids=lambda o: f"UTC{o.total_seconds() / 3600:+g}")
@pytest.mark.parametrize("at", HOURS, ids=str)
@pytest.mark.parametrize("day", WEEK, ids=lambda d: NAMES[d.weekday()])
def test_a_named_day_counts_from_the_article_s_own_day(
    day: date, at: time, offset: timedelta, frozen: object
) -> None:
    published = _published(day, at, offset)
    yesterday = day - timedelta(days=1)
    assert (
        likely_event_date(f"Rockets hit the base on {NAMES[yesterday.weekday()]}", published)
        == yesterday
    )
    assert likely_event_date(f"A blast on {NAMES[day.weekday()]} morning", published) == day
    assert likely_event_date("Rockets hit the base today", published) == day
    assert likely_event_date("Rockets hit the base yesterday", published) == yesterday
    # a weekday is never read as one still to come where the article was written
    tomorrow = day + timedelta(days=1)
    said = likely_event_date(f"a blast on {NAMES[tomorrow.weekday()]}", published)
    assert said == tomorrow - timedelta(days=7)
    # dedup keeps every reading somewhere on Earth: the own day is always one of them
    assert yesterday in event_dates(f"on {NAMES[yesterday.weekday()]}", published)


def test_the_brief_s_example_is_wednesday_not_thursday() -> None:
    published = datetime.fromisoformat("2026-03-04T23:30:00-05:00")  # Thursday 04:30 UTC
    assert likely_event_date("A rocket attack today", published) == date(2026, 3, 4)
    assert likely_event_date("Rockets struck on Wednesday", published) == date(2026, 3, 4)
    # "on Thursday", written on a Wednesday, is last week's Thursday there
    assert likely_event_date("Rockets struck on Thursday", published) == date(2026, 2, 26)


@pytest.fixture(scope="module")
def shipped() -> Classifier:
    return Classifier(load_config(shipped_config_dir() / "monitor.yaml").watchlist)


@pytest.mark.parametrize(
    ("written", "weekday"),
    [
        ("2026-03-04T23:30:00-05:00", "Wed"),  # Thursday in UTC
        ("2026-03-05T00:30:00+14:00", "Thu"),  # Wednesday in UTC
        ("2026-03-04T23:59:00-12:00", "Wed"),  # Thursday in UTC, Friday in Kiritimati
        ("2026-03-04T12:00:00+00:00", "Wed"),
    ],
)
def test_the_event_s_day_is_the_article_s_own_today(
    shipped: Classifier, written: str, weekday: str
) -> None:
    published = _timestamp(written)
    assert published is not None
    title = "Rockets hit Camp Taji, killing three soldiers"
    text = "Several rockets struck Camp Taji north of Baghdad today, killing three soldiers."
    with time_machine.travel(datetime(2026, 3, 6, 23, 0, tzinfo=UTC), tick=False):
        event = shipped.classify(title=title, text=text, published=published).event
    assert event.date is not None
    assert event.date.strftime("%a") == weekday
    assert event.date == datetime.fromisoformat(written).date()


@pytest.mark.parametrize(
    "written",
    ["2026-03-04T23:30:00-05:00", "2026-03-05T00:30:00+14:00", "2026-03-04T23:30:00-12:00"],
)
def test_page_and_json_feed_dates_keep_their_offset(written: str) -> None:
    given = datetime.fromisoformat(written)
    for parsed in (_timestamp(written), json_feed_date(written)):
        assert parsed == given and parsed is not None
        assert parsed.utcoffset() == given.utcoffset()


@pytest.mark.parametrize(
    ("written", "offset"),
    [
        ("Wed, 04 Mar 2026 23:30:00 -0500", timedelta(hours=-5)),
        ("Thu, 05 Mar 2026 18:30:00 +1400", timedelta(hours=14)),
        ("Wed, 04 Mar 2026 23:30:00 EST", timedelta(hours=-5)),
        ("2026-03-04T23:30:00-05:00", timedelta(hours=-5)),  # Atom
        ("Thu, 05 Mar 2026 04:30:00 -0000", timedelta(0)),  # RFC 822: zone unknown, UTC
        ("Thu, 05 Mar 2026 04:30:00 GMT", timedelta(0)),
    ],
)
def test_a_feed_s_date_keeps_the_offset_it_was_written_with(
    written: str, offset: timedelta
) -> None:
    instant = datetime(2026, 3, 5, 4, 30, tzinfo=UTC)  # what feedparser reads from each
    kept = as_written(instant, written)
    assert kept == instant and kept.utcoffset() == offset


def test_a_feed_date_that_disagrees_with_the_parser_or_is_no_zone_stays_utc() -> None:
    instant = datetime(2026, 3, 5, 4, 30, tzinfo=UTC)
    for written in ("Wed, 04 Mar 2026 22:30:00 -0500", "2026-03-04T23:30:00-23:00", "junk", None):
        kept = as_written(instant, written)
        assert kept == instant and kept.utcoffset() == timedelta(0)


def test_an_offset_outside_the_world_s_zones_is_read_as_utc() -> None:
    odd = datetime(2026, 3, 4, 23, 30, tzinfo=timezone(timedelta(hours=20)))
    assert at_own_offset(odd) == odd and at_own_offset(odd).utcoffset() == timedelta(0)
    assert at_own_offset(datetime(2026, 3, 4, 23, 30)).tzinfo is UTC  # naive: UTC


def test_an_entry_keyed_by_its_date_keeps_its_key_whatever_the_offset() -> None:
    utc = datetime(2026, 3, 5, 4, 30, tzinfo=UTC)
    local = utc.astimezone(timezone(timedelta(hours=-5)))
    assert entry_key(None, None, "Blast", local) == entry_key(None, None, "Blast", utc)
    assert entry_key(None, None, "Blast", utc) != entry_key(None, None, "Blast", utc + timedelta(1))


def test_a_backlogged_entry_keeps_its_own_offset(sessions: sessionmaker[Session]) -> None:
    """An entry beyond the poll's budget waits in the database, which stores UTC; it comes
    back at the offset the feed wrote, so its text's "today" is still its own day."""
    url = "http://127.0.0.1:9/feed.xml"
    written = [
        datetime.fromisoformat("2026-03-04T23:30:00-05:00"),
        datetime.fromisoformat("2026-03-05T18:30:00+14:00"),
        datetime.fromisoformat("2026-03-05T04:30:00+00:00"),
        None,
    ]
    entries = [FeedEntry(url, f"k{n}", None, f"T{n}", "", when) for n, when in enumerate(written)]
    with sessions.begin() as s:
        s.add(Feed(configured_url=url, url=url))
        s.flush()
        store_backlog(session=s, feed_url=url, entries=entries, now=CLOCKS[1])
    with sessions.begin() as s:
        taken, _ = take_backlog(session=s, feed_url=url, limit=10)
    assert [e.published for e in taken] == written
    offsets = [e.published.utcoffset() if e.published else None for e in taken]
    assert offsets == [w.utcoffset() if w else None for w in written]


@pytest.mark.parametrize(
    ("written", "offset"),
    [
        ("2026-03-04T23:30:00-05:00", timedelta(hours=-5)),
        ("2026-03-04T23:30:00", timedelta(0)),  # no zone: UTC
        ("2026-03-04T23:30:00+20:00", timedelta(0)),  # no real zone's: UTC
    ],
)
def test_a_replayed_article_keeps_its_own_offset(written: str, offset: timedelta) -> None:
    article = ReplayInput.model_validate({"id": "a", "published": written}).to_article()
    assert article.published is not None and article.published.utcoffset() == offset
    given = datetime.fromisoformat(written)
    assert article.published == (given if given.tzinfo else given.replace(tzinfo=UTC))
