"""An article's story_reason in words, read from reasons the grouper itself wrote."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta

from monitor.dedup.combiner import Combiner, StoryScorer
from monitor.dedup.wording import in_words

from .conftest import Process
from .samples import ATTACK_FIRST, ATTACK_SECOND, FLOOD, WIRE, WIRE_REPOST, published
from .test_clusterer import FAJR_1, FAJR_2
from .test_combiner import EVERY_ITEM, _article, _story, _vectors
from .twins import incidents

FIGURES = re.compile(r"\b(text|title|entities|types|decay|meaning|model p=) ?-?\d")


def _words(reason: str) -> str:
    said = in_words(reason)
    assert said and not FIGURES.search(said), (reason, said)  # words, the figures apart
    return said


def test_the_first_report_of_an_event_starts_a_story(process: Process) -> None:
    first = process(FLOOD)
    assert _words(first.reason) == (
        "Started a new story. No recent story shares its distinctive words or names."
    )


def test_a_join_by_the_rules_says_what_the_two_share(process: Process) -> None:
    process(ATTACK_FIRST, FAJR_1)
    second = process(ATTACK_SECOND, FAJR_2)
    assert second.reason.startswith("same event: text ")
    said = _words(second.reason)
    assert said.startswith("Joined this story by the hand-tuned rules. In common: ")
    assert "the names given" in said and "the kind of incident" in said


def test_a_near_copy_says_so(process: Process) -> None:
    process(WIRE)
    copy = process(WIRE_REPOST)
    assert _words(copy.reason).startswith(
        f"Joined this story as a near-copy of report {WIRE.key}: about "
    )


def test_a_twin_elsewhere_says_which_places_kept_it_apart(process: Process) -> None:
    quake, twin = incidents(4)[0].reports[0], incidents(4)[3].reports[0]
    process(quake)
    second = process(replace(twin, published=published(quake) + timedelta(hours=1)))
    said = _words(second.reason)
    assert said.startswith("Started a new story. It nearly copies another report, but the two")
    assert "place the event apart (Jisr Bayda / Tell Hamra)" in said


def test_the_learned_model_s_verdict_gives_its_probability_and_what_weighed() -> None:
    verdict = StoryScorer(EVERY_ITEM, Combiner.load()).judge(
        _article((1.0, 0.0)), _story([1.0, 0.0]), _vectors()
    )
    said = _words(f"same event: {verdict.reason}")
    assert said.startswith(
        f"Joined this story: the learned model gives {verdict.total:.0%} that the two "
        "report the same event (it joins from "
    )
    assert "Weighed most for: " in said


def test_a_merge_after_the_decision_is_told_too() -> None:
    reason = (
        "new story (no candidate); then story 2 merged into story 1: both headline-only, "
        "meaning-sum cosine 0.80 >= 0.55"
    )
    assert _words(reason).endswith(
        "Then story 2 was merged into story 1 (both headline-only and alike in meaning)."
    )


def test_a_reason_of_another_shape_gives_no_words() -> None:
    assert in_words(None) == "" and in_words("") == ""
    assert in_words("moved by hand") == ""
