"""How dedup weighs words: a general-English prior, contact furniture, cached story vectors."""

from __future__ import annotations

from datetime import UTC, datetime

from monitor.dedup.features import ArticleFeatures
from monitor.dedup.index import REWEIGH_GROWTH, DocumentFrequencies, StoryIndex
from monitor.dedup.prior import PRIOR_DOCUMENTS
from monitor.dedup.profile import StoryProfile
from monitor.dedup.settings import DedupSettings
from monitor.dedup.text import sentences, term_frequencies

T0 = datetime(2024, 3, 1, tzinfo=UTC)


def features(title: str, body: str) -> ArticleFeatures:
    terms = term_frequencies(title, body)
    return ArticleFeatures(terms, term_frequencies("", title), frozenset(), frozenset(), T0)


def test_fresh_stream_already_knows_common_words_from_rare_names() -> None:
    df = DocumentFrequencies()
    assert df.documents == 0
    # Nothing learned yet: without the prior every word would weigh the same.
    assert df.idf("kataib") > df.idf("militia") > df.idf("market") > df.idf("people")


def test_the_stream_outweighs_the_prior_as_it_grows() -> None:
    df = DocumentFrequencies()
    rare_before = df.idf("zorblax")
    for _ in range(PRIOR_DOCUMENTS):
        df.learn(["zorblax", "filler"])
    # A word in every article of the stream ends up weighing like a common word.
    assert df.idf("zorblax") < df.idf("market") < rare_before


def test_contact_lines_of_press_releases_are_not_story_text() -> None:
    text = (
        "The plant will open in May. Contact Jane: jane@agency.localhost US: (339)-555-0101. "
        "Call +1 339-555-0101 for details. Visit www.agency.localhost today. It employs 1,200."
    )
    assert sentences(text) == ["The plant will open in May.", "It employs 1,200."]


def test_story_vectors_are_reused_until_the_story_or_the_stream_changes() -> None:
    index = StoryIndex(DedupSettings())
    story = StoryProfile(1, T0, T0)
    story.add(features("Rocket attack on Camp Redwood", "Rockets hit the base at night."))
    first = index.weighed_story(story)
    index.df.learn(["rocket"])
    assert index.weighed_story(story) is first  # one more article barely moves the weights
    story.add(features("Base attacked again", "Rockets and drones hit the base."))
    second = index.weighed_story(story)
    assert second is not first and "drone" in second.text.vector
    for _ in range(int(REWEIGH_GROWTH * PRIOR_DOCUMENTS) + 2):
        index.df.learn(["rocket"])
    third = index.weighed_story(story)
    assert third is not second
    assert third.text.vector["rocket"] < second.text.vector["rocket"]  # now a common word
