"""Where a report puts its event (places.py): the lede's place, names compared by key."""

from __future__ import annotations

from monitor.dedup.places import Whereabouts, name_key, named_by, places_apart, whereabouts
from monitor.dedup.text import sentences


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
