"""The no-type fill: the rules' near miss of a clear violent type, confirmed by the learned
model (monitor/classify/learned.py). Sentences are ours."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from bench.train_typing import model_bytes
from monitor.classify.classifier import Classifier
from monitor.classify.explain import explain_json, explain_text
from monitor.classify.learned import (
    SHIPPED_MODEL,
    Decision,
    LearnedTyping,
    TypeModel,
    choose,
    learned_typing,
    stem,
)
from monitor.classify.schema import ACLED_SUB_EVENT_TYPES
from monitor.classify.settings import FILL_TYPES, LearnedSettings
from monitor.classify.watchlist import Watchlist, load_watchlists
from monitor.config import load_config
from monitor.errors import ConfigError

SHELLING = "Shelling/artillery/missile attack"
# "heavy guns" is a weak cue of the shelling type: alone it reaches half of its threshold
WATCHLIST = """
incident_types:
  - id: shelling
    label: Shelling
    acled: Shelling/artillery/missile attack
    keywords: {shelling|artillery: 3, heavy guns: 1}
  - id: mortar-attack
    label: Mortar attack
    parent: shelling
    keywords: {mortar*: 4}
    threshold: 4
  - id: protest
    label: Protest
    acled: Peaceful protest
    keywords: {protest*: 3}
"""
CLEAR = "Heavy guns pounded the village from the hills overnight, wounding three residents."
HARMLESS = "The museum restored the heavy guns of the old fort for visitors."


@pytest.fixture
def watchlist(write: Callable[..., Path]) -> Watchlist:
    return load_watchlists([write(WATCHLIST)])


def _on(watchlist: Watchlist, **settings: object) -> Classifier:
    return Classifier(watchlist, learned=learned_typing(LearnedSettings(**settings)))  # type: ignore[arg-type]


def test_clear_shelling_without_its_keywords_gets_its_type(watchlist: Watchlist) -> None:
    rules_only = Classifier(watchlist).classify(title="", text=CLEAR)
    assert rules_only.acled_sub_event_types == []  # the rules alone came to half the threshold
    filled = _on(watchlist).classify(title="", text=CLEAR)
    assert filled.acled_sub_event_types == [SHELLING]
    (match,) = filled.incident_types
    # the watchlist's own broad type, not its child; the rules' score stays what it was
    assert (match.id, match.score, match.threshold) == ("shelling", 1.5, 3.0)
    assert match.evidence and match.evidence[0].matched == "Heavy guns"
    assert match.learned is not None
    assert match.learned.rule_share == 0.5
    assert match.learned.probability is not None and match.learned.probability >= 0.2
    assert filled.event.incident_type == "shelling"  # alert rules read it as the event


def test_the_model_vetoes_a_near_miss_that_reports_no_violence(watchlist: Watchlist) -> None:
    result = _on(watchlist).classify(title="", text=HARMLESS)
    assert result.incident_types == ()
    assert result.fill_note is not None and "learned model" in result.fill_note
    # without the model's confirmation (min_probability 0) the near miss alone would type it
    loose = _on(watchlist, min_probability=0.0).classify(title="", text=HARMLESS)
    assert loose.acled_sub_event_types == [SHELLING]


def test_explain_shows_the_rules_evidence_and_the_model_score(watchlist: Watchlist) -> None:
    result = _on(watchlist).classify(title="", text=CLEAR)
    vote = result.incident_types[0].learned
    assert vote is not None
    text = explain_text("", CLEAR, result, color=False)
    assert "Shelling [ACLED: Shelling/artillery/missile attack]: score 1.5 / threshold 3" in text
    assert "+1.5  'heavy guns' matched 'Heavy guns'" in text  # the rules' evidence
    assert f"learned model types-v1: p={vote.probability:.2f}" in text  # the model's score
    assert "its rules reached 0.5 of the threshold, the fill needs 0.2" in text
    data = explain_json("", CLEAR, result)
    assert data["incident_types"][0]["learned"]["probability"] == vote.probability
    declined = _on(watchlist).classify(title="", text=HARMLESS)
    assert "gives a clear violent event p=" in explain_text("", HARMLESS, declined, color=False)


def test_switched_off_in_config_the_rules_alone_decide(
    watchlist: Watchlist, write: Callable[..., Path]
) -> None:
    path = write("classify:\n  learned:\n    enabled: false\n", "monitor.yaml")
    settings = load_config(path).settings.classify.learned
    assert learned_typing(settings) is None
    off = Classifier(watchlist, learned=learned_typing(settings))
    for text in (CLEAR, HARMLESS, "Artillery shelling hit the town."):
        assert off.classify(title="", text=text) == Classifier(watchlist).classify(
            title="", text=text
        )


def test_only_types_the_watchlist_defines_are_given(write: Callable[..., Path]) -> None:
    # a watchlist without any violent type: the model's opinion cannot add one
    yaml = "incident_types:\n  - {id: p, label: P, acled: Peaceful protest, keywords: {x: 3}}\n"
    result = _on(load_watchlists([write(yaml)])).classify(title="", text=CLEAR)
    assert result.incident_types == ()
    # and only the fill types: a near-miss protest is not filled
    decision = Decision((("Peaceful protest", 0.9), ("none", 0.1)), ())
    shares = {"Peaceful protest": 0.9}
    assert choose(shares, decision, FILL_TYPES, min_rule_share=0.3, min_probability=0) is None


def test_choose_takes_the_closest_fill_type_when_the_model_agrees() -> None:
    decision = Decision(((SHELLING, 0.5), ("Attack", 0.2), ("none", 0.3)), ())
    shares = {"Armed clash": 0.4, SHELLING: 0.6, "Attack": 0.1}
    assert choose(shares, decision, FILL_TYPES, min_rule_share=0.3, min_probability=0.7) == (
        SHELLING,
        0.6,
        0.7,
    )
    assert choose(shares, decision, FILL_TYPES, min_rule_share=0.3, min_probability=0.71) is None
    assert choose(shares, decision, FILL_TYPES, min_rule_share=0.61, min_probability=0.0) is None
    assert choose(shares, None, FILL_TYPES, min_rule_share=0.3, min_probability=0.9) == (
        SHELLING,
        0.6,
        None,
    )


def test_training_reproduces_the_shipped_weights() -> None:
    assert model_bytes() == SHIPPED_MODEL.read_bytes()


def test_the_shipped_model_reads_and_stems_as_trained() -> None:
    model = TypeModel.load()
    assert model.version == "types-v1" and "none" in model.classes
    assert set(model.classes) - {"none"} <= set(ACLED_SUB_EVENT_TYPES)
    assert set(FILL_TYPES) <= set(model.classes)
    assert [stem(w) for w in ("shelled", "shelling", "shells", "militias", "12")] == [
        "shell",
        "shell",
        "shell",
        "militia",
        "0",
    ]


def test_a_model_file_of_another_format_is_refused(tmp_path: Path) -> None:
    data = json.loads(SHIPPED_MODEL.read_text())
    data["format"] = 3
    path = tmp_path / "model.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ConfigError, match="format 3"):
        TypeModel.load(path)
    with pytest.raises(ConfigError, match="cannot read"):
        learned_typing(LearnedSettings(model=str(tmp_path / "missing.json")))


def test_fill_types_must_be_acled_names(write: Callable[..., Path]) -> None:
    path = write("classify:\n  learned:\n    fill_types: [Armed clash, Battle]\n", "monitor.yaml")
    with pytest.raises(ConfigError, match="fill_types"):
        load_config(path)


def test_a_rule_typed_article_is_left_alone(watchlist: Watchlist) -> None:
    text = "Artillery shelling hit the town; protesters gathered later."
    learned = learned_typing(LearnedSettings())
    assert isinstance(learned, LearnedTyping)
    result = Classifier(watchlist, learned=learned).classify(title="", text=text)
    assert all(m.learned is None for m in result.incident_types)
    assert result.fill_note is None
