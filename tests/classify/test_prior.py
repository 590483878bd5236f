"""The event the news follows on from: its clauses, its type and its actors.

Texts are our own, written for these tests.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from monitor.classify.classifier import Classifier
from monitor.classify.event import consensus
from monitor.classify.prior import most_specific, told_types
from monitor.codec import event_from_dict, event_to_dict
from monitor.config import load_config
from monitor.resources import shipped_config_dir
from monitor.types import Actor, Event, IncidentMatch, Place

FRIDAY_MORNING = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)  # the news came on Thursday 26th


@pytest.fixture(scope="module")
def shipped() -> Classifier:
    return Classifier(load_config(shipped_config_dir() / "monitor.yaml").watchlist)


def _prior(shipped: Classifier, text: str, title: str = "US jets strike depots in Iraq") -> Event:
    event = shipped.classify(title=title, text=text, published=FRIDAY_MORNING).event
    assert event.incident_type == "air-strike"  # the news stays the strikes
    assert event.prior is not None
    return event.prior


@pytest.mark.parametrize(
    "text",
    [
        "US jets struck weapons depots in Iraq on Thursday, a day after a rocket attack by "
        "Kataib Hezbollah on Camp Taji killed three soldiers.",
        "US jets struck weapons depots in Iraq on Thursday, two days after Kataib Hezbollah "
        "fired rockets at Camp Taji.",
        "US jets struck weapons depots in Iraq on Thursday in retaliation for a rocket attack "
        "on Camp Taji carried out by Kataib Hezbollah.",
    ],
)
def test_the_prior_event_s_attacker_is_read_from_its_clause(shipped: Classifier, text: str) -> None:
    prior = _prior(shipped, text)
    assert prior.actors == (Actor("kataib-hezbollah", "Kataib Hezbollah", "attacker"),)
    assert prior.place is not None and prior.place.id == "camp-taji"
    said = next(x for x in prior.evidence if x.field == "actors")
    assert said.matched == "Kataib Hezbollah"


def test_a_prior_event_told_without_its_attacker_has_no_actors(shipped: Classifier) -> None:
    text = (
        "US jets struck Kataib Hezbollah weapons depots in Iraq on Thursday, a day after a "
        "rocket attack on Camp Taji killed three soldiers."
    )
    event = shipped.classify(title="Jets strike depots", text=text, published=FRIDAY_MORNING).event
    assert event.prior is not None and event.prior.actors == ()
    # the group the strikes hit is the news's target, not the prior event's attacker
    assert [(a.id, a.role) for a in event.actors] == [("kataib-hezbollah", "target")]


@pytest.mark.parametrize(
    "text",
    [
        # a battle's words (killed, soldiers) outscore the rockets within the clause
        "US aircraft bombed depots in Iraq on Thursday in retaliation for a rocket attack on "
        "Camp Taji that killed three US soldiers and wounded twelve.",
        # "a barrage of rockets": the parent's words (barrage, rockets) outweigh the child's
        "US warplanes struck depots in Iraq on Thursday, a day after a barrage of rockets hit "
        "Camp Taji.",
    ],
)
def test_the_prior_event_s_type_is_the_most_specific_its_clause_supports(
    shipped: Classifier, text: str
) -> None:
    prior = _prior(shipped, text)
    assert prior.incident_type == "rocket-attack"
    assert "armed-clash" not in prior.secondary_types  # the weapon decides


def _type(type_id: str, *ancestors: str) -> IncidentMatch:
    return IncidentMatch(type_id, type_id, 4.0, 4.0, None, (), ancestors)


def test_a_type_another_told_type_outranks_gives_way_with_its_children() -> None:
    clash, shelling, rocket = _type("armed-clash"), _type("shelling"), _type("rocket", "shelling")
    ambush = _type("ambush", "armed-clash")
    kept = told_types([clash, ambush, shelling, rocket], {"shelling": {"armed-clash"}})
    assert kept == [shelling, rocket]
    assert most_specific(kept) is rocket
    # types outranking each other keep their order rather than leaving nothing
    assert told_types([clash, shelling], {"shelling": {"a"}, "armed-clash": {"b"}}) == [
        clash,
        shelling,
    ]


def test_a_story_s_prior_actors_are_voted_across_sources_and_stored() -> None:
    taji = Place("camp-taji", "Camp Taji", ("iraq",))
    group = "kataib-hezbollah"
    first = Event("air-strike", prior=Event("rocket-attack", place=taji))
    second = Event(
        "air-strike",
        prior=Event("rocket-attack", place=taji, actors=(Actor(group, "KH", "attacker"),)),
    )
    third = Event(
        "air-strike",
        prior=Event("rocket-attack", actors=(Actor(group, "KH", "involved"),)),
    )
    story = consensus([first, second, third])
    assert story.prior is not None
    assert story.prior.actors == (Actor(group, "KH", "attacker"),)  # a stated role wins
    stored = event_from_dict(event_to_dict(story))
    assert stored.prior is not None and stored.prior.actors == story.prior.actors


@pytest.mark.parametrize(
    "text",
    [
        "US jets struck weapons depots in Iraq on Thursday, a day after a rocket attack on "
        "Camp Taji, a base occupied by coalition forces.",
        "US jets struck weapons depots in Iraq on Thursday, a day after a rocket attack on "
        "Camp Taji, which is used by coalition forces.",
    ],
)
def test_a_by_that_says_who_holds_the_place_names_no_attacker(
    shipped: Classifier, text: str
) -> None:
    prior = _prior(shipped, text)
    assert "attacker" not in {a.role for a in prior.actors}
    assert prior.place is not None and prior.place.id == "camp-taji"


def test_the_news_s_attacker_is_not_who_runs_what_was_struck(shipped: Classifier) -> None:
    text = "US jets on Thursday struck depots in Iraq controlled by Kataib Hezbollah."
    event = shipped.classify(title="Jets strike depots", text=text, published=FRIDAY_MORNING).event
    assert ("kataib-hezbollah", "attacker") not in {(a.id, a.role) for a in event.actors}


def test_a_victim_who_died_after_the_attack_is_its_toll_not_a_later_event(
    shipped: Classifier,
) -> None:
    # the contractor's death is the rocket attack's toll: no "After: rocket attack" under a
    # rocket attack's header, and the attack's own place and day (h-audit3)
    event = shipped.classify(
        title="Contractor dies after rocket attack on Iraq air base",
        text="A civilian contractor has died of his wounds after a rocket barrage hit Camp "
        "Taji late on Thursday, and four other people were wounded, a spokesman said.",
        published=FRIDAY_MORNING,
    ).event
    assert event.prior is None
    assert event.incident_type in ("rocket-attack", "shelling")
    assert event.place is not None and event.place.id == "camp-taji"
    assert event.date is not None and event.date.isoformat() == "2026-11-26"
