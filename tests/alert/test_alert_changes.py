"""An update says what changed in the event since the message the route last showed, from
the state stored when that message was sent (so a restart reports the same changes)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from alertkit import (
    T0,
    add_article,
    add_story,
    bot_route,
    classification,
    sample_view,
    settings_for,
)
from fakeslack import FakeSlack, check_message
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from monitor.alert import mrkdwn, render
from monitor.alert.changes import (
    EntityNamed,
    PlaceNamed,
    SeverityChanged,
    Shown,
    SourcesJoined,
    TollRevised,
    TypeAdded,
    TypeChanged,
    compare,
    shown_from_dict,
    summary,
    without_history,
)
from monitor.alert.dispatcher import Dispatcher
from monitor.alert.outbox import enqueue
from monitor.alert.settings import AlertsSettings
from monitor.alert.view import Source, StoryView
from monitor.storage.db import make_engine, session_factory
from monitor.storage.models import Story, StoryMessage
from monitor.types import AlertDecision

BEFORE = Shown(
    severity="medium",
    incident_types=("Rocket attack",),
    place="Camp Taji",
    entities=("Camp Taji", "Kataib Hezbollah"),
    killed=3,
    wounded=None,
)
LEDGER = Source("Riverside Ledger", "https://ledger.localhost/2", "Toll rises after base hit", T0)


def test_a_revised_toll_gives_both_figures_and_its_direction() -> None:
    up = compare(BEFORE, replace(BEFORE, killed=5), ["Riverside Ledger"])
    assert up == (TollRevised("killed", 3, 5), SourcesJoined(("Riverside Ledger",), 1))
    assert summary(up) == [("Toll revised", "3 → 5 killed"), ("+1 source", "Riverside Ledger")]
    down = compare(BEFORE, replace(BEFORE, killed=2, wounded=9))
    assert summary(down) == [("Toll revised down", "3 → 2 killed"), ("Toll reported", "9 wounded")]
    gone = compare(BEFORE, replace(BEFORE, killed=None))
    assert summary(gone) == [("Toll no longer stated", "was 3 killed")]


def test_types_places_and_names_are_reported_once_when_new() -> None:
    after = replace(
        BEFORE,
        incident_types=("Drone strike", "Rocket attack", "Arson"),
        place="Taji",
        entities=("Taji", "Kataib Hezbollah (attacker)", "US forces (target)"),
    )
    found = compare(BEFORE, after)
    assert found == (
        TypeChanged("Rocket attack", "Drone strike"),
        TypeAdded("Arson"),
        PlaceNamed("Camp Taji", "Taji"),
        EntityNamed("US forces (target)"),  # Kataib Hezbollah only gained its role
    )
    first_place = compare(replace(BEFORE, place=None), BEFORE)
    assert first_place == (PlaceNamed(None, "Camp Taji"),)
    two_types = compare(
        BEFORE, replace(BEFORE, incident_types=("Rocket attack", "Arson", "Looting"))
    )
    assert summary(two_types) == [("Type added", "Arson, Looting")]
    untyped = compare(replace(BEFORE, incident_types=()), BEFORE)
    assert untyped == (TypeAdded("Rocket attack"),)


def test_an_accused_actor_later_named_the_attacker_is_not_a_new_name() -> None:
    blamed = "Saudi-led coalition (alleged attacker, blamed by Houthi movement)"
    before = replace(BEFORE, entities=("Yemen", blamed))
    after = replace(BEFORE, entities=("Yemen", "Saudi-led coalition (attacker)", "Houthi movement"))
    assert compare(before, after) == (EntityNamed("Houthi movement"),)
    assert compare(after, before) == ()


def test_an_actor_blamed_by_a_name_with_brackets_is_not_a_new_name() -> None:
    """Watchlist names may hold brackets ("Popular Mobilization Forces (PMF)"): the part
    the view adds is still told from the name, or a reply says the actor is newly named."""
    blamed = "Kataib Hezbollah (alleged attacker, blamed by Popular Mobilization Forces (PMF))"
    before = replace(BEFORE, entities=("Iraq", "Kataib Hezbollah"))
    after = replace(BEFORE, entities=("Iraq", blamed))
    assert compare(before, after) == ()


def test_only_a_source_joining_says_just_that() -> None:
    assert compare(BEFORE, BEFORE, ["Riverside Ledger", "Riverside Ledger"]) == (
        SourcesJoined(("Riverside Ledger",), 2),
    )
    assert compare(BEFORE, BEFORE) == ()


def test_severity_raised_and_lowered() -> None:
    assert summary(compare(BEFORE, replace(BEFORE, severity="critical"))) == [
        ("Severity raised", "MEDIUM → CRITICAL")
    ]
    assert compare(BEFORE, replace(BEFORE, severity="low")) == (SeverityChanged("medium", "low"),)
    assert summary(compare(BEFORE, replace(BEFORE, severity="low")))[0][0] == "Severity lowered"


def test_stored_state_round_trips_and_unreadable_state_is_unknown() -> None:
    assert shown_from_dict(BEFORE.to_dict()) == BEFORE
    assert shown_from_dict(None) is None
    assert shown_from_dict({**BEFORE.to_dict(), "v": 999}) is None
    assert shown_from_dict({**BEFORE.to_dict(), "killed": "three"}) is None
    # Without stored state only a raised severity is known to have changed.
    now = replace(BEFORE, severity="high", killed=5)
    assert compare(without_history(now, "medium"), now) == (SeverityChanged("medium", "high"),)
    assert compare(without_history(now, "critical"), now) == ()


def _view() -> StoryView:
    first = Source("Outlet A", "https://a.localhost/1", "Rockets hit base", T0)
    return sample_view(entities=("Camp Taji",), killed=5, wounded=None, sources=(first, LEDGER))


def test_the_reply_leads_with_the_changes_in_plain_words() -> None:
    changes = (TollRevised("killed", 3, 5), SourcesJoined(("Riverside Ledger",), 1))
    reply = render.update_reply(_view(), [LEDGER], changes)
    lead, *lines = reply.blocks[0]["text"]["text"].split("\n")
    assert lead == "*Toll revised*: 3 → 5 killed · *+1 source*: Riverside Ledger · now 2 in total"
    assert lines == ["• <https://ledger.localhost/2|Riverside Ledger>: Toll rises after base hit"
                     f" ({mrkdwn.instant(T0)})"]  # fmt: skip
    assert reply.text.startswith("Update: Toll revised: 3 → 5 killed · +1 source: Riverside")
    assert check_message({"text": reply.text, "blocks": reply.blocks}) is None
    # The terminal shows the same words; names from articles are escaped for Slack.
    assert render.plain_text(reply).startswith("Toll revised: 3 → 5 killed")
    odd = render.update_reply(_view(), [], (EntityNamed("A&B <Brigade>"),))
    assert "*Newly named*: A&amp;B &lt;Brigade&gt;" in odd.blocks[0]["text"]["text"]


def test_many_changes_keep_whole_items_within_the_section() -> None:
    names = tuple(EntityNamed(f"Group {i} " + "&" * 40) for i in range(30))
    types = tuple(TypeAdded(f"Type {i} " + "<" * 60) for i in range(30))
    reply = render.update_reply(_view(), [LEDGER] * 25, (*names, *types))
    text = reply.blocks[0]["text"]["text"]
    assert check_message({"text": reply.text, "blocks": reply.blocks}) is None
    assert len(text) <= 3000 and text.split("\n")[0].count("*") % 2 == 0


# --- through the outbox, the dispatcher and a restart ---------------------------------

SENTENCE = "Rockets struck Camp Taji on Wednesday evening, killing three soldiers."


def _enqueue(
    s: Session, settings: AlertsSettings, story: Story, kind: str, article_id: int, when: datetime
) -> None:
    decision = AlertDecision(story.id, kind, story.severity or "high", ("ops",))  # type: ignore[arg-type]
    enqueue(session=s, decision=decision, story=story, article_id=article_id, settings=settings,
            now=when)  # fmt: skip


@pytest.fixture
def ops(slack: FakeSlack) -> AlertsSettings:
    return settings_for({"ops": bot_route(slack)})


def _first_alert(sessions: sessionmaker[Session], settings: AlertsSettings, killed: int) -> int:
    cls = classification(sentence=SENTENCE, matched=("rockets",), killed=killed,
                         entities=(("taji", "base", "Camp Taji"),))  # fmt: skip
    with sessions.begin() as s:
        story = add_story(s, severity="medium")
        story.casualties = {"killed": killed}
        a1 = add_article(s, story, key="a1", outlet="First Outlet", cls=cls, severity="medium")
        _enqueue(s, settings, story, "new", a1.id, T0)
        story_id = story.id
    first = Dispatcher(
        settings=settings, sessions=sessions, clock=lambda: T0 + timedelta(minutes=1)
    )
    assert first.run_once().sent == 1
    return story_id


def _second_source(
    sessions: sessionmaker[Session], settings: AlertsSettings, story_id: int, *,
    killed: int | None, label: str, severity: str,
) -> None:  # fmt: skip
    when = T0 + timedelta(hours=2)
    cls = classification(label=label, sentence="Five soldiers died.", killed=killed)
    with sessions.begin() as s:
        story = s.get_one(Story, story_id)
        story.severity = severity
        if killed is not None:
            story.casualties = {"killed": killed}
        a2 = add_article(s, story, key="a2", outlet="Riverside Ledger", cls=cls, published=when,
                         severity=severity)  # fmt: skip
        _enqueue(s, settings, story, "update", a2.id, when)


def _reply_after_restart(engine: Engine, settings: AlertsSettings, slack: FakeSlack) -> str:
    """A new engine and dispatcher, as after a restart or on another replica."""
    fresh = make_engine(engine.url.render_as_string(hide_password=False))
    try:
        later = Dispatcher(settings=settings, sessions=session_factory(fresh),
                           clock=lambda: T0 + timedelta(hours=3))  # fmt: skip
        assert later.run_once().sent == 1
    finally:
        fresh.dispose()
    [message] = slack.top_level()
    [reply] = slack.replies(message["ts"])
    return str(reply["blocks"][0]["text"]["text"])


def test_a_restart_between_alert_and_update_still_reports_the_revised_toll(
    engine: Engine, sessions: sessionmaker[Session], slack: FakeSlack, ops: AlertsSettings
) -> None:
    story_id = _first_alert(sessions, ops, killed=3)
    with sessions() as s:  # stored with the message, as the route showed it
        stored = s.query(StoryMessage).filter_by(story_id=story_id).one().shown
        assert stored is not None and shown_from_dict(stored) is not None
        assert stored["killed"] == 3
    _second_source(sessions, ops, story_id, killed=5, label="Shelling", severity="high")
    lead = _reply_after_restart(engine, ops, slack).split("\n")[0]
    assert lead == (
        "*Toll revised*: 3 → 5 killed · *Type added*: Shelling · *Severity raised*: MEDIUM → HIGH"
        " · *+1 source*: Riverside Ledger · now 2 in total"
    )
    with sessions() as s:  # the next update is measured against what this one showed
        shown = s.query(StoryMessage).filter_by(story_id=story_id).one().shown
        assert shown is not None and shown["killed"] == 5


def test_a_source_that_changes_nothing_is_all_the_reply_says(
    engine: Engine, sessions: sessionmaker[Session], slack: FakeSlack, ops: AlertsSettings
) -> None:
    story_id = _first_alert(sessions, ops, killed=3)
    _second_source(sessions, ops, story_id, killed=None, label="Rocket attack", severity="medium")
    lead = _reply_after_restart(engine, ops, slack).split("\n")[0]
    assert lead == "*+1 source*: Riverside Ledger · now 2 in total"


def test_a_message_sent_before_state_was_stored_reports_sources_only(
    engine: Engine, sessions: sessionmaker[Session], slack: FakeSlack, ops: AlertsSettings
) -> None:
    story_id = _first_alert(sessions, ops, killed=3)
    with sessions.begin() as s:
        s.query(StoryMessage).filter_by(story_id=story_id).one().shown = None
    _second_source(sessions, ops, story_id, killed=5, label="Shelling", severity="medium")
    lead = _reply_after_restart(engine, ops, slack).split("\n")[0]
    assert lead == "*+1 source*: Riverside Ledger · now 2 in total"
