"""bench/dedup_actions.py: the (action, object) pairs a lede reports, and how they clash."""

from __future__ import annotations

from collections import Counter

from bench.dedup_actions import actions, clash, lemma, share


def test_lemma_makes_one_key_of_a_verbs_forms() -> None:
    assert {lemma(w) for w in ("hire", "hired", "hires", "hiring")} == {"hir"}
    assert {lemma(w) for w in ("stop", "stops", "stopped", "stopping")} == {"stop"}
    assert lemma("struck") == lemma("strike")
    assert lemma("fire") != lemma("hire")


def test_actions_read_headline_present_past_and_passive() -> None:
    assert ("stop", "thompson") in actions("Klitschko stops Tony Thompson in 6th round", [])
    assert ("hir", "cheek") in actions("Sixers Hire Maurice Cheeks as Head Coach", [])
    fired = actions(
        "Sixers shake-up", ["The Philadelphia 76ers fired coach Maurice Cheeks on Saturday."]
    )
    assert ("fir", "cheek") in fired
    # passive: the word before the auxiliary is what the action was done to
    assert ("fir", "cheek") in actions("Maurice Cheeks has been fired as head coach", [])


def test_names_and_reporting_verbs_are_not_actions() -> None:
    pairs = actions("Police said Monday the Bank of Oregon was open", [])
    assert not any(verb in {"said", "bank", "oregon"} for verb, _ in pairs)
    assert actions("27 NOVEMBER, 2005", []) == frozenset()


def test_only_the_headline_and_first_sentence_are_read() -> None:
    pairs = actions("Quake rocks island", ["It was felt far away.", "Rescuers freed a boy."])
    assert ("rock", "island") in pairs
    assert not any(verb == "fre" for verb, _ in pairs)


def test_a_clash_shares_an_action_or_an_object_but_never_the_pair() -> None:
    story = Counter({("fir", "cheek"): 3})
    assert clash(frozenset({("hir", "cheek")}), story)  # same coach, other action
    assert clash(frozenset({("fir", "o'brien")}), story)  # same action, other coach
    assert not clash(frozenset({("fir", "cheek"), ("hir", "x")}), story)  # agrees once
    assert not clash(frozenset({("win", "title")}), story)  # nothing in common: no clash
    assert not clash(frozenset(), story)


def test_share_is_the_part_of_the_articles_pairs_the_story_holds() -> None:
    story = Counter({("stop", "thompson"): 2, ("retain", "titl"): 1})
    assert share(frozenset({("stop", "thompson"), ("retain", "belt")}), story) == 0.5
    assert share(frozenset(), story) is None


def test_actions_on_names_keep_only_objects_the_text_capitalises() -> None:
    from bench.dedup_actions import actions_on_names

    pairs = actions_on_names("Klitschko stops Thompson", ["Pirates boarded a vessel at dawn."])
    assert pairs == frozenset({("stop", "thompson")})
    # a Title Case headline capitalises every word: its objects are not read as names
    assert actions_on_names("Sixers Hire Maurice Cheeks", []) == frozenset()


COACH = (
    "The Sixers {verb} coach Maurice Cheeks on Saturday after a meeting of the club's owners. "
    "Fans outside the arena argued about the decision while the team trained for its next "
    "game. The general manager said the club would speak about its plans for the season soon."
)


def test_the_probe_refuses_a_join_its_signal_fires_on_and_says_so() -> None:
    from bench.dedup_actions import ActionsScorer
    from tests.dedup.test_errors_tool import _pair

    settings, article, story, vectors = _pair(
        COACH.format(verb="fired"), COACH.format(verb="hired")
    )
    shipped = ActionsScorer(settings)
    assert shipped.judge(article, story, vectors).joins  # as shipped: one story
    probe = ActionsScorer(settings, ("clash", "bar", 1.1))
    probe.pairs_of = frozenset({("hir", "cheek")})
    probe.stories[story.id][("fir", "cheek")] += 1
    verdict = probe.judge(article, story, vectors)
    assert not verdict.joins and "other action (clash)" in verdict.reason
    assert probe.pairs[-1]["clash"] and not probe.pairs[-1]["joins"]
    # the same pair with the same action on both sides: no clash, the join stands
    probe.pairs_of = frozenset({("fir", "cheek")})
    assert probe.judge(article, story, vectors).joins
