"""The learned combiner: reproducible training, the shipped file, decisions that say why."""

from __future__ import annotations

import json
import random
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from bench import train_dedup
from monitor.dedup.combiner import (
    FEATURES,
    SHIPPED_MODEL,
    Combiner,
    PairFeatures,
    StoryScorer,
    pair_features,
)
from monitor.dedup.features import ArticleFeatures
from monitor.dedup.profile import StoryProfile, Weighed, Weighted
from monitor.dedup.settings import CombinerSettings, DedupSettings
from monitor.errors import ConfigError

T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)
# The model deciding every item (the default leaves full articles to the rules).
EVERY_ITEM = DedupSettings(combiner=CombinerSettings(enabled=True, scope="all"))


def synthetic_pairs(n: int = 300) -> list:
    """Pairs whose label follows text and meaning, with noise; fixed seed."""
    rng = random.Random(5)
    pairs = []
    for i in range(n):
        x = [rng.random() for _ in FEATURES]
        y = int(x[0] + x[FEATURES.index("meaning")] + rng.gauss(0, 0.1) > 1.0)
        pairs.append(train_dedup.Pair(f"set{i % 3}", tuple(x), y, frozenset({f"g{i}"})))
    return pairs


def test_training_twice_writes_the_same_bytes() -> None:
    first = train_dedup.train(synthetic_pairs(), data_sha256="0" * 64)
    second = train_dedup.train(synthetic_pairs(), data_sha256="0" * 64)
    assert first == second
    model = Combiner.from_dict(json.loads(first))
    assert 0.05 <= model.threshold <= 0.95
    # What decided the labels weighs most.
    weights = dict(zip(FEATURES, model.coefficients, strict=True))
    assert weights["text"] > 1 and weights["meaning"] > 1


def test_the_fit_separates_what_the_labels_follow() -> None:
    pairs = synthetic_pairs()
    model = Combiner.from_dict(json.loads(train_dedup.train(pairs, data_sha256="")))
    right = sum((model.probability(PairFeatures(p.x)) >= model.threshold) == p.y for p in pairs)
    assert right / len(pairs) > 0.85


def test_the_shipped_model_matches_the_features_computed() -> None:
    model = Combiner.load()
    assert len(model.coefficients) == len(FEATURES)
    assert 0 < model.threshold < 1
    assert json.loads(SHIPPED_MODEL.read_text())["training"]["command"] == "make train"


def test_a_model_for_other_features_is_refused(tmp_path) -> None:
    data = json.loads(SHIPPED_MODEL.read_text())
    data["features"] = data["features"][:-1]
    path = tmp_path / "old.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ConfigError, match="features"):
        Combiner.load(path)


def _article(meaning: tuple[float, ...] | None, *, dates=frozenset()) -> ArticleFeatures:
    return ArticleFeatures(
        terms={"quake": 1.0},
        title_terms={"quake": 1.0},
        entities=frozenset(),
        incident_types=frozenset(),
        seen=T0,
        meaning=meaning,
        dates=dates,
    )


def _story(meaning: list[float] | None, *, dates=()) -> StoryProfile:
    return StoryProfile(1, T0, T0, meaning=meaning, dates=set(dates), size=1)


def _vectors() -> tuple[Weighed, Weighed]:
    same = Weighed(Weighted({"quake": 1.0}, 1.0), Weighted({"quake": 1.0}, 1.0))
    return same, same


def test_a_close_pair_joins_and_the_reason_names_what_decided() -> None:
    scorer = StoryScorer(EVERY_ITEM, Combiner.load())
    verdict = scorer.judge(_article((1.0, 0.0)), _story([1.0, 0.0]), _vectors())
    assert verdict.joins
    assert verdict.reason.startswith("model p=")
    assert "text" in verdict.reason or "meaning" in verdict.reason


def test_without_embeddings_the_rules_decide() -> None:
    settings = EVERY_ITEM
    rules = StoryScorer(settings).judge(_article(None), _story(None), _vectors())
    learned = StoryScorer(settings, Combiner.load()).judge(_article(None), _story(None), _vectors())
    assert learned == rules


def test_a_contradiction_still_vetoes_a_join_the_model_would_make() -> None:
    """Other days named on both sides, wording not near-identical: the model cannot have
    learned this from the few such pairs, so the rule stands."""
    scorer = StoryScorer(EVERY_ITEM, Combiner.load())
    article = _article((1.0, 0.0), dates=frozenset({T0.date()}))
    story = _story([1.0, 0.0], dates=[datetime(2026, 2, 20, tzinfo=UTC).date()])
    apart = (Weighed(Weighted({"a": 1.0}, 1.0), Weighted({"quake": 1.0}, 1.0)),) * 2
    mixed = (apart[0], Weighed(Weighted({"a": 0.5, "b": 0.866}, 1.0), apart[1].title))
    verdict = scorer.judge(article, story, mixed)
    assert not verdict.joins
    assert "vetoed: other days" in verdict.reason


def test_place_agreement_reads_the_event_places() -> None:
    article = ArticleFeatures(
        terms={}, title_terms={}, entities=frozenset(), incident_types=frozenset(), seen=T0,
        meaning=(1.0,), place="camp-taji", place_lineage=frozenset({"camp-taji", "iraq"}),
    )  # fmt: skip
    story = StoryProfile(1, T0, T0, meaning=[1.0], places={"iraq"}, place_lineage={"iraq"})
    settings = DedupSettings()
    from monitor.dedup.rules import score

    result = score(article, story, _vectors(), settings)
    named = pair_features(article, story, result).named()
    assert (named["place_same"], named["place_related"], named["place_other"]) == (0, 1, 0)
    story.places = {"mosul"}
    story.place_lineage = {"mosul", "nineveh"}
    named = pair_features(article, story, score(article, story, _vectors(), settings)).named()
    assert named["place_other"] == 1


def _short_pairs(n: int = 300) -> list:
    """Headline pairs whose scores sit lower for the same label than full articles' do."""
    rng = random.Random(11)
    short = FEATURES.index("short")
    pairs = []
    for i in range(n):
        x = [0.0] * len(FEATURES)
        headline = i % 2 == 0
        same = rng.random() < 0.5
        level = (0.45 if same else 0.15) if headline else (0.8 if same else 0.4)
        x[short] = float(headline)
        x[FEATURES.index("meaning_short" if headline else "meaning")] = level + rng.gauss(0, 0.05)
        pairs.append(train_dedup.Pair(f"set{i % 3}", tuple(x), int(same), frozenset({f"g{i}"})))
    return pairs


def test_headlines_get_a_threshold_of_their_own() -> None:
    pairs = _short_pairs()
    data = json.loads(train_dedup.train(pairs, data_sha256=""))
    assert "threshold_short" in data
    model = Combiner.from_dict(data)
    right = sum(
        (model.probability(PairFeatures(p.x)) >= model.threshold_for(PairFeatures(p.x))) == p.y
        for p in pairs
    )
    assert right / len(pairs) > 0.95
    headline = next(p for p in pairs if p.x[FEATURES.index("short")])
    assert f"{model.threshold_short:.2f}" in model.judge(PairFeatures(headline.x)).reason


def _headline(meaning: tuple[float, ...]) -> ArticleFeatures:
    return ArticleFeatures(
        terms={"quake": 1.0}, title_terms={"quake": 1.0}, entities=frozenset(),
        incident_types=frozenset(), seen=T0, meaning=meaning, short=True,
    )  # fmt: skip


def test_scope_headlines_leaves_full_articles_to_the_rules() -> None:
    settings = DedupSettings(combiner=CombinerSettings(enabled=True, scope="headlines"))
    scorer = StoryScorer(settings, Combiner.load())
    article, story = _article((1.0, 0.0)), _story([1.0, 0.0])
    assert scorer.judge(article, story, _vectors()) == StoryScorer(settings).judge(
        article, story, _vectors()
    )
    verdict = scorer.judge(_headline((1.0, 0.0)), story, _vectors())
    assert verdict.reason.startswith("model p=")


def test_headline_cover_is_the_share_of_the_articles_weight_the_story_holds() -> None:
    article = Weighted({"quake": 3.0, "tonga": 1.0}, 1.0)
    assert article.covered_by(Weighted({"quake": 0.1, "chile": 5.0}, 1.0)) == 0.75
    assert article.covered_by(Weighted({}, 0.0)) == 0.0
    assert Weighted({}, 0.0).covered_by(article) == 0.0


def _leading(figures: frozenset[str], meaning=(1.0, 0.0), *, dates=frozenset()) -> ArticleFeatures:
    article = _article(meaning, dates=dates)
    article.figures = figures
    return article


def test_lede_figures_apart_and_shared_are_features() -> None:
    from monitor.dedup.rules import score

    settings = DedupSettings()
    story = _story([1.0, 0.0])
    story.figures = {"7", "12"}
    for figures, apart, shared in (({"6"}, 1.0, 0.0), ({"7"}, 0.0, 1.0), (set(), 0.0, 0.0)):
        article = _leading(frozenset(figures))
        named = pair_features(article, story, score(article, story, _vectors(), settings)).named()
        assert (named["other_figures"], named["figures_shared"]) == (apart, shared)


def test_the_shipped_model_holds_a_twin_with_other_figures_apart() -> None:
    """Words and meaning alike (text 0.3, meaning 0.7), a fight stopped in the sixth round
    against one stopped in the seventh: the shipped model is far less sure than when the
    figures agree."""
    from monitor.dedup.rules import score

    model, settings = Combiner.load(), DedupSettings()
    story = _story([0.7, 0.71414])
    story.figures = {"7"}
    title = Weighted({"quake": 1.0}, 1.0)
    vectors = (
        Weighed(Weighted({"a": 1.0}, 1.0), title),
        Weighed(Weighted({"a": 0.3, "b": 0.95394}, 1.0), title),
    )
    p = {}
    for name, figures in (("twin", {"6"}), ("same", {"7"})):
        article = _leading(frozenset(figures))
        result = score(article, story, vectors, settings)
        p[name] = model.probability(pair_features(article, story, result))
    weights = dict(zip(FEATURES, model.coefficients, strict=True))
    assert weights["other_figures"] < 0
    assert p["twin"] < p["same"] - 0.2


def test_other_days_weighed_not_vetoed_when_told_so() -> None:
    """`combiner.days: weigh`: a close pair naming other days joins on the model's word,
    and the reason says the contradiction was weighed; `veto` (default) keeps it apart."""
    article = _article((1.0, 0.0), dates=frozenset({T0.date()}))
    story = _story([1.0, 0.0], dates=[datetime(2026, 2, 20, tzinfo=UTC).date()])
    title = Weighted({"quake": 1.0}, 1.0)
    reworded = (  # text cosine 0.5: not near-identical, which would override the veto
        Weighed(Weighted({"a": 1.0}, 1.0), title),
        Weighed(Weighted({"a": 0.5, "b": 0.866}, 1.0), title),
    )
    vetoing = StoryScorer(EVERY_ITEM, Combiner.load()).judge(article, story, reworded)
    assert not vetoing.joins and "vetoed: other days" in vetoing.reason
    weigh = DedupSettings(combiner=CombinerSettings(enabled=True, scope="all", days="weigh"))
    weighing = StoryScorer(weigh, Combiner.load()).judge(article, story, reworded)
    assert weighing.joins
    assert "weighed, not vetoed: other days" in weighing.reason


def _reworded() -> tuple[Weighed, Weighed]:
    """Text cosine 0.5, the same headline word: closely worded, not near-identical."""
    title = Weighted({"quake": 1.0}, 1.0)
    return (
        Weighed(Weighted({"a": 1.0}, 1.0), title),
        Weighed(Weighted({"a": 0.5, "b": 0.866}, 1.0), title),
    )


@pytest.mark.parametrize("bar, joined", [(0.45, True), (0.6, False)])
def test_other_days_alone_is_outweighed_at_the_days_bar(bar: float, joined: bool) -> None:
    """A full report naming only other days than the story joins when the texts' cosine
    reaches `days_conflict_threshold` (rules path, the default for full reports), and the
    reason says what the text outweighed."""
    settings = DedupSettings(days_conflict_threshold=bar)
    article = _article((1.0, 0.0), dates=frozenset({T0.date()}))
    story = _story([1.0, 0.0], dates=[datetime(2026, 2, 27, tzinfo=UTC).date()])
    verdict = StoryScorer(settings, Combiner.load()).judge(article, story, _reworded())
    assert verdict.joins is joined
    assert ("outweighed by text 0.50: other days" in verdict.reason) is joined


def test_the_days_bar_does_not_lower_the_bar_for_other_means() -> None:
    """Other means of attack at the same wording stays apart under a low days bar."""
    settings = DedupSettings(days_conflict_threshold=0.3)
    article = replace(_article((1.0, 0.0)), means=frozenset({"Air/drone strike"}))
    story = _story([1.0, 0.0])
    story.means = {"Shelling/artillery/missile attack"}
    verdict = StoryScorer(settings, Combiner.load()).judge(article, story, _reworded())
    assert not verdict.joins and "other means of attack" in verdict.reason


@pytest.mark.parametrize("bar, joined", [(0.45, True), (0.55, False)])
def test_the_model_path_reads_the_same_days_bar(bar: float, joined: bool) -> None:
    """Headline-only items, judged by the model: other days vetoes below the bar, and a
    join above it says the text outweighed it."""
    settings = DedupSettings(days_conflict_threshold=bar)
    article = replace(_article((1.0, 0.0), dates=frozenset({T0.date()})), short=True)
    story = _story([1.0, 0.0], dates=[datetime(2026, 2, 27, tzinfo=UTC).date()])
    verdict = StoryScorer(settings, Combiner.load()).judge(article, story, _reworded())
    assert verdict.joins is joined
    said = "outweighed by text 0.50: other days" if joined else "vetoed: other days"
    assert said in verdict.reason
