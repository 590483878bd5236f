"""Operator corrections: merge two stories, split an article out, mute a story.

Each rebuilds the affected stories from their articles and bumps their revision, so every
replica's index reloads them before its next decision; later articles then see the
corrected stories. Merge and split refresh the stories' facets (storage/facets.py); mute
changes none. A split article is pinned: dedup never moves it again.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlalchemy.orm import Session

from monitor.codec import classification_from_dict
from monitor.dedup import aggregate
from monitor.dedup.features import features_of
from monitor.dedup.index import clear_members, store_rebuilt, stored_article
from monitor.dedup.profile import StoryProfile
from monitor.dedup.stored import article_of
from monitor.errors import DedupError
from monitor.storage import facets
from monitor.storage import stories as db
from monitor.storage.models import ArticleRow, Story
from monitor.types import Event


def rebuild_story(*, session: Session, story: Story) -> None:
    """Recompute every aggregate of ``story`` from the articles it now holds."""
    rows = db.story_articles(session=session, story_id=story.id)
    if not rows:
        return
    first = min((r.published_at or r.processed_at) for r in rows)
    profile = StoryProfile(story.id, first, first)
    story.entities, story.incident_types, story.acled_types = [], [], []
    story.casualties, story.severity, story.headline = {}, None, ""
    outlets: list[str] = []
    events: list[tuple[datetime, Event]] = []
    for row in rows:
        article, classification = article_of(row), classification_from_dict(row.classification)
        analysed = (row.classification or {}).get("analysed_chars")
        if isinstance(analysed, int):  # dedup read only what classification read
            article = replace(article, text=article.text[:analysed])
        kept = stored_article(row)
        features = features_of(
            article,
            classification,
            row.processed_at,
            meaning=kept.meaning,
            targets=kept.targets,
        )
        profile.add(features)
        outlets = aggregate.apply_article(story, article, classification, outlets=outlets)
        story.headline = aggregate.better_headline(story, article.title, profile.titles)
        events.append((row.published_at or row.processed_at, classification.event))
    aggregate.apply_events(story, events)
    story.first_seen, story.last_seen = profile.first_seen, profile.last_seen
    story.features = {**profile.to_features(), "outlets": outlets}
    store_rebuilt(story, profile, rows)


def repair_story(session: Session, story: Story) -> None:
    """Rebuild a story whose stored index entry or features could not be read (the story
    index's ``repair``): its row, entry and facets from its articles."""
    rebuild_story(session=session, story=story)
    facets.refresh_facets(session=session, story_ids=[story.id])  # flushes


def _story(session: Session, story_id: int) -> Story:
    story = session.get(Story, story_id)
    if story is None:
        raise DedupError(f"no story {story_id}")
    return story


def merge_stories(*, session: Session, keep_id: int, merge_id: int) -> Story:
    """Move every article of story ``merge_id`` into ``keep_id``; returns the kept story."""
    if keep_id == merge_id:
        raise DedupError("cannot merge a story into itself")
    db.lock_story_assignment(session=session)
    keep, gone = _story(session, keep_id), _story(session, merge_id)
    if gone.merged_into_id is not None or keep.merged_into_id is not None:
        raise DedupError("one of these stories was already merged into another")
    db.move_articles(session=session, from_story=gone.id, to_story=keep.id)
    session.expire_all()
    keep, gone = _story(session, keep_id), _story(session, merge_id)
    gone.merged_into_id = keep.id
    clear_members(gone)  # its articles are the kept story's now
    gone.muted = gone.muted or keep.muted
    keep.alerted = keep.alerted or gone.alerted
    rebuild_story(session=session, story=keep)
    db.bump_revision(session=session, stories=[keep, gone])
    facets.refresh_facets(session=session, story_ids=[keep.id, gone.id])  # flushes
    return keep


def split_article(*, session: Session, article_id: int, now: datetime) -> Story:
    """Give article ``article_id`` a story of its own and pin it there."""
    db.lock_story_assignment(session=session)
    row = session.get(ArticleRow, article_id)
    if row is None:
        raise DedupError(f"no article {article_id}")
    old = _story(session, row.story_id) if row.story_id is not None else None
    if old is not None and len(db.story_articles(session=session, story_id=old.id)) == 1:
        row.pinned = True
        return old  # already alone in its story
    seen = row.published_at or row.processed_at or now
    story = Story(
        headline=row.title or "", first_seen=seen, last_seen=seen, features={}, discovered_at=now
    )
    session.add(story)
    session.flush()
    row.story_id, row.pinned, row.duplicate_of_key, row.similarity = story.id, True, None, None
    session.flush()
    rebuild_story(session=session, story=story)
    changed = [story]
    if old is not None:
        rebuild_story(session=session, story=old)
        changed.append(old)
    db.bump_revision(session=session, stories=changed)
    facets.refresh_facets(session=session, story_ids=[s.id for s in changed])  # flushes
    return story


def mute_story(*, session: Session, story_id: int, muted: bool = True) -> Story:
    story = _story(session, story_id)
    story.muted = muted
    db.bump_revision(session=session, stories=[story])
    session.flush()
    return story
