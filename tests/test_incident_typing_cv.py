"""The cross-validation machinery of bench/incident_typing_cv.py, on synthetic data.

Out-of-fold figures are only honest if the folds never share an item, cover every item once,
come out the same on every run, and a tuned value is chosen without seeing the test part.
"""

from __future__ import annotations

import pytest

from bench.incident_typing_cv import (
    Fold,
    Item,
    ThresholdKnob,
    evaluate_out_of_fold,
    folds_by_country,
    kfold,
)


def _items() -> list[Item]:
    countries = ["Kenya"] * 5 + ["Burkina Faso"] * 3 + ["Afghanistan"] * 2
    return [Item(f"n{k}", f"note {k}", "Attack", c) for k, c in enumerate(countries)]


def test_country_folds_test_each_country_on_a_setup_from_the_others() -> None:
    items = _items()
    folds = folds_by_country(items)
    assert [f.name for f in folds] == ["Afghanistan", "Burkina Faso", "Kenya"]
    country = {i.id: i.group for i in items}
    for fold in folds:
        assert {country[i] for i in fold.test} == {fold.name}
        assert fold.name not in {country[i] for i in fold.train}
        assert sorted(fold.train + fold.test) == sorted(country)
    tested = [i for f in folds for i in f.test]
    assert sorted(tested) == sorted(country)  # each note held out exactly once


def test_kfold_is_disjoint_covering_balanced_and_deterministic() -> None:
    ids = [f"s{k}" for k in range(23)]
    folds = kfold(ids, 5, seed=3)
    tested = [i for f in folds for i in f.test]
    assert sorted(tested) == sorted(ids)
    for f in folds:
        assert not set(f.train) & set(f.test)
        assert sorted(f.train + f.test) == sorted(ids)
    assert {len(f.test) for f in folds} == {4, 5}
    # the same folds whatever order the ids come in, and on every run
    assert kfold(list(reversed(ids)), 5, seed=3) == folds
    assert kfold(ids, 5, seed=4) != folds


def test_kfold_rejects_impossible_k() -> None:
    with pytest.raises(ValueError):
        kfold(["a", "b"], 3, seed=1)


def test_knob_is_chosen_on_training_folds_only() -> None:
    # On the training items value 1 is right, on the test items value 2 would be: a knob
    # that peeked at the test part would pick 2 and score perfectly.
    gold = {"a": "x", "b": "x", "c": "x", "t": "y"}
    seen: list[tuple[str, ...]] = []

    def predict(item: str, value: float) -> str:
        return "x" if value == 1 else "y"

    knob = ThresholdKnob("k", (2.0, 1.0), predict)
    original = knob.choose

    def spy(ids: tuple[str, ...], g: dict[str, str]) -> float:
        seen.append(tuple(ids))
        return original(ids, g)

    object.__setattr__(knob, "choose", spy)
    fold = Fold("only", ("a", "b", "c"), ("t",))
    result = evaluate_out_of_fold(gold, [fold], knob=knob)
    assert seen == [("a", "b", "c")]
    assert result.folds[0].chosen == 1.0
    assert result.folds[0].f1 == 0.0  # honest: the value fitted elsewhere misses here
    assert result.pooled_f1 == 0.0


def test_knob_ties_keep_the_earlier_candidate() -> None:
    knob = ThresholdKnob("k", (1.0, 0.5), lambda item, value: "x")
    assert knob.choose(["a"], {"a": "x"}) == 1.0


def test_per_fold_pooled_and_spread() -> None:
    gold = {"a": "x", "b": "x", "c": "y", "d": "y"}
    guess = {"a": "x", "b": "x", "c": "x", "d": "none"}
    folds = [Fold("one", ("c", "d"), ("a", "b")), Fold("two", ("a", "b"), ("c", "d"))]
    result = evaluate_out_of_fold(gold, folds, predict=guess.__getitem__)
    assert [(f.name, f.n, f.f1) for f in result.folds] == [("one", 2, 1.0), ("two", 2, 0.0)]
    assert result.folds[1].no_type == 0.5
    assert result.mean == 0.5 and result.spread == 0.5 and result.range == (0.0, 1.0)
    # pooled: x has P 2/3 R 1, y has no hit; weighted by support (2 and 2)
    assert result.pooled_f1 == pytest.approx(0.4)
    assert result.pooled_no_type == 0.25


def test_overlapping_folds_are_refused() -> None:
    with pytest.raises(ValueError, match="overlap"):
        evaluate_out_of_fold({"a": "x"}, [Fold("bad", ("a",), ("a",))], predict=lambda i: "x")


def test_taxonomy_without_a_country_drops_its_edits_and_restores_what_they_replaced() -> None:
    from bench.incident_typing_cv import taxonomy_without

    text = (
        "keywords:\n"
        "  riot|riots: 4\n"
        "  #cv-was:kenya clash|clashes: 1.5\n"
        "  clash|clashes: 2  # cv:kenya\n"
        "  stones: 3  # cv:kenya,burkina-faso\n"
        "  mob: 4  # cv:afghanistan\n"
    )
    assert taxonomy_without(text, {"kenya"}) == (
        "keywords:\n  riot|riots: 4\n  clash|clashes: 1.5\n  mob: 4  # cv:afghanistan\n"
    )
    assert taxonomy_without(text, {"burkina-faso"}) == (
        "keywords:\n  riot|riots: 4\n  clash|clashes: 2  # cv:kenya\n  mob: 4  # cv:afghanistan\n"
    )


def test_a_list_left_without_items_stays_a_list() -> None:
    from bench.incident_typing_cv import taxonomy_without

    text = (
        "  - id: a\n    patterns:\n      # why\n      - {near: [x, y]}  # cv:kenya\n"
        "    threshold: 4\n"
    )
    assert taxonomy_without(text, {"kenya"}) == (
        "  - id: a\n    patterns: []\n      # why\n    threshold: 4\n"
    )


def test_a_knob_over_two_data_sets_weighs_each_the_same() -> None:
    # Value 2 gets the one CASE snippet right at the cost of four of nine ACLED notes.
    # Pooled, the notes outvote the snippet; with groups each data set counts half.
    gold = {f"a{k}": "x" for k in range(9)} | {"c": "y"}
    groups = {f"a{k}": "acled" for k in range(9)} | {"c": "case"}

    def predict(item: str, value: float) -> str:
        if value == 1:
            return "x"
        return "y" if item == "c" else "z" if item in ("a0", "a1", "a2", "a3") else "x"

    assert ThresholdKnob("k", (1.0, 2.0), predict).choose(list(gold), gold) == 1.0
    assert ThresholdKnob("k", (1.0, 2.0), predict, groups).choose(list(gold), gold) == 2.0


def test_the_chooser_knob_runs_the_classifiers_rechoose_and_the_fill_otherwise() -> None:
    from bench.incident_typing_cv import CHOOSER_GRID, Reading, chooser_knob, shipped_settings
    from monitor.classify.learned import Decision

    attack = Decision((("Attack", 0.7), ("Armed clash", 0.2), ("none", 0.1)), ())
    readings = {
        # the rules fired both, the clash first; the chooser model prefers the attack
        "both": Reading(
            "Armed clash",
            "none",
            0.0,
            {"Armed clash": 1.2, "Attack": 1.0},
            None,
            ("Armed clash", "Attack"),
            attack,
        ),
        # no type fired and no fill type came near: the fill gives nothing
        "none": Reading("none", "none", 0.0, {}, None, (), None),
    }
    groups = {"both": "acled", "none": "acled"}
    knob = chooser_knob(readings, groups, (0.2, 0.0))
    assert knob.candidates[0] == CHOOSER_GRID[0]  # "off" first: ties keep the rules
    assert knob.predict("both", CHOOSER_GRID[0]) == "Armed clash"
    # (first group set, fired types only, margin 0.5): 0.78 - 0.22 passes, 0.7 does not
    assert knob.predict("both", (0, 1.0, 0.5)) == "Attack"
    assert knob.predict("both", (0, 1.0, 0.7)) == "Armed clash"
    assert knob.predict("none", (0, 1.0, 0.0)) == "none"
    # the shipped settings are among those measured, so their figures can be reported
    _, chooser = shipped_settings()
    assert chooser in CHOOSER_GRID


def test_a_fold_reads_its_training_countries_as_unseen_too() -> None:
    """Held out Kenya: every note loses Kenya's edits, and each training country's notes also
    lose their own (the knob is chosen on readings like those it is scored on)."""
    from bench.incident_typing_cv import read_fold

    text = (
        "incident_types:\n"
        "  - id: riot\n    label: Riot\n    acled: Violent demonstration\n    threshold: 4\n"
        "    keywords:\n"
        "      stones: 4  # cv:kenya\n"
        "      tyres: 4  # cv:burkina-faso\n"
        "      barricades: 4  # cv:afghanistan\n"
    )
    notes = [
        Item("k1", "They threw stones.", "x", "Kenya"),
        Item("k2", "They built barricades.", "x", "Kenya"),
        Item("b1", "They burned tyres.", "x", "Burkina Faso"),
        Item("b2", "They built barricades.", "x", "Burkina Faso"),
        Item("a1", "They burned tyres.", "x", "Afghanistan"),
        Item("a2", "They built barricades.", "x", "Afghanistan"),
    ]
    read = read_fold(notes, text, "Kenya", (None, None))
    assert {i: r.fired for i, r in read.items()} == {
        "k1": "none",  # Kenya's own edit is gone
        "k2": "Violent demonstration",
        "b1": "none",  # a training country's own edit is gone too
        "b2": "Violent demonstration",
        "a1": "Violent demonstration",  # another training country's edit stays
        "a2": "none",
    }
