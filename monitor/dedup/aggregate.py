"""What a story row says about its event, updated as each article joins.

Merging rules favour what readers of an alert expect: the highest severity ever seen,
the largest casualty figures reported (counts rise as an event is reported on), every
entity and incident type any source named, and one headline that best represents them.
"""

from __future__ import annotations

import json
from datetime import datetime
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from monitor.classify.event import consensus
from monitor.codec import event_from_dict, event_to_dict
from monitor.dedup.profile import StoryProfile
from monitor.dedup.text import cosine, term_frequencies
from monitor.storage import stories as db
from monitor.storage.models import Story
from monitor.types import Article, Classification, Event, severity_rank

MAX_OUTLETS = 500  # enough for any real story; keeps the features column bounded


def outlet(article: Article) -> str:
    """Who published ``article``: its outlet name, else its site, else the URL's host."""
    if article.source:
        return article.source
    if article.site_name:
        return article.site_name
    url = article.canonical_url or article.url
    host = urlsplit(url).hostname if url else None
    return (host or article.key).removeprefix("www.")


def merge_entities(
    current: list[dict[str, Any]], classification: Classification
) -> list[dict[str, Any]]:
    by_id = {e["id"]: dict(e) for e in current}
    for match in classification.entities:
        entry = by_id.setdefault(
            match.id, {"id": match.id, "kind": match.kind, "name": match.name, "articles": 0}
        )
        entry["articles"] = int(entry.get("articles", 0)) + 1
        names = set(entry.get("spellings") or ())
        names.update(m.text for m in match.mentions)
        entry["spellings"] = sorted(names)[:20]
    return sorted(by_id.values(), key=lambda e: (-int(e.get("articles", 0)), e["id"]))


def merge_casualties(current: dict[str, Any], classification: Classification) -> dict[str, Any]:
    out = dict(current)
    new = classification.casualties
    for name in ("killed", "wounded"):
        value = getattr(new, name)
        if value is not None and value > int(out.get(name) or -1):
            out[name] = value
    if new.evidence:
        out["evidence"] = list(dict.fromkeys([*out.get("evidence", []), *new.evidence]))[:20]
    return out


def union(current: list[str], new: list[str]) -> list[str]:
    """Every type any report gave, sorted: feeds are polled concurrently, so the order the
    reports arrived in must not decide what the story lists (the story's own event leads
    the alert)."""
    return sorted({*current, *new})


def better_headline(
    story: Story, title: str, titles_centroid: dict[str, float], *, earlier: bool = False
) -> str:
    """The candidate headline closest to what all the story's headlines say; when neither
    is clearly closer, the earliest report's (feeds are polled concurrently, so arrival
    order must not decide what an analyst reads)."""
    if not story.headline:
        return title
    if not title:
        return story.headline
    # A clear headline beats a lede sentence or a cut-off title, whoever came first.
    if headline_quality(title) > headline_quality(story.headline) + 0.25:
        return title
    if headline_quality(story.headline) > headline_quality(title) + 0.25:
        return story.headline
    current = cosine(term_frequencies("", story.headline), titles_centroid)
    candidate = cosine(term_frequencies("", title), titles_centroid)
    if earlier:
        return story.headline if current > candidate + 0.05 else title
    return title if candidate > current + 0.05 else story.headline


_DANGLING = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "of",
        "to",
        "in",
        "on",
        "at",
        "by",
        "for",
        "with",
        "from",
        "that",
        "which",
        "who",
        "as",
        "after",
        "before",
    ]
)


def headline_quality(title: str) -> float:
    """How much ``title`` reads like a headline (0..1): short, whole, not a lede sentence.

    Feeds without titles hand us the article's first sentence, sometimes cut mid-word;
    an analyst scanning alerts wants the outlet's headline.
    """
    words = title.split()
    if not words:
        return 0.0
    score = 1.0
    if len(title) > 120:
        score -= 0.4  # a sentence, not a headline
    if words[-1].lower().strip(",;:") in _DANGLING or title.rstrip().endswith(("…", "...")):
        score -= 0.4  # cut off mid-phrase
    if words[0].lower() in ("according", "officials", "sources") or title.endswith("."):
        score -= 0.2  # attribution first, or a full stop: a lede
    if len(words) < 4:
        score -= 0.3  # a label, not a headline
    return max(score, 0.0)


def apply_article(
    story: Story, article: Article, classification: Classification, *, outlets: list[str]
) -> list[str]:
    """Fold one article's classification into ``story``; returns the updated outlet list."""
    story.entities = merge_entities(list(story.entities or []), classification)
    story.incident_types = union(list(story.incident_types or []), classification.incident_type_ids)
    story.acled_types = union(list(story.acled_types or []), classification.acled_sub_event_types)
    story.casualties = merge_casualties(dict(story.casualties or {}), classification)
    if severity_rank(classification.severity) > severity_rank(story.severity):  # type: ignore[arg-type]
        story.severity = classification.severity
    name = outlet(article)
    if name not in outlets and len(outlets) < MAX_OUTLETS:
        outlets = [*outlets, name]
    story.source_count = len(outlets)
    return outlets


def join_article(
    session: Session,
    story: Story,
    article: Article,
    classification: Classification,
    *,
    seen: datetime,
    profile: StoryProfile,
    new_story: bool,
) -> None:
    """What ``story``'s row says once ``article`` (first seen at ``seen``) joined it and its
    ``profile`` (the index's) took it in: entities, types, casualties, severity, outlets,
    headline, the event its sources agree on, its span, and the profile as stored."""
    outlets = apply_article(
        story, article, classification, outlets=list((story.features or {}).get("outlets") or [])
    )
    story.headline = better_headline(
        story, article.title, profile.titles, earlier=seen < story.first_seen
    )
    # A story made for this article has no other article yet: no query to say so.
    members = [] if new_story else db.member_events(session=session, story_id=story.id)
    apply_events(story, [*stored_events(members), (seen, classification.event)])
    story.first_seen = min(story.first_seen, seen)
    story.last_seen = max(story.last_seen, seen)
    story.features = {**profile.to_features(), "outlets": outlets}


def apply_events(story: Story, events: list[tuple[datetime, Event]]) -> None:
    """The story's event: the consensus of its sources' events, earliest source first."""
    ordered = [e for _, e in sorted(events, key=lambda pair: pair[0])]
    story.event = event_to_dict(consensus(ordered))


def stored_events(members: list[tuple[datetime, str | None]]) -> list[tuple[datetime, Event]]:
    """Events as stored in classifications (``member_events``: JSON text)."""
    return [(at, _stored_event(event)) for at, event in members]


@lru_cache(maxsize=4096)
def _stored_event(text: str | None) -> Event:
    """A stored event's value, decoded once: every article that joins a story reads its
    other articles' events again (Event is immutable, so one value serves them all)."""
    return event_from_dict(json.loads(text) if text is not None else None)


def merged_row(
    keep: Story,
    gone: Story,
    members: list[tuple[datetime, Article, Classification]],
    *,
    titles_centroid: dict[str, float],
) -> list[str]:
    """What ``keep``'s row says once ``gone`` was merged into it (dedup merging two
    fragments of one story): read from ``members``, every article it now holds (their
    time, outlet and classification as stored, ``stored.outlet_of``), in the order they
    came, as rebuilding the story from its articles reads them, so the two never disagree
    (the first incident type and the first toll phrases are what an alert shows, and the
    kept story may be the younger: it alerted). The headline is the better of the two
    stories'. Returns the outlet list."""
    headline = better_headline(
        keep, gone.headline, titles_centroid, earlier=gone.first_seen < keep.first_seen
    )
    keep.entities, keep.incident_types, keep.acled_types = [], [], []
    keep.casualties, keep.severity = {}, None
    outlets: list[str] = []
    for _, article, classification in members:
        outlets = apply_article(keep, article, classification, outlets=outlets)
    keep.headline = headline
    keep.first_seen = min(keep.first_seen, gone.first_seen)
    keep.last_seen = max(keep.last_seen, gone.last_seen)
    apply_events(keep, [(at, c.event) for at, _, c in members])
    return outlets
