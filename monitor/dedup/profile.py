"""What dedup remembers of a story (level 3): its profile, built from its articles' features.

A story is described by the centroid of its articles' term frequencies, the centroid of
its headlines, its canonical entity ids and incident types. Comparing an article with the
centroid (not with its nearest member) is what keeps one broad article from chaining two
unrelated events together. Document frequencies are applied at scoring time, so what the
stream has learned since the story began counts too. How well an article fits a profile
is ``rules.score``'s business, not this module's.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from monitor.dedup.features import ArticleFeatures
from monitor.dedup.places import Whereabouts
from monitor.dedup.text import top_terms
from monitor.dedup.vectors import add_meaning, pack_vector, unpack_vector

CENTROID_TERMS = 150
TITLE_TERMS = 40

Weigher = Callable[[dict[str, float]], dict[str, float]]


@dataclass(frozen=True, slots=True)
class Weighted:
    """A term vector weighed by document frequencies, with its norm: cosines cost one pass."""

    vector: dict[str, float]
    norm: float

    @classmethod
    def of(cls, vector: dict[str, float], weigh: Weigher) -> Weighted:
        weighted = weigh(vector)
        return cls(weighted, math.sqrt(sum(w * w for w in weighted.values())))

    def cosine(self, other: Weighted) -> float:
        if not self.norm or not other.norm:
            return 0.0
        a, b = (self.vector, other.vector)
        if len(a) > len(b):
            a, b = b, a
        return sum(w * b.get(t, 0.0) for t, w in a.items()) / (self.norm * other.norm)

    def covered_by(self, other: Weighted) -> float:
        """Share of this vector's weight on terms ``other`` holds too."""
        total = sum(self.vector.values())
        if not total:
            return 0.0
        return sum(w for t, w in self.vector.items() if t in other.vector) / total


@dataclass(frozen=True, slots=True)
class Weighed:
    """Text and headline vectors of an article or a story, weighed for scoring."""

    text: Weighted
    title: Weighted


@dataclass(slots=True)
class StoryProfile:
    id: int
    first_seen: datetime
    last_seen: datetime
    centroid: dict[str, float] = field(default_factory=dict)  # sum of member unit vectors
    titles: dict[str, float] = field(default_factory=dict)
    entities: set[str] = field(default_factory=set)
    incident_types: set[str] = field(default_factory=set)
    means: set[str] = field(default_factory=set)
    dates: set[date] = field(default_factory=set)
    targets: set[str] = field(default_factory=set)
    places: set[str] = field(default_factory=set)  # its articles' event places
    place_lineage: set[str] = field(default_factory=set)  # ... and their ancestors
    actors: set[str] = field(default_factory=set)  # its articles' event actors
    lede_places: set[str] = field(default_factory=set)  # places its articles' ledes name
    names: set[str] = field(default_factory=set)  # name keys its articles mention (places.py)
    figures: set[str] = field(default_factory=set)  # figures its articles' ledes give
    size: int = 0
    headlines: int = 0  # members that are headline-only (``ArticleFeatures.short``)
    meaning: list[float] | None = None  # sum of the members' sentence embeddings
    revision: int = 0
    merged_into: int | None = None  # an operator merged it: articles that fit it join that
    weighed: tuple[int, Weighed] | None = None  # (documents learned then, vectors): StoryIndex

    def add(self, article: ArticleFeatures) -> None:
        self.centroid = _accumulate(self.centroid, article.terms, CENTROID_TERMS)
        self.titles = _accumulate(self.titles, article.title_terms, TITLE_TERMS)
        self.entities |= article.entities
        self.incident_types |= article.incident_types
        self.means |= article.means
        self.dates |= article.dates
        self.targets |= article.targets
        if article.place is not None:
            self.places.add(article.place)
        self.place_lineage |= article.place_lineage
        self.actors |= article.actors
        self.lede_places |= article.where.lede
        self.names |= article.where.names
        self.figures |= article.figures
        self.first_seen = min(self.first_seen, article.seen)
        self.last_seen = max(self.last_seen, article.seen)
        self.meaning = add_meaning(self.meaning, article.meaning)
        self.size += 1
        self.headlines += article.short
        self.weighed = None

    def absorb(self, other: StoryProfile) -> None:
        """Take in a story merged into this one by an operator."""
        self.centroid = _merge(self.centroid, other.centroid, CENTROID_TERMS)
        self.titles = _merge(self.titles, other.titles, TITLE_TERMS)
        self.entities |= other.entities
        self.incident_types |= other.incident_types
        self.means |= other.means
        self.dates |= other.dates
        self.targets |= other.targets
        self.places |= other.places
        self.place_lineage |= other.place_lineage
        self.actors |= other.actors
        self.lede_places |= other.lede_places
        self.names |= other.names
        self.figures |= other.figures
        self.first_seen = min(self.first_seen, other.first_seen)
        self.last_seen = max(self.last_seen, other.last_seen)
        self.meaning = add_meaning(self.meaning, other.meaning)
        self.size += other.size
        self.headlines += other.headlines
        self.weighed = None

    def to_features(self) -> dict[str, Any]:
        return {
            "v": 1,
            "centroid": {t: round(w, 4) for t, w in self.centroid.items()},
            "titles": {t: round(w, 4) for t, w in self.titles.items()},
            "entity_ids": sorted(self.entities),
            "types": sorted(self.incident_types),
            "means": sorted(self.means),
            "dates": sorted(d.isoformat() for d in self.dates),
            "targets": sorted(self.targets),
            "places": sorted(self.places),
            "place_lineage": sorted(self.place_lineage),
            "actors": sorted(self.actors),
            "lede_places": sorted(self.lede_places),
            "names": sorted(self.names),
            "figures": sorted(self.figures),
            "size": self.size,
            "headlines": self.headlines,
            "meaning": pack_vector(self.meaning, exact=True),
        }

    @classmethod
    def from_features(
        cls,
        story_id: int,
        first: datetime,
        last: datetime,
        features: dict[str, Any],
        *,
        incident_types: list[str],
        revision: int,
    ) -> StoryProfile:
        return cls(
            id=story_id,
            first_seen=first,
            last_seen=last,
            centroid=dict(features.get("centroid") or {}),
            titles=dict(features.get("titles") or {}),
            entities=set(features.get("entity_ids") or ()),
            incident_types=set(features.get("types", incident_types)),
            means=set(features.get("means") or ()),
            dates={date.fromisoformat(d) for d in features.get("dates") or ()},
            targets=set(features.get("targets") or ()),
            places=set(features.get("places") or ()),
            place_lineage=set(features.get("place_lineage") or ()),
            actors=set(features.get("actors") or ()),
            lede_places=set(features.get("lede_places") or ()),
            names=set(features.get("names") or ()),
            figures=set(features.get("figures") or ()),
            size=int(features.get("size") or 0),
            headlines=int(features.get("headlines") or 0),
            meaning=_as_list(unpack_vector(features.get("meaning"))),
            revision=revision,
        )

    @property
    def headline_only(self) -> bool:
        """Every member is a headline or summary (a story stored before the count: no)."""
        return 0 < self.size == self.headlines

    @property
    def where(self) -> Whereabouts:
        """Where its articles together put the event."""
        return Whereabouts(frozenset(self.lede_places), frozenset(self.names))

    @property
    def index_keys(self) -> list[str]:
        """Keys under which the candidate index files this story."""
        keys = [f"t:{t}" for t in top_terms(self.centroid, 25)]
        keys += [f"t:{t}" for t in top_terms(self.titles, 10)]
        keys += [f"e:{e}" for e in sorted(self.entities)]
        return list(dict.fromkeys(keys))


def _as_list(vector: tuple[float, ...] | None) -> list[float] | None:
    return list(vector) if vector is not None else None


def _unit(vector: dict[str, float]) -> dict[str, float]:
    norm = math.sqrt(sum(w * w for w in vector.values())) or 1.0
    return {t: w / norm for t, w in vector.items()}


def _accumulate(
    centroid: dict[str, float], vector: dict[str, float], keep: int
) -> dict[str, float]:
    return _merge(centroid, _unit(vector), keep)


def _merge(a: dict[str, float], b: dict[str, float], keep: int) -> dict[str, float]:
    out = dict(a)
    for t, w in b.items():
        out[t] = out.get(t, 0.0) + w
    return top_terms(out, keep)
