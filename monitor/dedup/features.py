"""Level 3, first link: what dedup reads of an article (``features_of``).

Candidate stories, scores and the decision read these values and never the article again:
an article's terms, headline terms, entities, incident types, means, days, lede targets,
place and actors, whereabouts, lede figures and sentence embedding are made here, once.
Two later steps still read the article itself: its near-copy sketch is made from its text
(``nearcopy.sketch_text``), and the story's row takes its headline, outlet and
classification (``aggregate.join_article``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache

from monitor.classify.dates import event_dates
from monitor.classify.event import PLACE_KINDS
from monitor.classify.normalize import sentence_spans
from monitor.classify.schema import REMOTE_VIOLENCE
from monitor.dedup.figures import lede_figures
from monitor.dedup.meaning import Encoder
from monitor.dedup.places import NOWHERE, Whereabouts, whereabouts
from monitor.dedup.settings import DedupSettings
from monitor.dedup.text import clean_title, sentences, term_frequencies
from monitor.types import Article, Classification

# The means of an attack (ACLED's remote-violence sub-events). Two reports of one event
# name the same means; rockets one night and a drone the next are two events, however alike
# the words around them (same base, same militia, same officials).
MEANS: frozenset[str] = frozenset(REMOTE_VIOLENCE)
# Below this many words an item is a headline or summary, not an article: two headlines of
# one story often share little meaning a sentence model can see (0.4-0.5 on the UCI stream,
# against 0.6-0.9 for two full reports), so `rules.joins` applies no floor to them.
MEANING_MIN_WORDS = 40


@dataclass(slots=True)
class ArticleFeatures:
    """One article, ready to be compared with stories."""

    terms: dict[str, float]  # sublinear tf, title boosted
    title_terms: dict[str, float]
    entities: frozenset[str]
    incident_types: frozenset[str]
    seen: datetime
    meaning: tuple[float, ...] | None = None  # unit sentence embedding, when enabled
    means: frozenset[str] = frozenset()  # ACLED remote-violence sub-events named (MEANS)
    dates: frozenset[date] = frozenset()  # days it says things happened on (dates.py)
    targets: frozenset[str] = frozenset()  # target entities its headline or lede names
    short: bool = False  # a headline or summary, not an article: meaning reads differently
    # Where and who, as the event reading (classify/event.py) has it: the place's id and
    # its ancestors, and the actors' ids.
    place: str | None = None
    place_lineage: frozenset[str] = frozenset()
    actors: frozenset[str] = frozenset()
    # Where its own words put the event (places.py): what tells same-kind twins apart.
    where: Whereabouts = NOWHERE
    figures: frozenset[str] = frozenset()  # the figures its headline and lede give (figures.py)


@dataclass(frozen=True, slots=True)
class Embedded:
    """An article's embedding, computed ahead of its assignment (on a worker thread)."""

    text: str | None  # what was embedded; None: nothing to embed (not English, empty, off)
    vector: tuple[float, ...] | None


def title_body(article: Article) -> tuple[str, str]:
    return clean_title(article.title), " ".join(_sentences(article))


def _sentences(article: Article) -> tuple[str, ...]:
    return _split(article.text)


@lru_cache(maxsize=128)
def _split(text: str) -> tuple[str, ...]:
    """``sentences``, kept for a while: an article's text is split when its embedding is
    started (``embed``) and again when it is assigned, up to a few pages of each feed
    later (the pipeline prepares 8 per feed ahead)."""
    return tuple(sentences(text))


def meaning_text(article: Article, title: str, body: str) -> str | None:
    """What the sentence model reads: headline and cleaned body, if it reads English."""
    text = f"{title}. {body}" if title and body != title else title or body
    return text if text and reads_english(article, text) else None


def features_of(
    article: Article,
    classification: Classification,
    now: datetime,
    *,
    encoder: Encoder | None = None,
    meaning: Sequence[float] | None = None,
    targets: Iterable[str] | None = None,
    target_kinds: frozenset[str] = DedupSettings().target_kinds,
    embedded: Embedded | None = None,
) -> ArticleFeatures:
    """What dedup compares. ``meaning`` and ``targets`` as stored at assignment (a story is
    rebuilt from its articles); else ``embedded`` (computed ahead for this very text),
    ``encoder`` and ``target_kinds`` make them."""
    title, lines = clean_title(article.title), _sentences(article)
    body = " ".join(lines)
    place = classification.event.place
    seen = min(article.published, now) if article.published else now
    short = len(body.split()) < MEANING_MIN_WORDS
    if meaning is None and encoder is not None:
        text = meaning_text(article, title, body)
        if embedded is not None and embedded.text == text:
            meaning = embedded.vector
        elif text is not None:
            meaning = encoder.encode(text)
    return ArticleFeatures(
        terms=term_frequencies(title, body),
        title_terms=term_frequencies("", title),
        entities=frozenset(e.id for e in classification.entities),
        incident_types=frozenset(m.id for m in classification.incident_types),
        means=frozenset(m.acled for m in classification.incident_types if m.acled in MEANS),
        dates=event_dates(f"{article.title}\n{article.text}", seen),
        targets=frozenset(targets)
        if targets is not None
        else lede_targets(article, classification, target_kinds),
        seen=seen,
        meaning=tuple(meaning) if meaning is not None else None,
        short=short,
        place=place.id if place else None,
        place_lineage=frozenset((place.id, *place.ancestors)) if place else frozenset(),
        actors=frozenset(a.id for a in classification.event.actors),
        # A headline names too little for "names the other's place nowhere" to mean anything.
        where=NOWHERE
        if short
        else whereabouts(title, lines, not_places=_not_places(classification)),
        # A headline alone gives a figure or none: too little for "none in common".
        figures=frozenset() if short else lede_figures(title, lines),
    )


def _not_places(classification: Classification) -> list[str]:
    """How the text names what the watchlist knows as no place: a militia, a person."""
    return [
        m.text for e in classification.entities if e.kind not in PLACE_KINDS for m in e.mentions
    ]


def lede_targets(
    article: Article, classification: Classification, kinds: frozenset[str]
) -> frozenset[str]:
    """Target entities named in the headline or first sentence: what the report is about.
    Later sentences name other places as background (the base hit last month). Sentences
    are split as the classifier splits them, whose mention offsets we read."""
    named = [e for e in classification.entities if e.kind in kinds]
    if not named:  # most articles: no need to split the text into sentences
        return frozenset()
    full = f"{article.title}\n{article.text}"
    body = [end for start, end in sentence_spans(full) if start > len(article.title)]
    lede_end = body[0] if body else len(full)
    return frozenset(
        e.id for e in named if any(m.start < lede_end and not m.demonym for m in e.mentions)
    )


def reads_english(article: Article, text: str) -> bool:
    """Whether the (English-only) sentence model can read it: declared English, or, with
    no declared language, at least 90 % ASCII letters (accented Latin-script languages
    fall below it too). Other text is judged on words alone rather than blocked by a model
    that cannot read it."""
    if article.language:
        return article.language.lower().startswith("en")
    letters = list(filter(str.isalpha, text[:2000]))
    return bool(letters) and sum(map(str.isascii, letters)) >= 0.9 * len(letters)
