"""The rules' reading of one (article, candidate story) pair: scores, contradictions, vetoes.

``score`` measures how well an article's features fit a story's profile (word cosines
weighed by the stream's document frequencies, shared entities and types, time decay,
meaning) and names what contradicts the join; ``joins`` is the hand-tuned decision on that
reading. The clusterer never calls these: it asks ``combiner.StoryScorer``, which decides
with the fitted model or with these rules and keeps their vetoes either way.
"""

from __future__ import annotations

from collections.abc import Collection, Hashable
from dataclasses import dataclass

from monitor.dedup.features import ArticleFeatures
from monitor.dedup.places import places_apart
from monitor.dedup.profile import StoryProfile, Weighed
from monitor.dedup.settings import DedupSettings
from monitor.dedup.vectors import meaning_cosine

OTHER_DAYS = "other days"  # the contradiction of two reports naming no day in common


def overlap(a: set[str] | frozenset[str], b: set[str] | frozenset[str]) -> float:
    """Share of the smaller set found in the larger; 0 when either is empty."""
    if not a or not b:
        return 0.0
    return len(a & b) / min(len(a), len(b))


@dataclass(frozen=True, slots=True)
class Score:
    total: float
    text: float
    title: float
    entities: float
    meaning: float | None  # None when either side has no embedding
    reason: str
    decay: float = 1.0  # the time decay applied to ``total``
    short: bool = False  # the article is headline-only: see joins()
    # What the article and the story both name, with nothing in common: means of attack,
    # days things happened on, targets in the lede.
    contradictions: tuple[str, ...] = ()
    # What keeps the two apart whatever the wording: both name the event's place, and
    # neither names the other's. Template wording of two events is near-identical.
    vetoes: tuple[str, ...] = ()
    # Share of the article's weighed headline terms found among the story's headline terms:
    # a headline that repeats a story's rare words fits it even when the story's headlines
    # together hold many more (a cosine with their centroid stays low).
    title_cover: float = 0.0


def score(
    article: ArticleFeatures,
    story: StoryProfile,
    vectors: tuple[Weighed, Weighed],
    settings: DedupSettings,
) -> Score:
    """How well ``article`` fits ``story``, both weighed in ``vectors``; joins at the threshold."""
    mine, theirs = vectors
    text = mine.text.cosine(theirs.text)
    title = mine.title.cosine(theirs.title)
    cover = mine.title.covered_by(theirs.title)
    base = text + settings.title_weight * title
    ents = overlap(article.entities, story.entities)
    types = overlap(article.incident_types, story.incident_types)
    bonus = 0.0
    # Shared names only confirm what the texts already say: the same militia striking the
    # same base again is a different event with different words around it.
    if text >= settings.min_text_similarity:
        bonus = settings.entity_weight * ents + settings.incident_weight * types
    # Distance in time from the story's span, whichever side the article falls on: feeds
    # are polled concurrently, so an older report can arrive after a newer story exists.
    gap = max(
        0.0,
        (article.seen - story.last_seen).total_seconds(),
        (story.first_seen - article.seen).total_seconds(),
    )
    decay = 0.5 ** (gap / max(settings.half_life.total_seconds(), 1.0))
    total = (base + bonus) * decay
    meaning = meaning_cosine(article.meaning, story.meaning)
    contradictions = tuple(
        name
        for name, mine, theirs in (
            ("other means of attack", article.means, story.means),
            (OTHER_DAYS, article.dates, story.dates),
            ("other target", article.targets, story.targets),
        )
        if named_apart(mine, theirs)
    )
    vetoes = place_veto(article, story)
    reason = " ".join(
        [
            f"text {text:.2f} title {title:.2f} entities {ents:.2f} types {types:.2f}",
            f"decay {decay:.2f}",
            *([f"meaning {meaning:.2f}"] if meaning is not None else []),
            *contradictions,
            *(f"vetoed: {v}" for v in vetoes),
        ]
    )
    return Score(
        total=total,
        text=text,
        title=title,
        entities=ents,
        meaning=meaning,
        short=article.short,
        contradictions=contradictions,
        vetoes=vetoes,
        reason=reason,
        decay=decay,
        title_cover=cover,
    )


def place_veto(article: ArticleFeatures, story: StoryProfile) -> tuple[str, ...]:
    """("other place (A / B)",) when the two put their event in places apart, else ()."""
    mine, theirs = article.where, story.where
    if places_apart(mine, theirs):
        return (f"other place ({_listed(mine.lede)} / {_listed(theirs.lede)})",)
    if watchlist_places_apart(article, story):
        return (f"other place ({article.place} / {_listed(frozenset(story.places))})",)
    return ()


def watchlist_places_apart(article: ArticleFeatures, story: StoryProfile) -> bool:
    """The event reading puts the article's event at a watchlist place below a country,
    and none of the story's event places is that place, inside it or around it: two drone
    strikes of one day, in Kirkuk and in Al-Qaim, whose reports name each other ("hours
    after a strike in Anbar") so that the wording's place veto cannot tell them apart."""
    if article.place is None or len(article.place_lineage) < 2 or not story.places:
        return False
    return article.place not in story.place_lineage and not story.places & article.place_lineage


def _listed(places: frozenset[str], most: int = 3) -> str:
    shown = sorted(places)[:most]
    return ", ".join(shown) + (", ..." if len(places) > most else "")


def named_apart(article: Collection[Hashable], story: Collection[Hashable]) -> bool:
    """Both name something (means, days, targets), and nothing in common."""
    return bool(article and story and not set(article) & set(story))


def standing(
    contradictions: tuple[str, ...], text: float, settings: DedupSettings
) -> tuple[str, ...]:
    """The ``contradictions`` the texts' cosine ``text`` does not outweigh: "other days" is
    outweighed from ``days_conflict_threshold`` (day words are read against the publication
    instant, so one event's reports name its day differently), the others from
    ``conflict_threshold``."""
    days, other = settings.days_conflict_threshold, settings.conflict_threshold
    return tuple(c for c in contradictions if text < (days if c == OTHER_DAYS else other))


def outweighed(result: Score, settings: DedupSettings) -> str:
    """What a join's reason adds when the texts outweighed contradictions ("" if none)."""
    if not result.contradictions or standing(result.contradictions, result.text, settings):
        return ""
    return f"; outweighed by text {result.text:.2f}: " + ", ".join(result.contradictions)


def joins(result: Score, settings: DedupSettings) -> bool:
    """Whether a candidate scoring ``result`` takes the article.

    Without embeddings: the word-based score alone. With them, meaning must agree too
    (boilerplate and template wording stop joining), and a report worded differently
    but meaning the same joins on a weaker word-based score. Either way, an article naming
    other means of attack or another target in its lede than the story needs near-identical
    wording, one naming only other days closely shared wording (``standing``); one placed
    where the story is not (``Score.vetoes``) never joins.
    """
    if result.vetoes:
        return False  # near-identical wording is what same-kind twins share: no way round
    # Shared names, officials and boilerplate lift the total for a second attack on the
    # same base; only the body text itself, near-identical, outweighs a contradiction.
    if standing(result.contradictions, result.text, settings):
        return False
    if result.meaning is None or not settings.semantic.enabled:
        return result.total >= settings.join_threshold
    semantic = settings.semantic
    if result.short:
        # Two headlines of one story can share little a sentence model sees, so no floor;
        # but headlines that do mean the same are reliable (UCI: 0.98 precision at 0.7).
        if result.total >= settings.join_threshold:
            return True
        return result.meaning >= semantic.headline_confirm and result.total >= semantic.min_total
    if result.meaning < semantic.floor:
        return False
    if result.total >= settings.join_threshold:
        return True
    return result.meaning >= semantic.confirm and result.total >= semantic.min_total
