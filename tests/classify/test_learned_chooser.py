"""The learned chooser between confusable candidate types (monitor/classify/learned.py,
``rechoose``): when the rules' first type is one of an easily confused group, a model trained
on our own sentences may put another member first. Sentences are ours."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from bench.train_typing import MODELS, model_bytes
from monitor.classify.classifier import Classifier
from monitor.classify.explain import explain_json, explain_text
from monitor.classify.learned import (
    CHOOSER_MODEL,
    Decision,
    TypeModel,
    candidates,
    learned_typing,
    rechoose,
)
from monitor.classify.normalize import FoldedText
from monitor.classify.settings import ChooserSettings, LearnedSettings
from monitor.classify.watchlist import Watchlist, load_watchlists
from monitor.config import load_config
from monitor.errors import ConfigError

CLASH, ATTACK = "Armed clash", "Attack"
# both types fire on the sentences below with the same share, so the rules rank the clash
# first (the watchlist's order breaks the tie); "riot" is a type outside every group
WATCHLIST = """
incident_types:
  - id: clash
    label: Armed clash
    acled: Armed clash
    keywords: {gunfire|fighting: 3, soldier*: 1}
  - id: attack
    label: Attack
    acled: Attack
    keywords: {killed: 3}
  - id: riot
    label: Riot
    acled: Violent demonstration
    keywords: {riot*: 6}
"""
CIVILIANS = "Gunfire was heard as gunmen killed civilians in the market."
NEUTRAL = "Gunfire was heard as gunmen killed two people in the market."
SOLDIERS = "Soldiers heard gunfire near the market."  # only the clash fires


def _model(write: Callable[..., Path]) -> Path:
    """A chooser whose only cue is "civilian(s)": toward an attack, away from a clash."""
    data = {
        "format": 1,
        "version": "chooser-test",
        "classes": [CLASH, ATTACK, "none"],
        "bias": [0.0, 0.0, 0.0],
        "weights": {"w:civilian": [-2.0, 2.0, 0.0]},
    }
    return write(json.dumps(data), "chooser.json")


@pytest.fixture
def watchlist(write: Callable[..., Path]) -> Watchlist:
    return load_watchlists([write(WATCHLIST)])


def _classifier(watchlist: Watchlist, write: Callable[..., Path], **chooser: object) -> Classifier:
    settings = LearnedSettings(
        chooser=ChooserSettings(model=str(_model(write)), **chooser)  # type: ignore[arg-type]
    )
    return Classifier(watchlist, learned=learned_typing(settings))


def test_the_chooser_puts_the_type_the_text_supports_first(
    watchlist: Watchlist, write: Callable[..., Path]
) -> None:
    rules = Classifier(watchlist).classify(title="", text=CIVILIANS)
    assert rules.acled_sub_event_types == [CLASH, ATTACK]
    chosen = _classifier(watchlist, write).classify(title="", text=CIVILIANS)
    assert chosen.acled_sub_event_types == [ATTACK, CLASH]
    first = chosen.incident_types[0]
    assert first.chosen is not None and first.chosen.rules_first == CLASH
    assert dict(first.chosen.candidates)[ATTACK] > 0.9
    # the rules' evidence of both types stays as it was; only the order changed
    assert {m.id: m.evidence for m in chosen.incident_types} == {
        m.id: m.evidence for m in rules.incident_types
    }
    assert chosen.event.incident_type == "attack"  # the event's type follows the pick


def test_without_a_clear_preference_the_rules_order_stands(
    watchlist: Watchlist, write: Callable[..., Path]
) -> None:
    result = _classifier(watchlist, write).classify(title="", text=NEUTRAL)
    assert result.acled_sub_event_types == [CLASH, ATTACK]
    assert all(m.chosen is None for m in result.incident_types)
    assert result.chooser_note is not None and "kept the rules' first type" in result.chooser_note
    # a margin of zero lets a tie stand too: the rules' first wins ties
    tie = _classifier(watchlist, write, min_margin=0.0).classify(title="", text=NEUTRAL)
    assert tie.acled_sub_event_types == [CLASH, ATTACK]


def test_an_unfired_group_member_is_a_candidate_only_from_min_share(
    watchlist: Watchlist, write: Callable[..., Path]
) -> None:
    text = "Gunfire was heard near the market; civilians fled."  # the attack's rules: nothing
    strict = _classifier(watchlist, write).classify(title="", text=text)
    assert strict.acled_sub_event_types == [CLASH]
    assert strict.chooser_note is None  # nothing to choose from: the model was not asked
    loose = _classifier(watchlist, write, min_share=0.0).classify(title="", text=text)
    assert loose.acled_sub_event_types == [ATTACK, CLASH]
    assert loose.incident_types[0].score == 0  # below its threshold: the chooser gave it


def test_types_outside_the_groups_are_left_to_the_rules(
    watchlist: Watchlist, write: Callable[..., Path]
) -> None:
    text = "Rioters set fire to the office; civilians were killed."
    result = _classifier(watchlist, write, min_share=0.0).classify(title="", text=text)
    assert result.acled_sub_event_types == ["Violent demonstration", ATTACK]
    assert all(m.chosen is None for m in result.incident_types)


def test_explain_shows_the_choice_and_the_rules_evidence(
    watchlist: Watchlist, write: Callable[..., Path]
) -> None:
    result = _classifier(watchlist, write).classify(title="", text=CIVILIANS)
    text = explain_text("", CIVILIANS, result, color=False)
    assert "Attack [ACLED: Attack]: score 4.5 / threshold 3" in text
    assert "the rules ranked Armed clash first" in text
    assert "learned chooser chooser-test" in text
    assert "Attack p=0.98, Armed clash p=0.02" in text
    assert "it read civilian +2.00" in text
    assert "+4.5  'killed' matched 'killed'" in text  # the rules' evidence of each type
    assert "+4.5  'gunfire|fighting' matched 'Gunfire'" in text
    data = explain_json("", CIVILIANS, result)
    assert data["incident_types"][0]["chosen"]["rules_first"] == CLASH
    kept = _classifier(watchlist, write).classify(title="", text=NEUTRAL)
    assert "kept the rules' first type, Armed clash" in explain_text("", NEUTRAL, kept, color=False)


def test_switched_off_the_rules_order_is_restored_exactly(
    watchlist: Watchlist, write: Callable[..., Path]
) -> None:
    off = Classifier(
        watchlist,
        learned=learned_typing(
            LearnedSettings(chooser=ChooserSettings(enabled=False, model=str(_model(write))))
        ),
    )
    no_learning = load_config(write("classify:\n  learned:\n    enabled: false\n", "m.yaml"))
    assert learned_typing(no_learning.settings.classify.learned) is None
    for text in (CIVILIANS, NEUTRAL, SOLDIERS):
        rules = Classifier(watchlist).classify(title="", text=text)
        assert off.classify(title="", text=text) == rules


def test_candidates_and_rechoose() -> None:
    groups = [(ATTACK, CLASH), ("Violent demonstration", "Mob violence")]
    shares = {CLASH: 1.2, ATTACK: 0.6, "Mob violence": 0.9}
    assert candidates([CLASH], shares, groups, min_share=0.5) == (CLASH, ATTACK)
    assert candidates([CLASH], shares, groups, min_share=0.7) == ()
    assert candidates([CLASH, ATTACK], shares, groups, min_share=1.0) == (CLASH, ATTACK)
    assert candidates(["Arrests", CLASH, ATTACK], shares, groups, min_share=0) == ()
    decision = Decision(((ATTACK, 0.5), ("none", 0.3), (CLASH, 0.2)), ())
    # among the two: Attack 5/7, Armed clash 2/7
    choice = rechoose([CLASH, ATTACK], shares, decision, groups, min_share=1, min_margin=0.4)
    assert choice is not None and choice.name == ATTACK and choice.rules_first == CLASH
    assert choice.candidates == ((ATTACK, 0.5 / 0.7), (CLASH, 0.2 / 0.7))
    assert rechoose([CLASH, ATTACK], shares, decision, groups, min_share=1, min_margin=0.43) is None
    assert rechoose([ATTACK, CLASH], shares, decision, groups, min_share=1, min_margin=0) is None


def test_the_shipped_chooser_tells_a_battle_from_an_attack_on_civilians() -> None:
    model = TypeModel.load(CHOOSER_MODEL)
    assert model.version == "chooser-v1"
    pair = (ATTACK, CLASH)

    def pick(text: str) -> str:
        return model.read(FoldedText("\n" + text, title_end=0)).among(pair)[0][0]

    assert pick("Gunmen shot dead three villagers working in their fields.") == ATTACK
    assert pick("Troops and rebels exchanged fire for hours; the rebels withdrew.") == CLASH


def test_training_reproduces_both_shipped_models() -> None:
    assert set(MODELS) >= {CHOOSER_MODEL}
    for path, (version, paths) in MODELS.items():
        assert model_bytes(paths=paths, version=version) == path.read_bytes(), path.name


def test_chooser_groups_must_be_acled_names(write: Callable[..., Path]) -> None:
    path = write(
        "classify:\n  learned:\n    chooser:\n      groups: [[Attack, Battle]]\n", "monitor.yaml"
    )
    with pytest.raises(ConfigError, match="groups"):
        load_config(path)
