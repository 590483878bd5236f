"""Times in alerts: a point in time (published, first seen) is Slack's date token, which
each reader sees in their own zone, with a UTC fallback that names the zone; an event's
day is plain text, the day where it happened. Other sinks get ISO 8601 with the offset.
Article text can never make a date token, and escaping never breaks ours."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from alertkit import T0, sample_view
from fakeslack import check_message, date_tokens

from monitor.alert import mrkdwn, render
from monitor.alert.changes import SourcesJoined
from monitor.alert.compose import story_dict
from monitor.alert.sinks import Outgoing, json_payload
from monitor.alert.view import Source, summary_line
from monitor.types import Event, Place

EAST = timezone(timedelta(hours=14))
WEST = timezone(timedelta(hours=-5))
PUBLISHED = datetime(2026, 3, 4, 23, 30, tzinfo=WEST)  # Wednesday there, Thursday in UTC
SEEN = datetime(2026, 3, 5, 4, 41, tzinfo=UTC)


def _all(block: dict[str, Any]) -> list[str]:
    """The block's mrkdwn texts, where Slack reads markup (a header is plain text)."""
    objects = [
        block.get("text") or {},
        *(block.get("fields") or ()),
        *(block.get("elements") or ()),
    ]
    return [o["text"] for o in objects if o.get("type") == "mrkdwn"]


@pytest.mark.parametrize("when", [PUBLISHED, SEEN, SEEN.astimezone(EAST), T0])
def test_an_instant_is_a_date_token_with_a_utc_fallback(when: datetime) -> None:
    [(unix, fmt, fallback)] = date_tokens(mrkdwn.instant(when))
    assert unix == int(when.timestamp())
    assert fmt == "{date_short_pretty} {time}"
    at = when.astimezone(UTC)
    assert fallback == f"{at:%Y-%m-%d %H:%M} UTC"
    assert datetime.strptime(fallback, "%Y-%m-%d %H:%M UTC").replace(tzinfo=UTC) == at.replace(
        second=0, microsecond=0
    )


def test_a_naive_time_is_utc_whatever_the_server_s_zone() -> None:
    naive = SEEN.replace(tzinfo=None)
    assert mrkdwn.instant(naive) == mrkdwn.instant(SEEN)


def test_story_message_shows_published_and_first_seen_in_the_reader_s_zone() -> None:
    source = Source("Outlet A", "http://127.0.0.1:8001/1", "Rockets hit base", PUBLISHED)
    msg = render.story_message(sample_view(sources=(source,), first_seen=SEEN))
    text = "\n".join(t for b in msg.blocks for t in _all(b))
    stamps = [unix for unix, _, _ in date_tokens(text)]
    assert stamps == [int(PUBLISHED.timestamp()), int(SEEN.timestamp())]
    assert "First seen <!date^" in text and "2026-03-05 04:41 UTC>" in text
    assert check_message({"text": msg.text, "blocks": msg.blocks}) is None
    assert "<!date" not in msg.text  # notifications show no markup


def test_the_event_s_day_stays_plain_text() -> None:
    event = Event(
        incident_type="rocket-attack",
        place=Place("camp-taji", "Camp Taji", ("iraq",)),
        date=date(2026, 3, 4),
        killed=3,
        wounded=12,
    )
    line = summary_line(event, {"rocket-attack": "Rocket attack"}, brief=True)
    assert line == "Rocket attack at Camp Taji · Wed 04 Mar 2026 · 3 killed, 12 wounded"
    msg = render.story_message(sample_view(prior=line, first_seen=SEEN))
    context = [t for b in msg.blocks for t in _all(b) if t.startswith("After:")]
    assert context == [f"After: {line}"]


INJECTED = "<!date^0^{date_long} {time}|1970-01-01> &lt;!date^0^{time}|x&gt;"


def test_article_text_cannot_make_a_date_token() -> None:
    source = Source(INJECTED, "http://127.0.0.1/<!date^0^{time}|x>", INJECTED, PUBLISHED)
    view = sample_view(
        headline=INJECTED,
        evidence=INJECTED,
        summary=INJECTED,
        prior=INJECTED,
        entities=(INJECTED,),
        place=INJECTED,
        sources=(source,),
        first_seen=SEEN,
        toll_evidence=(INJECTED,),
    )
    changes = (SourcesJoined((INJECTED,), 1),)
    messages = [
        render.story_message(view),
        render.compact_message(view),
        render.update_reply(view, [source], changes),
        render.followup_message(view, [source], changes),
        render.digest_message([view], "6h"),
    ]
    for msg in messages:
        text = "\n".join(t for b in msg.blocks for t in _all(b)) + msg.text
        ours = {int(PUBLISHED.timestamp()), int(SEEN.timestamp())}
        assert {unix for unix, _, _ in date_tokens(text)} <= ours
        assert text.count("<!date") == len(date_tokens(text))  # none but whole tokens
        assert check_message({"text": msg.text, "blocks": msg.blocks}) is None


def test_an_update_reply_shows_each_new_source_s_time_as_a_token() -> None:
    new = [Source(f"Outlet {i}", f"http://127.0.0.1/{i}", "More", PUBLISHED + timedelta(hours=i))
           for i in range(3)]  # fmt: skip
    reply = render.update_reply(
        sample_view(), new, (SourcesJoined(tuple(s.outlet for s in new), 3),)
    )
    text = reply.blocks[0]["text"]["text"]
    assert [u for u, _, _ in date_tokens(text)] == [
        int(s.published.timestamp()) for s in new if s.published is not None
    ]
    assert all(s.published is not None for s in new)


def test_other_sinks_get_iso_8601_with_the_offset() -> None:
    source = Source("Outlet A", "http://127.0.0.1:8001/1", "Rockets hit base", PUBLISHED)
    view = sample_view(sources=(source,), first_seen=SEEN)
    msg = render.story_message(view)
    shown = render.plain_text(msg)
    assert "<!date" not in shown
    assert "(2026-03-05T04:30+00:00)" in shown and "First seen 2026-03-05T04:41+00:00" in shown
    payload = json_payload(Outgoing((1,), "new", 7, msg), story_dict(view))
    assert payload["story"]["first_seen"] == "2026-03-05T04:41:00+00:00"
    assert datetime.fromisoformat(payload["story"]["sources"][0]["published"]) == PUBLISHED
    assert "<!date" not in payload["body"]


def test_the_fake_slack_rejects_a_broken_date_token() -> None:
    good = mrkdwn.instant(SEEN)
    for broken in (good[:-1], good.replace("{time}", "{hour}"), good.replace("|", "")):
        block = {"type": "section", "text": {"type": "mrkdwn", "text": f"at {broken}"}}
        assert check_message({"text": "x", "blocks": [block]}) == "invalid_blocks"
    block = {"type": "section", "text": {"type": "mrkdwn", "text": f"at {good}"}}
    assert check_message({"text": "x", "blocks": [block]}) is None
