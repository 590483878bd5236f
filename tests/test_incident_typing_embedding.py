"""The embedding model measured by bench/incident_typing_embedding.py, on synthetic vectors.

Its figures are only worth reporting if the fit is the same on every run, small differences
of the int8 embeddings below the rounding do not change it, and the re-ranker's "off" is
exactly the setup it is compared with.
"""

from __future__ import annotations

import numpy as np

from bench.incident_typing_cv import Reading
from bench.incident_typing_embedding import (
    INPUT_DIGITS,
    RERANK_GRID,
    SENTENCES,
    fit,
    rerank_knob,
)
from monitor.classify.learned import Decision, iter_examples
from monitor.classify.schema import ACLED_SUB_EVENT_TYPES


def _data() -> tuple[list[str], np.ndarray]:
    # two classes on two axes of a 384-d unit sphere, with a little spread
    rng = np.random.default_rng(7)
    vectors, labels = [], []
    for label, axis in (("Attack", 0), ("none", 1)):
        for _ in range(10):
            v = rng.normal(0, 0.05, 384)
            v[axis] += 1.0
            vectors.append(v / np.linalg.norm(v))
            labels.append(label)
    return labels, np.array(vectors)


def test_the_fit_is_the_same_twice_and_below_the_rounding() -> None:
    labels, x = _data()
    one, two = fit(labels, x), fit(labels, x.copy())
    assert one.weights.tobytes() == two.weights.tobytes()
    assert one.bias.tobytes() == two.bias.tobytes()
    # the fit reads the embeddings rounded: a change below the rounding changes nothing
    rounded = np.round(x, INPUT_DIGITS)
    nudged = fit(labels, rounded + 0.2 * 10**-INPUT_DIGITS)
    assert nudged.weights.tobytes() == fit(labels, rounded).weights.tobytes()


def test_the_fit_separates_what_it_was_shown() -> None:
    labels, x = _data()
    model = fit(labels, x)
    assert model.read(x[0]).ranked[0][0] == "Attack"
    assert model.read(x[-1]).ranked[0][0] == "none"


def _reading(shares: dict[str, float], fired: tuple[str, ...]) -> Reading:
    return Reading(fired[0] if fired else "none", "none", 0.0, shares, fired_all=fired)


def test_the_re_ranker_off_is_the_setup_it_is_compared_with() -> None:
    readings = {
        "a": _reading({"Attack": 1.4, "Armed clash": 0.8}, ("Attack",)),
        "b": _reading({"Armed clash": 0.6}, ()),
    }
    decisions = {
        i: Decision((("Armed clash", 0.9), ("Attack", 0.05), ("none", 0.05)), ()) for i in readings
    }
    base = {"a": "Attack", "b": "none"}
    knob = rerank_knob(readings, decisions, {"a": "x", "b": "x"}, base.__getitem__)
    assert RERANK_GRID[0][0] == 0  # "off" is first: ties keep the shipped setup
    assert [knob.predict(i, RERANK_GRID[0]) for i in "ab"] == ["Attack", "none"]
    # weight 0.5, shares capped at 1: clash 0.8 + 0.45 beats attack 1 + 0.025
    assert knob.predict("a", (0.5, 1.0, 0.5)) == "Armed clash"
    # a strong rule (share kept up to 1.5) is not overruled at that weight
    assert knob.predict("a", (0.5, 1.5, 0.5)) == "Attack"
    # no type: the near miss gets a type when share + weight x p reaches 1
    assert knob.predict("b", (0.5, 1.0, 0.5)) == "Armed clash"  # 0.6 + 0.45
    assert knob.predict("b", (0.25, 1.0, 0.5)) == "none"  # 0.6 + 0.225
    assert knob.predict("b", (0.5, 1.0, 0.7)) == "none"  # below min_share: no candidate


def test_our_sentences_are_labelled_with_acled_names() -> None:
    names = set(ACLED_SUB_EVENT_TYPES) | {"none"}
    texts: list[str] = []
    for path in SENTENCES:
        rows = list(iter_examples(path))
        assert rows, path
        assert {label for label, _ in rows} <= names, path
        texts += [text for _, text in rows]
    assert len(texts) == len(set(texts))  # no sentence counted twice
