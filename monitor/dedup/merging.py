"""Level 3b: merge fragments of one headline-only story, online.

A headline stream grows one story in fragments: a ten-word headline scored against the
centroid of many differently worded headlines often founds a story of its own, and the
fragments never meet again. So after a headline-only item joins or founds a story, that
story is compared with the other open headline-only stories the item's candidate search
already found (no other story is read: the cost stays that of one assignment), and the
closest whose meaning sum (the sum of its members' sentence embeddings) has a cosine of
at least ``dedup.headline_merge.threshold`` with it is merged, again until none is left.
Full reports never take part: on them meaning alone joins same-kind twin events
(BENCHMARKS.md, dedup-combiner).

What a merge means for alerts: the service never loses or repeats one.
- A muted story, a story holding an article an operator split out (pinned), and a story
  an operator or this step merged away never merge.
- Two stories that both alerted never merge: each has its own message and thread.
- Otherwise the alerted one survives, else the older one (first seen, then lower id).
  The other one never alerted, so it has no message to lose; its articles join the
  survivor, whose next update or re-render shows them; the merge itself sends nothing.
  The article being assigned is then decided against the survivor as any joining article
  is ("new" if the survivor never alerted and a rule fired, "update" if it did and the
  article adds a source), so the survivor's single "new" alert is never repeated.
The merged-away story keeps its keys and redirects to the survivor (``merged_into``), as
an operator's `stories merge` does, so a restarted index sees what this one sees.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from monitor.codec import classification_from_dict
from monitor.dedup import aggregate
from monitor.dedup.index import StoryIndex
from monitor.dedup.profile import StoryProfile
from monitor.dedup.settings import HeadlineMergeSettings
from monitor.dedup.stored import outlet_of
from monitor.storage import facets
from monitor.storage import stories as db
from monitor.storage.models import Story


@dataclass(frozen=True, slots=True)
class Fragment:
    """Another headline-only story meaning what the assigned story means."""

    profile: StoryProfile
    cosine: float


def sum_cosine(a: Sequence[float] | None, b: Sequence[float] | None) -> float | None:
    """Cosine of two meaning sums (neither is a unit vector)."""
    if not a or not b or len(a) != len(b):
        return None
    norms = math.sqrt(sum(map(operator.mul, a, a)) * sum(map(operator.mul, b, b)))
    return sum(map(operator.mul, a, b)) / norms if norms else None


def closest_fragment(
    story: StoryProfile,
    candidates: Iterable[StoryProfile],
    settings: HeadlineMergeSettings,
    *,
    refused: frozenset[int] = frozenset(),
) -> Fragment | None:
    """The candidate to merge with ``story``: headline-only like it, not merged away, not
    ``refused``, closest in meaning at or above the threshold (ties: the lower id)."""
    if not settings.enabled or not story.headline_only:
        return None
    best: Fragment | None = None
    for other in candidates:
        if other.id == story.id or other.id in refused or other.merged_into is not None:
            continue
        if not other.headline_only:
            continue
        cosine = sum_cosine(story.meaning, other.meaning)
        if cosine is None or cosine < settings.threshold:
            continue
        if best is None or (cosine, -other.id) > (best.cosine, -best.profile.id):
            best = Fragment(other, cosine)
    return best


def survivor(session: Session, a: Story, b: Story) -> tuple[Story, Story] | str:
    """(kept, merged away) for stories ``a`` and ``b``, or why they must stay apart."""
    if a.muted or b.muted:
        return "a muted story"
    if a.alerted and b.alerted:
        return "both alerted"
    if any(db.has_pinned_article(session=session, story_id=s.id) for s in (a, b)):
        return "an operator split an article out"
    if a.alerted != b.alerted:
        return (a, b) if a.alerted else (b, a)
    older, younger = sorted((a, b), key=lambda s: (s.first_seen, s.id))
    return older, younger


def merge(
    *,
    session: Session,
    index: StoryIndex,
    keep: Story,
    gone: Story,
    kept: StoryProfile,
    merged: StoryProfile,
    note: str,
) -> None:
    """Move ``gone``'s articles into ``keep`` (each one's ``story_reason`` gets ``note``),
    let the ``index`` fold its profile (``merged``) into ``kept`` and fold its row into
    ``keep``'s; ``gone`` redirects to ``keep``."""
    db.move_articles(session=session, from_story=gone.id, to_story=keep.id, note=note)
    index.merge(session=session, keep=keep, gone=gone, kept=kept, merged=merged)
    members = [
        (m.at, outlet_of(m), classification_from_dict(m.classification))
        for m in db.member_readings(session=session, story_id=keep.id)
    ]
    outlets = aggregate.merged_row(keep, gone, members, titles_centroid=kept.titles)
    keep.features = {**kept.to_features(), "outlets": outlets}
    gone.merged_into_id = keep.id
    facets.refresh_facets(session=session, story_ids=[keep.id, gone.id])  # flushes
