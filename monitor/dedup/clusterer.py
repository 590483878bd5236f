"""Levels 2 and 3: put each new article into the story it reports on, online.

    near-copy of a recent article?  -> that article's story, ``duplicate_of`` = its key
    else best recent candidate story scoring >= join_threshold -> join it
    else                                                         -> a new story

Runs inside the pipeline's per-article transaction; an advisory lock (PostgreSQL) keeps
replicas from deciding at the same time, and the index reloads what others changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import event
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from monitor.dedup import aggregate
from monitor.dedup.index import StoryIndex
from monitor.dedup.nearcopy import Sketch, sketch_from_json, sketch_text
from monitor.dedup.profile import ArticleFeatures, StoryProfile, score
from monitor.dedup.settings import DedupSettings
from monitor.dedup.text import clean_title, sentences, term_frequencies, top_terms
from monitor.errors import DedupError
from monitor.storage import stories as db
from monitor.storage.models import ArticleRow, Story
from monitor.types import Article, Classification, StoryAssignment

NEAR_COPY_CANDIDATES = 20
STORED_TERMS = 300  # distinct terms kept per article to relearn document frequencies


@dataclass(frozen=True, slots=True)
class _Decision:
    story_id: int | None
    duplicate_of: str | None
    score: float
    reason: str


def features_of(article: Article, classification: Classification, now: datetime) -> ArticleFeatures:
    body = " ".join(sentences(article.text))
    title = clean_title(article.title)
    seen = min(article.published, now) if article.published else now
    return ArticleFeatures(
        terms=term_frequencies(title, body),
        title_terms=term_frequencies("", title),
        entities=frozenset(e.id for e in classification.entities),
        incident_types=frozenset(m.id for m in classification.incident_types),
        seen=seen,
    )


class StoryClusterer:
    def __init__(self, settings: DedupSettings) -> None:
        self.settings = settings
        self.index = StoryIndex(settings)

    def assign(
        self,
        *,
        session: Session,
        article: Article,
        article_id: int,
        classification: Classification,
        now: datetime,
    ) -> StoryAssignment:
        try:
            return self._assign(session, article, article_id, classification, now)
        except SQLAlchemyError as exc:
            self.index.invalidate()
            raise DedupError(f"story assignment failed for {article.key!r}: {exc}") from exc

    def _assign(
        self,
        session: Session,
        article: Article,
        article_id: int,
        classification: Classification,
        now: datetime,
    ) -> StoryAssignment:
        row = session.get(ArticleRow, article_id)
        if row is None:
            raise DedupError(f"article {article_id} ({article.key!r}) is not stored yet")
        db.lock_story_assignment(session=session)
        self._forget_on_rollback(session)
        self.index.sync(session=session, now=now)
        features = features_of(article, classification, now)
        sketch = sketch_text(article.text, shingle_words=self.settings.shingle_words)
        self.index.learn(article_id, features.terms)
        decision = self._near_copy(session, sketch, features.seen) or self._best_story(
            session, features, now
        )
        story, profile = self._story_for(session, decision, features)
        self._update_story(session, story, profile, article, classification, features)
        row.story_id = story.id
        row.duplicate_of_key = decision.duplicate_of
        row.similarity = decision.score if decision.story_id is not None else None
        row.sketch = {
            "minhash": list(sketch.values) if sketch else None,
            "terms": sorted(top_terms(features.terms, STORED_TERMS)),
        }
        if sketch is not None:
            self.index.lsh.add(article_id, sketch)
        self.index.members.setdefault(story.id, []).append(article_id)
        session.flush()
        return StoryAssignment(
            story_id=story.id,
            is_new_story=decision.story_id is None,
            duplicate_of=decision.duplicate_of,
            score=decision.score if decision.story_id is not None else 0.0,
            reason=decision.reason,
        )

    def _forget_on_rollback(self, session: Session) -> None:
        """A rolled-back transaction leaves the in-memory index ahead of the database."""
        if not event.contains(session, "after_rollback", self._on_rollback):
            event.listen(session, "after_rollback", self._on_rollback)

    def _on_rollback(self, _session: Session) -> None:
        self.index.invalidate()

    def _near_copy(
        self, session: Session, sketch: Sketch | None, seen: datetime
    ) -> _Decision | None:
        if sketch is None:
            return None
        # A copy joins its original's story only while that story is open (inside the
        # window); the LSH index forgets closed stories lazily.
        opens = seen - self.settings.window
        for candidate in self.index.lsh.candidates(sketch)[:NEAR_COPY_CANDIDATES]:
            stored = session.get(ArticleRow, candidate)
            other = sketch_from_json((stored.sketch or {}).get("minhash")) if stored else None
            if other is None:
                continue
            similarity = sketch.jaccard(other)
            if similarity < self.settings.near_copy_threshold:
                continue
            placement = db.article_placement(session=session, article_id=candidate)
            if placement and placement[1] is not None:
                key, story_id = placement
                story = session.get(Story, story_id)
                if story is None or story.last_seen < opens:
                    continue
                reason = f"near-copy of {key} (Jaccard ~{similarity:.2f})"
                return _Decision(story_id, key, similarity, reason)
        return None

    def _best_story(self, session: Session, features: ArticleFeatures, now: datetime) -> _Decision:
        best: tuple[float, StoryProfile, str] | None = None
        mine = self.index.weighed_article(features)
        for profile in self.index.candidates(features, now=now, weighed=mine):
            vectors = (mine, self.index.weighed_story(profile))
            result = score(features, profile, vectors, self.settings)
            if best is None or result.total > best[0]:
                best = (result.total, profile, result.reason)
        if best is not None and best[0] >= self.settings.join_threshold:
            target = best[1].id
            if best[1].merged_into is not None:
                target = db.surviving_story_id(session=session, story_id=target) or target
            return _Decision(target, None, best[0], f"same event: {best[2]}")
        why = f"best candidate scored {best[0]:.2f}" if best else "no candidate story"
        return _Decision(None, None, 0.0, f"new story ({why})")

    def _story_for(
        self, session: Session, decision: _Decision, features: ArticleFeatures
    ) -> tuple[Story, StoryProfile]:
        if decision.story_id is not None:
            story = session.get(Story, decision.story_id)
            if story is None:
                raise DedupError(f"story {decision.story_id} vanished while assigning")
            profile = self.index.profiles.get(story.id) or self.index.profile_of(story)
            return story, profile
        story = Story(
            headline="",
            first_seen=features.seen,
            last_seen=features.seen,
            incident_types=[],
            acled_types=[],
            entities=[],
            casualties={},
            features={},
        )
        session.add(story)
        session.flush()
        return story, StoryProfile(story.id, features.seen, features.seen)

    def _update_story(
        self,
        session: Session,
        story: Story,
        profile: StoryProfile,
        article: Article,
        classification: Classification,
        features: ArticleFeatures,
    ) -> None:
        profile.add(features)
        old = dict(story.features or {})
        outlets = aggregate.apply_article(
            story, article, classification, outlets=list(old.get("outlets") or [])
        )
        story.headline = aggregate.better_headline(
            story, article.title, profile.titles, earlier=features.seen < story.first_seen
        )
        story.first_seen = min(story.first_seen, features.seen)
        story.last_seen = max(story.last_seen, features.seen)
        story.features = {**profile.to_features(), "outlets": outlets}
        profile.revision = db.bump_revision(session=session, stories=[story])
        self.index.revision = profile.revision
        self.index.put(profile)
