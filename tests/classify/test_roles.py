"""Who the event says attacked whom: speech, blame, claims, denials and passives.

Texts are our own, written for these tests in the manner of several outlets (wire ledes,
headlines, reported speech). Groups come from the shipped watchlist and from a small
watchlist of Yemen's war written here.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from monitor.classify.classifier import Classifier
from monitor.classify.event import consensus
from monitor.classify.watchlist import load_watchlists
from monitor.codec import event_from_dict, event_to_dict
from monitor.resources import shipped_config_dir
from monitor.types import Actor, Event

THURSDAY_NOON = datetime(2026, 3, 12, 12, 0, tzinfo=UTC)
YEMEN = """
entities:
  - {id: yemen, kind: country, name: Yemen, demonyms: [Yemeni]}
  - {id: hodeidah, kind: location, name: Hodeidah, parent: yemen, aliases: [Hudaydah]}
  - {id: saada, kind: location, name: Saada, parent: yemen, aliases: [Sa'dah]}
  - {id: houthis, kind: armed_group, name: Houthi movement, aliases: [Houthis, Houthi, Ansar Allah]}
  - {id: saudi-coalition, kind: state_force, name: Saudi-led coalition, aliases: [Arab coalition]}
"""
HOUTHIS, SAUDI = "Houthi movement", "Saudi-led coalition"


@pytest.fixture(scope="module")
def reader(tmp_path_factory: pytest.TempPathFactory) -> Classifier:
    yemen = tmp_path_factory.mktemp("watch") / "yemen.yaml"
    yemen.write_text(YEMEN, encoding="utf-8")
    shipped = shipped_config_dir() / "watchlists" / "iraq-syria.yaml"
    return Classifier(load_watchlists([shipped, yemen]))


def _actors(reader: Classifier, title: str, text: str) -> dict[str, Actor]:
    event = reader.classify(title=title, text=text, published=THURSDAY_NOON).event
    return {a.id: a for a in event.actors}


# (title, text, {id: role}, {id: who blames it}); each case read wrong before roles.py
CASES = {
    # the walk-through's report: the speaker came out as the target
    "who blames is no target": (
        "Air strike on Saada market kills 12",
        "An air strike killed 12 people at a crowded market in Saada on Wednesday, the "
        "Houthis said, blaming the Saudi-led coalition.",
        {"houthis": "involved", "saudi-coalition": "accused"},
        {"saudi-coalition": (HOUTHIS,)},
    ),
    "who reports a strike is not its attacker": (
        "Houthis say coalition jets hit Hodeidah port",
        "SANAA - The Houthis said Saudi-led coalition jets struck the port of Hodeidah on "
        "Wednesday, killing four dock workers.",
        {"houthis": "involved", "saudi-coalition": "attacker"},
        {},
    ),
    "the group whose drones struck is the attacker, the one quoted is not": (
        "Houthi drones hit oil terminal, coalition says",
        "The Houthis' drones struck an oil terminal near the Red Sea coast on Wednesday, "
        "the Saudi-led coalition said.",
        {"houthis": "attacker", "saudi-coalition": "involved"},
        {},
    ),
    "fighters killed in a strike are its target": (
        "Kataib Hezbollah fighters killed in drone strike near Al-Qaim",
        "Three Kataib Hezbollah fighters were killed on Wednesday when a drone struck their "
        "car near Al-Qaim, the group said.",
        {"kataib-hezbollah": "target"},
        {},
    ),
    "positions hit by jets are the target, the jets' force the attacker": (
        "Militia positions hit near Abu Kamal",
        "Kataib Sayyid al-Shuhada positions were hit by US-led coalition jets near Abu Kamal "
        "late on Wednesday, a war monitor said.",
        {"kataib-sayyid-al-shuhada": "target", "coalition": "attacker"},
        {},
    ),
    "who shoots the drones down did not attack": (
        "Drones downed over Al-Tanf",
        "Two drones launched by Harakat al-Nujaba were shot down by coalition forces over "
        "Al-Tanf on Wednesday, the garrison's commander said.",
        {"harakat-al-nujaba": "attacker", "coalition": "involved"},
        {},
    ),
    "a group saying it fired claims the attack": (
        "Rockets hit Al-Tanf garrison",
        "Harakat al-Nujaba said in a statement on Wednesday that its fighters had fired the "
        "rockets that hit Al-Tanf.",
        {"harakat-al-nujaba": "attacker"},
        {},
    ),
    "a claim not made is no claim": (
        "Rockets hit Camp Taji, wounding two soldiers",
        "Rockets struck Camp Taji on Wednesday, wounding two soldiers. Kataib Hezbollah has "
        "not claimed the attack.",
        {"kataib-hezbollah": "involved"},
        {},
    ),
    "a denial is no claim": (
        "Rockets hit Camp Taji, wounding two soldiers",
        "Rockets struck Camp Taji on Wednesday, wounding two soldiers. Asaib Ahl al-Haq "
        "denied it fired them.",
        {"asaib-ahl-al-haq": "involved"},
        {},
    ),
    "the accused stays accused when it denies": (
        "Coalition blames Kataib Hezbollah for Taji rockets",
        "The US-led coalition blamed Kataib Hezbollah for the rockets that hit Camp Taji on "
        "Wednesday, wounding two soldiers. Kataib Hezbollah, which denied any role, called "
        "the charge a pretext.",
        {"kataib-hezbollah": "accused", "coalition": "involved"},
        {"kataib-hezbollah": ("US-led coalition",)},
    ),
    "according to a group, it is the source": (
        "Checkpoint bombed near Al-Qaim",
        "According to the Popular Mobilization Forces, coalition forces bombed one of its "
        "checkpoints near Al-Qaim on Wednesday, killing two guards.",
        {"pmf": "involved", "coalition": "attacker"},
        {},
    ),
    "retaliation against a group makes it the target": (
        "Coalition jets strike depots near Abu Kamal",
        "US-led coalition jets struck weapons depots near Abu Kamal on Wednesday in "
        "retaliation against Kataib Sayyid al-Shuhada, which fired rockets at Al-Tanf.",
        {"coalition": "attacker", "kataib-sayyid-al-shuhada": "target"},
        {},
    ),
    "revenge vowed against a force blames it": (
        "Hezbollah vows revenge after strike kills two fighters",
        "Hezbollah vowed revenge against the US-led coalition on Thursday after an air "
        "strike killed two of its fighters near Abu Kamal.",
        {"coalition": "accused", "hezbollah": "involved"},
        {"coalition": ("Hezbollah",)},
    ),
    "blamed by a group on a force: the group blames, the force is accused": (
        "Drone strike hits convoy near Al-Qaim",
        "The drone strike on a convoy near Al-Qaim on Wednesday was blamed by Kataib "
        "Hezbollah on the US-led coalition.",
        {"kataib-hezbollah": "involved", "coalition": "accused"},
        {"coalition": ("Kataib Hezbollah",)},
    ),
    "a country blames as a state": (
        "Car bomb kills five in Kirkuk",
        "A car bomb killed five people in Kirkuk on Wednesday. Iraq blamed Islamic State "
        "for the bombing.",
        {"islamic-state": "accused"},
        {"islamic-state": ("Iraq",)},
    ),
    "leaders who meet are no target": (
        "Rockets hit Green Zone, wounding a guard",
        "Three rockets hit the Green Zone on Wednesday night, wounding a guard. Leaders of "
        "the Popular Mobilization Forces met on Thursday to discuss the attack.",
        {"pmf": "involved"},
        {},
    ),
    "a group called on to act is no target": (
        "Rockets hit Green Zone, wounding a guard",
        "Three rockets hit the Green Zone on Wednesday night, wounding a guard. The "
        "government called on the Popular Mobilization Forces to rein in rogue units.",
        {"pmf": "involved"},
        {},
    ),
    "'was responsible' said of a group accuses it": (
        "Rockets hit Camp Taji, wounding two soldiers",
        "Rockets struck Camp Taji on Wednesday, wounding two soldiers. The Pentagon said "
        "Kataib Hezbollah was responsible for the barrage.",
        {"kataib-hezbollah": "accused"},
        {},
    ),
    "what a group did before is not this attack": (
        "Rockets hit Camp Taji, wounding two soldiers",
        "Rockets struck Camp Taji on Wednesday, wounding two soldiers. Kataib Hezbollah has "
        "fired many such barrages at the base, officials said.",
        {"kataib-hezbollah": "involved"},
        {},
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_the_actors_part_is_what_the_words_give_it(reader: Classifier, case: str) -> None:
    title, text, roles, blamers = CASES[case]
    actors = _actors(reader, title, text)
    assert {i: actors[i].role for i in roles if i in actors} == roles
    assert {i: actors[i].by for i in blamers} == blamers


def test_who_blames_is_the_subject_not_the_place_the_clause_is_set_in(reader: Classifier) -> None:
    actors = _actors(
        reader,
        "Strike on Saada market",
        "In Saada, the Houthis blamed the Saudi-led coalition for an air strike that "
        "killed 12 people at a market on Wednesday.",
    )
    assert actors["saudi-coalition"] == Actor("saudi-coalition", SAUDI, "accused", (HOUTHIS,))


def test_a_claim_outweighs_an_accusation_and_a_denial_outweighs_others_words(
    reader: Classifier,
) -> None:
    """The claimant is the attacker though another names it only as accused; a group that
    denies what others say of it is accused at most, unless it claims the attack."""
    claimed = _actors(
        reader,
        "Islamic State claims Kirkuk bombing",
        "Islamic State claimed responsibility for a car bombing in Kirkuk on Wednesday "
        "that killed five people. Police had blamed Islamic State within hours.",
    )
    assert claimed["islamic-state"].role == "attacker"
    denied = _actors(
        reader,
        "Rockets fired by Kataib Hezbollah hit Camp Taji, officials say",
        "Rockets fired by Kataib Hezbollah struck Camp Taji on Wednesday, wounding two "
        "soldiers, officials said. Kataib Hezbollah denied any involvement.",
    )
    assert denied["kataib-hezbollah"].role == "accused"


def test_a_story_takes_a_stated_part_over_an_accusation_and_keeps_who_blames() -> None:
    kh = "kataib-hezbollah"
    blamed = Event("rocket-attack", actors=(Actor(kh, "KH", "accused", ("US-led coalition",)),))
    named = Event("rocket-attack", actors=(Actor(kh, "KH", "involved"),))
    other = Event("rocket-attack", actors=(Actor(kh, "KH", "accused", ("Iraq",)),))
    assert consensus([named, blamed, other]).actors == (
        Actor(kh, "KH", "accused", ("US-led coalition", "Iraq")),
    )
    claimed = Event("rocket-attack", actors=(Actor(kh, "KH", "attacker"),))
    assert consensus([blamed, claimed]).actors == (Actor(kh, "KH", "attacker"),)


def test_who_blames_is_stored_and_events_stored_before_it_still_read() -> None:
    event = Event("air-strike", actors=(Actor("saudi-coalition", SAUDI, "accused", (HOUTHIS,)),))
    stored = event_to_dict(event)
    assert stored["actors"] == [
        {"id": "saudi-coalition", "name": SAUDI, "role": "accused", "by": [HOUTHIS]}
    ]
    assert event_from_dict(stored) == event
    old = {"actors": [{"id": "kataib-hezbollah", "name": "Kataib Hezbollah", "role": "target"}]}
    assert event_from_dict(old).actors == (Actor("kataib-hezbollah", "Kataib Hezbollah", "target"),)
    assert "by" not in event_to_dict(event_from_dict(old))["actors"][0]
