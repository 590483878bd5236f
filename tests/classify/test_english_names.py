"""Names as English writes them: possessives, curly quotes, hyphens and spacing, plurals and
demonyms where the watchlist declares them, and aliases whose punctuation matching would drop."""
# ruff: noqa: E501  (exact error messages and YAML fixtures read best unwrapped)

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from monitor.classify.classifier import Classifier
from monitor.classify.explain import explain_text
from monitor.classify.watchlist import load_watchlists
from monitor.errors import ConfigError

from .conftest import BASE

NAMES = """
entities:
  - {id: iraq, kind: country, name: Iraq}
  - {id: kataib-hezbollah, kind: armed_group, name: Kataib Hezbollah, aliases: ["Kata’ib Hizballah", KH]}
  - {id: hamas, kind: armed_group, name: Hamas}
  - {id: marines, kind: state_force, name: US Marines, aliases: [Marines]}
  - {id: k1-base, kind: military_base, name: K-1 Air Base, parent: iraq}
  - {id: militia, kind: armed_group, name: Militia}
"""
DECLARED = """
entities:
  - {id: iraq, kind: country, name: Iraq, demonyms: [Iraqi, Iraqis]}
  - {id: katyusha, kind: weapon, name: Katyusha rocket, aliases: [Katyusha], plural: true}
  - {id: ied, kind: weapon, name: IED, plural: true}
  - {id: militia, kind: armed_group, name: Militia}
"""


@pytest.fixture
def names(write: Callable[..., Path]) -> Classifier:
    return Classifier(load_watchlists([write(NAMES)]))


@pytest.fixture
def declared(write: Callable[..., Path]) -> Classifier:
    return Classifier(load_watchlists([write(DECLARED)]))


def mentions(c: Classifier, text: str) -> dict[str, list[str]]:
    """Entity id -> mention texts, each checked against the offsets it claims."""
    result = c.classify(title="News", text=text)
    full = f"News\n{text}"
    for entity in result.entities:
        for m in entity.mentions:
            assert full[m.start : m.end] == m.text
    return {e.id: [m.text for m in e.mentions] for e in result.entities}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Kataib Hezbollah's fighters withdrew.", {"kataib-hezbollah": ["Kataib Hezbollah"]}),
        ("Kataib Hezbollah’s fighters withdrew.", {"kataib-hezbollah": ["Kataib Hezbollah"]}),
        ("KATAIB HEZBOLLAH'S FIGHTERS WITHDREW.", {"kataib-hezbollah": ["KATAIB HEZBOLLAH"]}),
        ("KH's fighters withdrew.", {"kataib-hezbollah": ["KH"]}),
        ("Iraq's parliament met.", {"iraq": ["Iraq"]}),
        ("Kitaeb Hezbollah's depots burned.", {"kataib-hezbollah": ["Kitaeb Hezbollah"]}),
    ],
)  # fmt: skip
def test_possessive_names_the_entity_and_the_mention_stops_before_its_s(
    names: Classifier, text: str, expected: dict[str, list[str]]
) -> None:
    assert mentions(names, text) == expected


def test_a_name_ending_in_s_takes_s_apostrophe_or_s_apostrophe_s(names: Classifier) -> None:
    for text in (
        "Hamas's leaders met.",
        "Hamas' leaders met.",
        "Hamas’ leaders met.",
        "Hamas’s leaders met.",
    ):
        assert mentions(names, text) == {"hamas": ["Hamas"]}, text
    for text in ("the Marines' base", "the US Marines’ base", "the Marines's base"):
        assert list(mentions(names, text)) == ["marines"], text


def test_a_bare_s_is_no_possessive_and_acronyms_keep_their_capitals(names: Classifier) -> None:
    assert mentions(names, "Iraqs are no name; Kataib Hezbollahs neither.") == {}
    assert mentions(names, "The kh's sound; Kh's too.") == {}
    assert mentions(names, "Iraq's and KH's") == {"iraq": ["Iraq"], "kataib-hezbollah": ["KH"]}


@pytest.mark.parametrize(
    "spelling",
    ["Kata'ib Hizballah's", "Kata’ib Hizballah’s", "Kataib-Hizballah's", "Kata’ib-Hizballah", "Kataib Hizballah"],
)  # fmt: skip
def test_curly_and_straight_quotes_and_hyphens_meet_in_one_name(
    names: Classifier, spelling: str
) -> None:
    # The alias is written with a curly quote; texts use either, or a hyphen, or neither.
    assert list(mentions(names, f"Fighters of {spelling} withdrew.")) == ["kataib-hezbollah"]


@pytest.mark.parametrize(
    "spelling", ["K-1 Air Base", "K1 air base", "K1 airbase", "K-1 Airbase's", "K 1 air base"]
)
def test_hyphen_and_space_variants_of_a_base(names: Classifier, spelling: str) -> None:
    assert list(mentions(names, f"Rockets hit {spelling} runway.")) == ["k1-base"]


def test_plurals_match_only_where_the_watchlist_says_so(declared: Classifier) -> None:
    assert mentions(declared, "Two Katyushas and three Katyusha rockets fell.") == {
        "katyusha": ["Katyushas", "Katyusha rockets"]
    }
    assert mentions(declared, "Several IEDs exploded; ieds is no acronym.") == {"ied": ["IEDs"]}
    assert mentions(declared, "Militias clashed.") == {}  # Militia did not ask for plurals


def test_demonyms_match_only_when_declared_and_are_flagged(
    declared: Classifier, classifier: Classifier
) -> None:
    result = declared.classify(title="News", text="Iraqi officials and the Iraqis' allies met.")
    [iraq] = result.entities
    assert [(m.text, m.demonym) for m in iraq.mentions] == [("Iraqi", True), ("Iraqis", True)]
    assert not iraq.named
    named = declared.classify(title="News", text="Iraqi officials met in Iraq.").entities[0]
    assert [m.demonym for m in named.mentions] == [True, False] and named.named
    # BASE's Iraq declares no demonyms: "Iraqi" is not Iraq there.
    assert classifier.classify(title="News", text="Iraqi officials met.").entities == ()


def test_demonym_mentions_count_for_rules_and_say_so(write: Callable[..., Path]) -> None:
    c = Classifier(
        load_watchlists([write(BASE.replace("name: Iraq}", "name: Iraq, demonyms: [Iraqi]}"))])
    )
    title, text = "Rockets fired", "Rockets struck a convoy of Iraqi soldiers."
    result = c.classify(title=title, text=text)
    [hit] = result.rules
    assert hit.rule_id == "attack-in-iraq" and "Iraq (demonym 'Iraqi')" in hit.reason
    assert "'Iraqi' (demonym: its people, not the entity itself)" in explain_text(
        title, text, result, color=False
    )


def errors_of(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_watchlists([path])
    return info.value.errors


def test_aliases_whose_punctuation_matching_would_drop_are_rejected(
    write: Callable[..., Path],
) -> None:
    path = write(
        """entities:
  - id: cpp
    kind: organization
    name: C++ Foundation
    aliases:
      - C++
      - {alias: "(?i)taji", case_sensitive: true}
      - U.S. Embassy, Baghdad
  - {id: att, kind: organization, name: AT and T, demonyms: [AT&T-ers]}
""")  # fmt: skip
    plain = (
        "names are plain text, not patterns, matched ignoring case, accents, apostrophes and "
        "hyphens: use letters, digits, spaces, apostrophes, hyphens, '.' and ','"
    )
    assert errors_of(path) == [
        f"{path}:4: entities.0.name: 'C++ Foundation' contains '+', which matching ignores (it would match 'C Foundation'); {plain}",
        f"{path}:6: entities.0.aliases.0: 'C++' contains '+', which matching ignores (it would match 'C'); {plain}",
        f"{path}:7: entities.0.aliases.1: '(?i)taji' contains '(', '?', ')', which matching ignores (it would match 'i taji'); {plain}",
        f"{path}:9: entities.1.demonyms.0: 'AT&T-ers' contains '&', which matching ignores (it would match 'AT T-ers'); {plain}",
    ]


def test_demonyms_and_plural_are_validated(write: Callable[..., Path]) -> None:
    path = write(
        "entities:\n"
        "  - {id: iraq, kind: country, name: Iraq, demonyms: Iraqi}\n"
        "  - {id: syria, kind: country, name: Syria, plural: maybe}\n"
    )
    assert errors_of(path) == [
        f"{path}:2: entities.0.demonyms: must be a list: [a, b] or one '- item' per line, "
        "got 'Iraqi'",
        f"{path}:3: entities.1.plural: must be true or false, got 'maybe'",
    ]
