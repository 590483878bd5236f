"""News about an old event: a memorial, an anniversary, a trial or a funeral weeks later
tells of an attack that is not the news's own, and must not alert as a new one; a group
named only for earlier incidents is not part of the news's event (h-bgfix)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from monitor.classify.classifier import Classifier
from monitor.config import load_config
from monitor.resources import shipped_config_dir

THURSDAY_NOON = datetime(2026, 3, 12, 12, 0, tzinfo=UTC)

COMMEMORATIONS = {
    "memorial": (
        "Hundreds attend memorial service for soldiers killed at Ain al-Asad",
        "Hundreds of people attended a memorial service at a church in Ohio on Wednesday "
        "for the four soldiers killed when rockets hit Ain al-Asad air base.\n"
        "The chaplain read their names.",
    ),
    "memorial, the audit's piece": (
        "Families remember troops killed at Camp Taji years on",
        "Relatives of the soldiers killed at Camp Taji gathered at a memorial in Texas on "
        "Wednesday for a ceremony of remembrance.\n"
        "The families said they wanted their loved ones remembered for their service.",
    ),
    "anniversary": (
        "Iraq marks fifth anniversary of Baghdad market bombing",
        "Crowds gathered in central Baghdad on Wednesday to mark the fifth anniversary of "
        "the suicide bombing that killed 30 shoppers at a market.\nSurvivors laid flowers.",
    ),
    "sentencing": (
        "Three men sentenced to death over Camp Taji rocket attack",
        "A court in Baghdad on Wednesday sentenced three men to death for a rocket attack "
        "on Camp Taji that killed two soldiers and wounded five.\n"
        "Their lawyers said they would appeal.",
    ),
    "funeral weeks later": (
        "Soldier killed in Kirkuk ambush laid to rest",
        "The body of a soldier killed in an ambush by gunmen near Kirkuk was laid to rest "
        "on Wednesday, three weeks after the attack.\nHis unit attended.",
    ),
}


@pytest.fixture(scope="module")
def shipped() -> Classifier:
    return Classifier(load_config(shipped_config_dir() / "monitor.yaml").watchlist)


@pytest.mark.parametrize("name", sorted(COMMEMORATIONS))
def test_a_commemoration_s_old_attack_is_not_the_news_s_event(
    shipped: Classifier, name: str
) -> None:
    title, text = COMMEMORATIONS[name]
    result = shipped.classify(title=title, text=text, published=THURSDAY_NOON)
    assert result.event.incident_type is None
    assert result.event.killed is None
    assert result.rules == ()  # no alert, at any severity


NEWS_BESIDE_A_COMMEMORATION = {
    "an attack on an anniversary": (
        "Rockets hit Camp Taji on anniversary of deadly 2020 attack",
        "Three rockets struck Camp Taji on Wednesday evening, wounding two soldiers, on "
        "the anniversary of the 2020 attack on the base.\nNo group claimed it.",
        ("rocket-attack", None, 2),
    ),
    "a funeral the day after the attack": (
        "Mourners bury soldiers killed in Kirkuk ambush",
        "Gunmen ambushed an army patrol near Kirkuk on Tuesday night, killing three "
        "soldiers.\nTheir funerals were held on Wednesday.",
        ("armed-clash", 3, None),
    ),
}


@pytest.mark.parametrize("name", sorted(NEWS_BESIDE_A_COMMEMORATION))
def test_news_beside_a_commemoration_stays_news(shipped: Classifier, name: str) -> None:
    title, text, expected = NEWS_BESIDE_A_COMMEMORATION[name]
    result = shipped.classify(title=title, text=text, published=THURSDAY_NOON)
    event = result.event
    assert (event.incident_type, event.killed, event.wounded) == expected
    assert result.rules


def test_a_new_incident_at_a_commemoration_keeps_its_place(shipped: Classifier) -> None:
    """Police breaking up an anniversary rally is news: the lede that says so is not
    discounted for the years it marks."""
    result = shipped.classify(
        title="Police break up Basra rally marking the uprising",
        text="Riot police fired tear gas and arrested dozens of demonstrators in Basra on "
        "Wednesday as they gathered to mark five years since the 2019 uprising.\n"
        "Medics said 12 people were treated for breathing problems.",
        published=THURSDAY_NOON,
    )
    assert result.event.incident_type is not None
    assert result.event.place is not None and result.event.place.id == "basra"


def _journalist_killed(blame: str) -> str:
    return (
        "Gunmen on a motorbike shot dead a local journalist outside his office in Amarah on "
        "Wednesday, police said.\nHe had reported on corruption for years.\n"
        f"Colleagues blamed Asaib Ahl al-Haq for {blame}; the group rejects the charge."
    )


@pytest.mark.parametrize(
    "blame", ["past killings of reporters in the province", "earlier attacks on the press"]
)
def test_a_group_blamed_only_for_earlier_incidents_fires_no_rule_on_it(
    shipped: Classifier, blame: str
) -> None:
    result = shipped.classify(
        title="Gunmen kill journalist in Amarah",
        text=_journalist_killed(blame),
        published=THURSDAY_NOON,
    )
    assert result.event.incident_type is not None
    assert "asaib-ahl-al-haq" not in {a.id for a in result.event.actors}
    assert "iran-aligned-militia-activity" not in {h.rule_id for h in result.rules}


def test_a_group_blamed_for_the_news_s_own_killing_fires_the_rule(shipped: Classifier) -> None:
    result = shipped.classify(
        title="Gunmen kill journalist in Amarah",
        text=_journalist_killed("the killing"),
        published=THURSDAY_NOON,
    )
    assert "iran-aligned-militia-activity" in {h.rule_id for h in result.rules}
