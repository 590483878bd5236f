"""The chooser levers measured by bench/incident_typing_priors.py, on hand-made readings.

Their figures are only comparable with the shipped setup's if "off" gives exactly its
answers, a prior moves the chooser the way its sign says, and the fill's pick is reordered
only when asked; the per-class cost must rank what loses most first.
"""

from __future__ import annotations

import math

from bench.incident_typing_cv import OFF, Reading, ThresholdKnob
from bench.incident_typing_priors import GRID, losses, prior_knob, with_prior
from monitor.classify.learned import Decision

# the model leans a little to an attack: Attack 0.5, Armed clash 0.4 (among the two: 0.56/0.44)
LEANING = Decision((("Attack", 0.5), ("Armed clash", 0.4), ("none", 0.1)), ())


def _reading(shares: dict[str, float], fired: tuple[str, ...]) -> Reading:
    return Reading(fired[0] if fired else "none", "none", 0.0, shares, fired_all=fired)


def test_a_prior_raises_its_class_and_keeps_a_distribution() -> None:
    raised = with_prior(LEANING, {"Armed clash": 0.5})
    assert raised.ranked[0][0] == "Armed clash"  # 0.4 e^0.5 = 0.66 > 0.5
    assert math.isclose(sum(p for _, p in raised.ranked), 1.0)
    assert with_prior(LEANING, {"Armed clash": 0.0}) is LEANING


def _knob() -> tuple[dict[str, Reading], ThresholdKnob]:
    readings = {
        # the rules fired both, attack first
        "fired": _reading({"Attack": 1.2, "Armed clash": 1.1}, ("Attack", "Armed clash")),
        # no rule fired; the fill gives the closest, an attack, a clash close behind
        "filled": _reading({"Attack": 0.8, "Armed clash": 0.7}, ()),
    }
    readings = {
        k: Reading(
            r.fired,
            r.near,
            r.near_share,
            r.shares,
            Decision((("Attack", 0.6), ("none", 0.4)), ()),
            r.fired_all,
        )
        for k, r in readings.items()
    }
    choices = dict.fromkeys(readings, LEANING)
    return readings, prior_knob(readings, choices, dict.fromkeys(readings, "x"), (0.3, 0.2))


def test_off_is_the_shipped_setup_and_a_prior_decides_the_close_call() -> None:
    readings, knob = _knob()
    assert GRID[0][0] == -1 and GRID[0][2] == OFF  # "off" first: ties keep the shipped setup
    assert [knob.predict(i, GRID[0]) for i in readings] == ["Attack", "Attack"]
    # no prior: the model prefers the attack the rules put first, nothing moves
    assert knob.predict("fired", (1, 1.0, 0.0, (0.0, 0.0), False)) == "Attack"
    # a clash prior of 0.5 turns the model's preference, and the fired clash goes first
    assert knob.predict("fired", (1, 1.0, 0.0, (0.5, 0.0), False)) == "Armed clash"
    # ...but not past a margin it does not clear (0.57 - 0.43 < 0.3)
    assert knob.predict("fired", (1, 1.0, 0.3, (0.5, 0.0), False)) == "Attack"


def test_the_fills_pick_is_reordered_only_when_asked() -> None:
    _, knob = _knob()
    asked = (1, 0.3, 0.0, (0.5, 0.0), True)
    assert knob.predict("filled", asked) == "Armed clash"
    assert knob.predict("filled", (*asked[:4], False)) == "Attack"
    # the clash must be a candidate: within min_share of its threshold
    assert knob.predict("filled", (1, 1.0, 0.0, (0.5, 0.0), True)) == "Attack"


def test_the_costliest_class_is_listed_first() -> None:
    gold = ["Attack"] * 6 + ["Armed clash"] * 2 + ["none"] * 2
    guess = ["Armed clash"] * 3 + ["Attack"] * 3 + ["Armed clash"] * 2 + ["none"] * 2
    table = losses(gold, guess)
    rows = [line for line in table.splitlines() if line.startswith("| ") and "class" not in line]
    assert rows[0].startswith("| Attack | 6 |")
    assert "Attack -> Armed clash 3" in table
