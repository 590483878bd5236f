"""The learned combiner: how likely an article reports the same event as a candidate story.

The grouper's scores (text and headline cosines, shared entities and types, days apart,
meaning, contradictions, place and actor agreement of the event reading) are
one typed feature vector, ``PairFeatures``. A logistic regression fitted on labelled pairs
of the development data (`bench/train_dedup.py`, `make train`) weighs them; its
coefficients ship as a small versioned JSON file beside this module. At run time scoring
is a dot product and a sigmoid, and the reason names the features that moved it most.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from monitor.dedup.features import ArticleFeatures
from monitor.dedup.profile import StoryProfile, Weighed
from monitor.dedup.rules import (
    OTHER_DAYS,
    Score,
    joins,
    named_apart,
    outweighed,
    overlap,
    place_veto,
    score,
    standing,
)
from monitor.dedup.settings import DedupSettings
from monitor.dedup.vectors import meaning_cosine
from monitor.errors import ConfigError
from monitor.resources import read_model_file

SHIPPED_MODEL = Path(__file__).parent / "model" / "combiner-v3.json"

# Order is the model file's order; a file naming other features is refused.
FEATURES: tuple[str, ...] = (
    "text",  # cosine of idf-weighed terms, article vs. story centroid
    "title",  # the same for headlines
    "rules_total",  # the hand-tuned score before decay: text + title + entity/type bonus
    "entities",  # share of the smaller entity set found in the other
    "types",  # the same for incident types
    "meaning",  # sentence-embedding cosine, full articles
    "meaning_short",  # the same for headline-only items
    "short",  # the article is a headline or summary
    "same_day",  # article and story say things happened on a common day
    "other_days",  # both name days, none in common
    "other_means",  # both name a means of attack, none in common
    "other_target",  # both name a target in the lede, none in common
    "place_same",  # the event readings put it in the same place
    "place_related",  # one place inside the other (a town and its province)
    "place_other",  # both placed, and apart
    "actors_shared",  # share of the event's actors in common
    "actors_other",  # both name actors, none in common
    # Headline-only items read their word scores apart from full articles' (as meaning and
    # meaning_short): two headlines of one story share fewer words than two reports do, so
    # one weight for both fits neither. For a headline the plain features above are 0.
    "title_cover",  # share of the article's weighed headline terms the story's headlines hold
    "text_short",
    "title_short",
    "rules_total_short",
    "title_cover_short",
    # Same-kind twins (issue 13) share their words and their meaning, not their figures.
    "other_figures",  # both ledes give figures, none in common (figures.py)
    "figures_shared",  # share of the smaller set of lede figures found in the other
)
# The features that headline-only items carry in their *_short copy instead.
_SPLIT_SHORT = ("text", "title", "rules_total", "title_cover")


@dataclass(frozen=True, slots=True)
class PairFeatures:
    """One (article, candidate story) pair as the combiner reads it, in ``FEATURES`` order."""

    values: tuple[float, ...]

    def named(self) -> dict[str, float]:
        return dict(zip(FEATURES, self.values, strict=True))


def pair_features(article: ArticleFeatures, story: StoryProfile, score: Score) -> PairFeatures:
    """The features of ``article`` against ``story``; ``score`` is the rule scorer's reading
    of the same pair (rules.score), whose parts are reused rather than recomputed. Both
    sides must have a meaning (the model was fitted on such pairs only)."""
    meaning = score.meaning
    if meaning is None:
        raise ValueError("pair_features needs both embeddings")
    place = _place_agreement(article, story)
    named = {
        "text": score.text,
        "title": score.title,
        "rules_total": score.total / score.decay if score.decay else 0.0,
        "entities": score.entities,
        "types": overlap(article.incident_types, story.incident_types),
        "meaning": 0.0 if article.short else meaning,
        "meaning_short": meaning if article.short else 0.0,
        "short": float(article.short),
        "same_day": float(bool(article.dates & story.dates)),
        "other_days": float(OTHER_DAYS in score.contradictions),
        "other_means": float("other means of attack" in score.contradictions),
        "other_target": float("other target" in score.contradictions),
        "place_same": float(place == "same"),
        "place_related": float(place == "related"),
        "place_other": float(place == "other"),
        "actors_shared": overlap(article.actors, story.actors),
        "actors_other": float(named_apart(article.actors, story.actors)),
        "title_cover": score.title_cover,
        "other_figures": float(named_apart(article.figures, story.figures)),
        "figures_shared": overlap(article.figures, story.figures),
    }
    for name in _SPLIT_SHORT:
        named[f"{name}_short"] = named[name] if article.short else 0.0
        named[name] = 0.0 if article.short else named[name]
    return PairFeatures(tuple(named[name] for name in FEATURES))


def _place_agreement(article: ArticleFeatures, story: StoryProfile) -> str | None:
    """same / related (one inside the other) / other; None when either is not placed."""
    if article.place is None or not story.places:
        return None
    if article.place in story.places:
        return "same"
    if article.place in story.place_lineage or story.places & article.place_lineage:
        return "related"
    return "other"


@dataclass(frozen=True, slots=True)
class Judgement:
    probability: float
    joins: bool
    reason: str


@dataclass(frozen=True, slots=True)
class Combiner:
    """A fitted logistic regression over ``FEATURES``, as the model file holds it."""

    version: str
    coefficients: tuple[float, ...]
    intercept: float
    threshold: float  # joins at or above this probability
    means: tuple[float, ...]  # training means: contributions are told against an average pair
    sha256: str  # of the file's bytes: which model decided, in logs and tests
    # Headline-only items (feature ``short``) are held to a threshold of their own: their
    # scores sit lower for the same certainty (two headlines share few words), so one bar
    # chosen for both trades their recall for the articles' precision. None: ``threshold``.
    threshold_short: float | None = None

    def threshold_for(self, features: PairFeatures) -> float:
        short = features.values[FEATURES.index("short")]
        if short and self.threshold_short is not None:
            return self.threshold_short
        return self.threshold

    def probability(self, features: PairFeatures) -> float:
        pairs = zip(self.coefficients, features.values, strict=True)
        z = self.intercept + sum(c * x for c, x in pairs)
        return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))

    def judge(self, features: PairFeatures, *, decay: float = 1.0, top: int = 3) -> Judgement:
        """``decay``: the rules' time decay, applied to the probability as to their score.
        The development data holds every pair on one day, so no fit could learn time."""
        p = self.probability(features) * decay
        contributions = sorted(
            (
                (c * (x - m), name)
                for name, c, x, m in zip(
                    FEATURES, self.coefficients, features.values, self.means, strict=True
                )
                if c * (x - m)
            ),
            key=lambda cn: (-abs(cn[0]), cn[1]),
        )[:top]
        told = ", ".join(f"{name} {value:+.1f}" for value, name in contributions)
        threshold = self.threshold_for(features)
        joins = p >= threshold
        sign = ">=" if joins else "<"
        decayed = f" (decay {decay:.2f})" if decay < 1 else ""
        reason = f"model p={p:.2f}{decayed} {sign} {threshold:.2f}"
        reason += f" ({told})" if told else ""
        return Judgement(p, joins, reason)

    @classmethod
    def load(cls, path: Path | None = None) -> Combiner:
        path = path or SHIPPED_MODEL
        data, sha256 = read_model_file(path, "dedup.combiner.model")
        return cls.from_dict(data, sha256=sha256, source=str(path))

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, sha256: str = "", source: str = "") -> Combiner:
        names = tuple(f["name"] for f in data.get("features", ()))
        if names != FEATURES:
            raise ConfigError(
                f"dedup.combiner.model: {source or 'model'} is for features {list(names)}, "
                f"this version computes {list(FEATURES)}"
            )
        return cls(
            version=str(data["version"]),
            coefficients=tuple(float(f["coefficient"]) for f in data["features"]),
            intercept=float(data["intercept"]),
            threshold=float(data["threshold"]),
            threshold_short=(
                float(data["threshold_short"]) if data.get("threshold_short") is not None else None
            ),
            means=tuple(float(f["mean"]) for f in data["features"]),
            sha256=sha256,
        )


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether an article joins one candidate story, how strongly, and why."""

    total: float  # the model's probability, or the rules' score
    joins: bool
    reason: str


class StoryScorer:
    """Scores an article against a candidate story and decides: the fitted model when one
    is given, else the hand-tuned rules (rules.joins). Either way an article that
    contradicts the story (other means, only other days, another target in its lede) joins
    only on near-identical wording, and one placed where the story is not never joins: too
    few such pairs exist to learn that from. The model
    was fitted on pairs read with the sentence model; without an embedding on either side
    (semantic check off, a language it cannot read) the rules decide."""

    def __init__(self, settings: DedupSettings, model: Combiner | None = None) -> None:
        self.settings = settings
        self.model = model

    def _vetoing(self, contradictions: tuple[str, ...]) -> tuple[str, ...]:
        """The contradictions that keep the model from joining; with ``combiner.days:
        weigh`` "other days" is only weighed (the feature ``other_days``)."""
        if self.settings.combiner.days == "weigh":
            return tuple(c for c in contradictions if c != OTHER_DAYS)
        return contradictions

    def kept_apart(self, article: ArticleFeatures, story: StoryProfile) -> str | None:
        """Why ``article`` can never join ``story``, whatever the wording (they put their
        event in places apart), else None. Asked before any score: such a story takes no
        place among the candidates, and a near-copy of one of its articles does not join it."""
        veto = place_veto(article, story)
        return veto[0] if veto else None

    def copies_meaning(self, article: ArticleFeatures, other: Sequence[float] | None) -> bool:
        """Whether a stored article that ``article`` nearly copies word for word (MinHash)
        means what it means: a template filled in with another subject is not a copy.
        Without both embeddings, yes."""
        similarity = meaning_cosine(article.meaning, other)
        return similarity is None or similarity >= self.settings.semantic.floor

    def _decides(self, article: ArticleFeatures) -> bool:
        return self.settings.combiner.scope == "all" or article.short

    def judge(
        self, article: ArticleFeatures, story: StoryProfile, vectors: tuple[Weighed, Weighed]
    ) -> Verdict:
        result = score(article, story, vectors, self.settings)
        if self.model is None or result.meaning is None or not self._decides(article):
            joined = joins(result, self.settings)
            said = outweighed(result, self.settings) if joined else ""
            return Verdict(result.total, joined, result.reason + said)
        judgement = self.model.judge(pair_features(article, story, result), decay=result.decay)
        vetoing = self._vetoing(result.contradictions)
        stand = standing(vetoing, result.text, self.settings)  # not outweighed by the text
        vetoed = bool(result.vetoes) or bool(stand)
        joined = judgement.joins and not vetoed
        # (a place veto is told in the rules' reason, whether the model joined or not)
        told = judgement.joins and bool(stand)
        veto = "; vetoed: " + ", ".join(stand) if told else ""
        if joined and vetoing:  # every one outweighed by the text, or it would not join
            veto = f"; outweighed by text {result.text:.2f}: " + ", ".join(vetoing)
        weighed = [c for c in result.contradictions if c not in vetoing]
        if joined and weighed:
            veto += "; weighed, not vetoed: " + ", ".join(weighed)
        return Verdict(judgement.probability, joined, f"{judgement.reason}{veto}; {result.reason}")


def scorer_for(settings: DedupSettings) -> StoryScorer:
    """The scorer the settings ask for (the shipped model unless told otherwise)."""
    combiner = settings.combiner
    if not combiner.enabled:
        return StoryScorer(settings)
    model = Combiner.load(Path(combiner.model) if combiner.model else None)
    if combiner.threshold is not None:
        model = replace(model, threshold=combiner.threshold, threshold_short=None)
    return StoryScorer(settings, model)
