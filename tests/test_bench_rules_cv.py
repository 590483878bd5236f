"""bench.dedup_rules_cv: each fold is scored with numbers chosen on the other folds only."""

from __future__ import annotations

from bench.dedup_rules_cv import SHIPPED, choose, out_of_fold
from bench.train_dedup import FOLDS, Stream

GOOD = (0.22, 0.4, 0.72, 0.35)  # join, floor, confirm, days bar


def _stream() -> tuple[Stream, dict[str, int]]:
    # One two-report event per fold: grouped right, each fold's B-cubed F1 is 1.
    ids = [f"e{k}:{side}" for k in range(FOLDS) for side in (1, 2)]
    gold: dict[str, str | None] = {i: i.split(":")[0] for i in ids}
    group = {i: f"ecb:{i.split(':')[0]}" for i in ids}
    fold = {f"ecb:e{k}": k for k in range(FOLDS)}
    return Stream("ecbplus", [], gold, group), fold


def test_each_fold_is_scored_with_what_the_other_folds_chose() -> None:
    stream, fold = _stream()
    joined = {i: i.split(":")[0] for i in stream.gold}  # every event one story
    split = {i: i for i in stream.gold}  # every report a story of its own
    # GOOD groups every fold right except fold 0, where only the shipped numbers do:
    # fold 0's own articles must not decide what fold 0 is scored with.
    good = {**joined, "e0:1": "x", "e0:2": "y"}
    made = {SHIPPED: {"ecbplus": {**split, "e0:1": "e0", "e0:2": "e0"}}, GOOD: {"ecbplus": good}}
    choices = choose([stream], made, fold)
    assert [c.knobs for c in choices] == [GOOD] * FOLDS
    figures = out_of_fold([stream], made, fold, choices)["ecbplus"]
    assert figures.folds[0]["R"] == 0.5  # fold 0 scored with GOOD, which splits it
    assert all(f["F1"] == 1.0 for f in figures.folds[1:])


def test_a_tie_goes_to_the_shipped_numbers() -> None:
    stream, fold = _stream()
    same = {i: i.split(":")[0] for i in stream.gold}
    made = {GOOD: {"ecbplus": same}, SHIPPED: {"ecbplus": dict(same)}}
    assert {c.knobs for c in choose([stream], made, fold)} == {SHIPPED}


def test_words_only_varies_the_join_threshold_alone_and_ties_go_to_its_default() -> None:
    from bench.dedup_rules_cv import SHIPPED_WORDS, grid

    points = grid(words_only=True)
    assert SHIPPED_WORDS in points
    assert {p[1:] for p in points} == {SHIPPED_WORDS[1:]}  # floor, confirm: read no embedding
    assert len({p[0] for p in points}) == len(points)
    stream, fold = _stream()
    same = {i: i.split(":")[0] for i in stream.gold}
    other = (SHIPPED_WORDS[0] + 0.04, *SHIPPED_WORDS[1:])
    made = {other: {"ecbplus": same}, SHIPPED_WORDS: {"ecbplus": dict(same)}}
    chosen = choose([stream], made, fold, shipped=SHIPPED_WORDS)
    assert {c.knobs for c in chosen} == {SHIPPED_WORDS}
    moved = choose([stream], made, fold, shipped=other)  # the tie follows `shipped`
    assert {c.knobs for c in moved} == {other}
