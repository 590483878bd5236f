"""Normalisation, spelling variants, acronyms, fuzzy matching and parents."""

from __future__ import annotations

import pytest

from monitor.classify.classifier import Classifier
from monitor.classify.normalize import FoldedText, fold


def entity_ids(c: Classifier, text: str, title: str = "News") -> list[str]:
    return sorted(e.id for e in c.classify(title=title, text=text).entities)


@pytest.mark.parametrize(
    "spelling",
    ["Kataib Hezbollah", "Kata'ib Hezbollah", "Kata’ib Hezbollah", "Kata-ib Hezbollah",
     "KATAIB HEZBOLLAH", "Kataïb  Hezbollah", "Kata‑ib\nHezbollah"],
)  # fmt: skip
def test_spelling_variants_normalise_to_one_entity(classifier: Classifier, spelling: str) -> None:
    assert entity_ids(classifier, f"Fighters of {spelling} said so.") == ["kataib-hezbollah"]


def test_fold_handles_case_accents_apostrophes_and_hyphens() -> None:
    assert fold("Kata'ib") == fold("Kata-ib") == fold("KATAIB") == fold("Kataïb") == "kataib"


def test_offsets_index_title_newline_text(classifier: Classifier) -> None:
    result = classifier.classify(title="Rockets hit Camp Taji", text="Officials blamed KH.")
    full = "Rockets hit Camp Taji\nOfficials blamed KH."
    for entity in result.entities:
        for m in entity.mentions:
            assert full[m.start : m.end] == m.text
    assert {e.id for e in result.entities} == {"camp-taji", "kataib-hezbollah"}


def test_word_boundaries(classifier: Classifier) -> None:
    assert entity_ids(classifier, "The Iraqis and Hamasville residents met.") == []


def test_acronyms_are_case_sensitive(classifier: Classifier) -> None:
    assert entity_ids(classifier, "A statement from KH and the PMF.") == ["kataib-hezbollah", "pmf"]
    assert entity_ids(classifier, "The kh sound and a pmf file; Khalid spoke.") == []


def test_longest_match_wins_over_a_shorter_alias_inside_it(classifier: Classifier) -> None:
    ids = entity_ids(classifier, "Kataib Hezbollah denied it; Hezbollah in Lebanon did too.")
    assert ids == ["hezbollah", "kataib-hezbollah"]
    result = classifier.classify(title="x", text="Kataib Hezbollah denied it.")
    assert [e.id for e in result.entities] == ["kataib-hezbollah"]


def test_fuzzy_catches_unlisted_transliteration(classifier: Classifier) -> None:
    result = classifier.classify(title="x", text="Strikes hit Kitaeb Hezbollah depots.")
    [match] = result.entities
    assert match.id == "kataib-hezbollah"
    assert match.mentions[0].fuzzy and match.mentions[0].text == "Kitaeb Hezbollah"


def test_fuzzy_single_word_variant(classifier: Classifier) -> None:
    assert entity_ids(classifier, "Hizballah fired back.") == ["hezbollah"]


def test_fuzzy_is_off_when_disabled(classifier: Classifier) -> None:
    plain = Classifier(classifier.watchlist, fuzzy=False)
    result = plain.classify(title="x", text="Kitaeb Hezbollah depots.")
    assert [e.id for e in result.entities] == ["hezbollah"]


@pytest.mark.parametrize(
    "text", ["Shelling near Homs today.", "They hummed a tune.", "Hummus for all"]
)
def test_fuzzy_does_not_confuse_distinct_names_or_common_words(
    classifier: Classifier, text: str
) -> None:
    assert "hamas" not in entity_ids(classifier, text)


def test_fuzzy_needs_enough_consonants(classifier: Classifier) -> None:
    assert entity_ids(classifier, "Visitors from Soria and Irak arrived.") == []


def test_entity_parent_is_an_ancestor(classifier: Classifier) -> None:
    result = classifier.classify(title="x", text="Rockets struck the Taji base.")
    [taji] = result.entities
    assert taji.ancestors == ("iraq",)
    assert [r.rule_id for r in result.rules] == ["attack-in-iraq"]


def test_sentences_and_regions() -> None:
    ft = FoldedText("Title here\nFirst one. Second one. Third one.", title_end=10, lead_sentences=2)
    assert ft.region(0) == "title"
    assert ft.region(ft.full.index("Second")) == "lead"
    assert ft.region(ft.full.index("Third")) == "body"
    assert ft.sentence(ft.full.index("Second")) == "Second one."
