"""Where a report puts its event (places.py): the lede's place, names compared by key."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from monitor.dedup.combiner import StoryScorer
from monitor.dedup.features import ArticleFeatures
from monitor.dedup.places import Whereabouts, name_key, named_by, places_apart, whereabouts
from monitor.dedup.profile import StoryProfile
from monitor.dedup.settings import DedupSettings
from monitor.dedup.text import sentences

T0 = datetime(2026, 3, 4, 12, tzinfo=UTC)


def where(title: str, body: str) -> Whereabouts:
    return whereabouts(title, sentences(body))


def lede(title: str, body: str) -> set[str]:
    return set(whereabouts(title, sentences(body)).lede)


def test_the_lede_place_is_the_named_place_not_the_landmark() -> None:
    body = (
        "Rockets slammed into Tell Hamra, a village 12 km from Kirkuk, before dawn. "
        "Rescuers came from Kirkuk."
    )
    assert lede("Rocket attack on Tell Hamra kills 5", body) == {"Tell Hamra"}
    east = "A drone hit a checkpoint 20 km east of Kirkuk at the entrance of Bir Zarqa."
    assert lede("Drone attack on Bir Zarqa kills 3", east) == {"Bir Zarqa"}


def test_a_place_named_by_one_sentence_only_is_not_the_events() -> None:
    # "in Geneva" is where a minister spoke; nothing else comes back to it
    body = "The minister said in Geneva that talks would resume. Delegates left on Friday."
    assert lede("Talks to resume, minister says", body) == set()


def test_title_case_and_names_of_organisations_are_no_place() -> None:
    assert lede("Gunmen Kill Four In Attack On Wedding In Remote Village", "") == set()
    body = "Daniel is the CEO of Acme and spoke at length. Acme grew."
    assert lede("Acme hires", body) == set()


def test_a_sentence_may_begin_with_the_word_before_of() -> None:
    body = "Residents of Umm Rashid buried their dead. Umm Rashid lost twelve houses."
    assert lede("Quake victims buried", body) == {"Umm Rashid"}


def test_spelling_variants_share_a_key() -> None:
    assert name_key("Tell") == name_key("Tel")
    assert name_key("Hamra") == name_key("Hamrah")
    assert name_key("Kataib") == name_key("Kitaeb")
    assert name_key("Hamra") != name_key("Sawda")
    names = where("", "Villagers of Tel Hamrah mourn. Tel Hamrah is small.").names
    assert named_by("Tell Hamra", names)
    assert not named_by("Tell Sawda", names)  # every word of a place must be named
    assert named_by("South American", where("", "Banks in South America grow.").names)


def test_a_capitalised_article_is_no_village() -> None:
    # "An" opening a sentence has the key of "Ain": stop words are never names
    text = "An air strike hit Qasr Bayda at dawn. Qasr Bayda has a warehouse."
    assert not named_by("Ain Bayda", where("Strike on Qasr Bayda", text).names)


def test_two_reports_are_apart_only_if_neither_names_the_others_place() -> None:
    hamra = where(
        "Rocket attack on Tell Hamra kills 5",
        "Rockets hit Tell Hamra before dawn, killing five people. Homes burned.",
    )
    sawda = where(
        "Rocket attack on Khirbet Sawda kills 3",
        "Rockets hit Khirbet Sawda before dawn, killing three people. Homes burned.",
    )
    east = where(
        "Shooting in East Oakland leaves 2 dead",
        "A shooting in East Oakland left two dead on Sunday. Police patrolled.",
    )
    oakland = where(
        "Two killed in Oakland shooting",
        "Two men were shot dead in Oakland on Sunday night, police said. Oakland police.",
    )
    unplaced = where("Rocket attack kills 5", "Rockets killed five people before dawn.")
    assert places_apart(hamra, sawda)
    assert not places_apart(east, oakland)  # "Oakland" is named
    assert not places_apart(hamra, unplaced)  # one names no place


def test_a_militia_after_on_or_of_is_no_place_when_the_watchlist_knows_it() -> None:
    # "a strike on Asaib Ahl al-Haq office in Kirkuk" happened in Kirkuk: read as the place,
    # the militia made two strikes on it in two provinces one story (h-audit3)
    title = "Drone strike on Asaib Ahl al-Haq office in Kirkuk kills three"
    body = "A drone hit an office of the Asaib Ahl al-Haq militia in Kirkuk. Kirkuk police said so."
    assert set(whereabouts(title, sentences(body)).lede) == {"Asaib Ahl al-Haq"}
    known = whereabouts(
        title, sentences(body), not_places=["Asaib Ahl al-Haq", "Asa'ib Ahl al-Haq"]
    )
    assert set(known.lede) == {"Kirkuk"}


def _placed(place: str | None, *lineage: str) -> ArticleFeatures:
    return ArticleFeatures(
        terms={}, title_terms={}, entities=frozenset(), incident_types=frozenset(), seen=T0,
        place=place, place_lineage=frozenset({place, *lineage} if place else ()),
    )  # fmt: skip


@pytest.mark.parametrize(
    ("article", "apart"),
    [
        (_placed("kirkuk", "iraq"), True),  # another province
        (_placed("al-qaim", "anbar", "iraq"), False),  # the same place
        (_placed("anbar", "iraq"), False),  # around it
        (_placed("iraq"), False),  # a country only: too coarse to tell
        (_placed(None), False),
    ],
)
def test_watchlist_places_apart_keep_same_day_twins_apart(
    article: ArticleFeatures, apart: bool
) -> None:
    # two drone strikes one day, in Al-Qaim and in Kirkuk, whose reports name each other's
    # place ("hours after a strike in Anbar"): the event reading's places tell them apart
    story = StoryProfile(1, T0, T0, places={"al-qaim"}, place_lineage={"al-qaim", "anbar", "iraq"})
    veto = StoryScorer(DedupSettings()).kept_apart(article, story)
    assert (veto is not None) == apart
    assert veto is None or veto.startswith("other place (kirkuk /")
