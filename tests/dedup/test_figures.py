"""The figures a report leads with (figures.py): what same-kind twins do not share."""

from __future__ import annotations

from monitor.dedup.figures import figures, lede_figures
from monitor.dedup.text import sentences


def test_digits_words_and_ordinals_read_as_one_figure() -> None:
    assert figures("stopped him in the 6th round") == figures("stopped him in round six")
    assert figures("the sixth round") == {"6"}
    assert figures("Ten killed, 50 hurt in a 6.1 quake") == {"10", "50", "6.1"}
    assert figures("1,250 homes, 20 hurt") == {"1250", "20"}


def test_years_dates_and_common_words_are_not_figures() -> None:
    # "when" is read by classify/dates.py; "one", "first" and "second" are in any sentence
    assert figures("On March 4, 2009 one man was first to speak, a second followed") == set()
    assert figures("the 2013 season at 10:53, a $200 offer") == set()


def test_only_the_headline_and_first_sentence_count() -> None:
    body = "Klitschko stopped Thompson in the sixth round. He won 51 fights by knockout."
    assert lede_figures("Klitschko retains titles", sentences(body)) == {"6"}


def test_a_story_keeps_its_reports_figures_across_a_restart() -> None:
    from datetime import UTC, datetime

    from monitor.dedup.features import ArticleFeatures
    from monitor.dedup.profile import StoryProfile

    t0 = datetime(2026, 3, 1, tzinfo=UTC)
    story = StoryProfile(1, t0, t0)
    story.add(ArticleFeatures({}, {}, frozenset(), frozenset(), t0, figures=frozenset({"6"})))
    again = StoryProfile.from_features(
        1, t0, t0, story.to_features(), incident_types=[], revision=1
    )
    assert again.figures == {"6"}


def test_a_headline_gives_no_figures_to_compare() -> None:
    from datetime import UTC, datetime

    from monitor.dedup.features import features_of
    from monitor.types import Article, Classification

    t0 = datetime(2026, 3, 1, tzinfo=UTC)
    body = " ".join(["Klitschko stopped Thompson in the sixth round on Saturday night."] * 6)
    full = Article(key="a", url=None, title="Klitschko wins", text=body, published=t0)
    headline = Article(key="b", url=None, title="Klitschko wins in six", text="", published=t0)
    assert features_of(full, Classification(), t0).figures == {"6"}
    assert features_of(headline, Classification(), t0).figures == frozenset()
