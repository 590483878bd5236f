"""bench/dedup_names.py: the proper names a report gives, and their agreement with a story."""

from __future__ import annotations

from collections import Counter

from bench.dedup_names import agreement, auc, names_of
from monitor.dedup.places import name_key


def test_names_are_capitalised_words_not_a_sentences_common_first_word() -> None:
    names = names_of(
        "Lindsay Lohan checks into rehab",
        [
            "Actress Lindsay Lohan has entered the Promises Treatment Center in Malibu.",
            "Her lawyer said on Tuesday that Lohan would stay there.",
            "Treatment there lasts weeks.",
        ],
    )
    keys = {name_key(w): w for w in ("Lindsay", "Lohan", "Promises", "Center", "Malibu")}
    assert set(keys) <= set(names)
    assert names[name_key("Malibu")] == 1  # first named in the lede
    assert names[name_key("Lohan")] == 0  # ... and this one in the headline
    # "Her" is a stop word, "Tuesday" a day; "Actress" leads a name ("Actress Lindsay")
    assert name_key("Tuesday") not in names and name_key("Her") not in names
    # "Treatment" also appears capitalised inside a sentence (the centre's name), so it counts
    assert name_key("Treatment") in names


def test_a_title_case_headline_gives_only_names_its_body_capitalises() -> None:
    names = names_of("Quake Strikes Island Near Coast", ["A quake struck Qeshm island on Sunday."])
    assert name_key("Qeshm") in names
    assert name_key("Strikes") not in names and name_key("Coast") not in names


def test_agreement_weighs_rare_names_and_early_ones() -> None:
    df = Counter({"klitschko": 9, "thompson": 1, "rahman": 1})
    story = Counter({"klitschko": 3, "thompson": 3})  # three reports, all name both
    same = agreement({"klitschko": 0, "thompson": 0}, story, 3, 10, df)
    twin = agreement({"klitschko": 0, "rahman": 0}, story, 3, 10, df)
    assert same is not None and twin is not None
    assert same > 0.9 and twin < 0.2  # the champion everyone names decides little
    assert agreement({}, story, 3, 10, df) is None


def test_auc_counts_ties_as_half() -> None:
    assert auc([1.0, 2.0], [0.0]) == 1.0
    assert auc([1.0], [1.0]) == 0.5
