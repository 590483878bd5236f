"""Levels 2 and 3: put each new article into the story it reports on, online.

    near-copy of a recent article?  -> that article's story, ``duplicate_of`` = its key
    else best recent candidate story scoring >= join_threshold -> join it
    else                                                         -> a new story

It reads in one direction (docs/dedup.md, "One direction"): the article's features
(``features.features_of``) -> near-copies and candidate stories (``StoryIndex``, which owns
its data) -> scores (``combiner.StoryScorer``, the one scorer) -> the decision and its
``story_reason`` (here) -> the story's state (``StoryIndex.join``, ``aggregate``,
``merging``). Runs inside the pipeline's per-article transaction; an advisory lock
(PostgreSQL) keeps replicas from deciding at the same time, and the index reloads what
others changed.
"""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import event
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from monitor.dedup import aggregate, merging
from monitor.dedup.combiner import Verdict, scorer_for
from monitor.dedup.features import ArticleFeatures, Embedded, features_of, meaning_text, title_body
from monitor.dedup.index import Candidate, StoryIndex
from monitor.dedup.meaning import Encoder, EncoderWorkers
from monitor.dedup.nearcopy import Sketch, sketch_text
from monitor.dedup.operations import repair_story
from monitor.dedup.profile import StoryProfile
from monitor.dedup.settings import DedupSettings
from monitor.errors import DedupError
from monitor.storage import facets
from monitor.storage import stories as db
from monitor.storage.models import ArticleRow, Story
from monitor.types import Article, Classification, StoryAssignment

_ASSIGNED = "dedup.assigned"  # session.info: the stories assigned to in this session


@dataclass(frozen=True, slots=True)
class _Decision:
    story_id: int | None
    duplicate_of: str | None
    score: float
    reason: str


class StoryClusterer:
    def __init__(
        self, settings: DedupSettings, *, encoder: Encoder | None = None, workers: int | None = None
    ) -> None:
        self.settings = settings
        self.encoder = encoder if settings.semantic.enabled else None
        self.workers = EncoderWorkers(self.encoder, workers=workers) if self.encoder else None
        self.index = StoryIndex(settings, repair=repair_story)
        self.scorer = scorer_for(settings)

    def embed(self, article: Article) -> Future[Embedded]:
        """Start embedding ``article`` on a worker thread; pass the result to ``assign``.
        Several started before the first is awaited run at once (one per CPU)."""
        done: Future[Embedded] = Future()
        text = meaning_text(article, *title_body(article)) if self.workers else None
        if self.workers is None or text is None:
            done.set_result(Embedded(text, None))
            return done
        running = self.workers.submit(text)

        def finish(f: Future[tuple[float, ...]]) -> None:
            error = f.exception()
            if error is not None:
                done.set_exception(error)
            else:
                done.set_result(Embedded(text, f.result()))

        running.add_done_callback(finish)
        return done

    def close(self) -> None:
        if self.workers is not None:
            self.workers.close()

    def assign(
        self,
        *,
        session: Session,
        article: Article,
        article_id: int,
        classification: Classification,
        now: datetime,
        embedded: Embedded | None = None,
    ) -> StoryAssignment:
        """Put the stored article into its story. ``embedded``: its embedding from ``embed``
        (used only if it is of this article's text; else the embedding is made here)."""
        try:
            return self._assign(session, article, article_id, classification, now, embedded)
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
        embedded: Embedded | None,
    ) -> StoryAssignment:
        row = session.get(ArticleRow, article_id)
        if row is None:
            raise DedupError(f"article {article_id} ({article.key!r}) is not stored yet")
        # Features first: the embedding is the slow part and needs no lock.
        features = features_of(
            article, classification, now, encoder=self.encoder,
            target_kinds=self.settings.target_kinds, embedded=embedded,
        )  # fmt: skip
        db.lock_story_assignment(session=session)
        self._forget_on_rollback(session)
        self.index.sync(session=session, now=now, at=features.seen)
        sketch = sketch_text(article.text, shingle_words=self.settings.shingle_words)
        self.index.learn(article_id, features.terms)
        copy, kept_apart = self._near_copy(session, sketch, features)
        candidates: list[Candidate] = []
        decision = copy or self._best_story(session, features, now, kept_apart, candidates)
        story = self._story_for(session, decision, features, now)
        new_story = decision.story_id is None
        profile = self.index.join(
            session=session, story=story, row=row, article=features, sketch=sketch
        )
        aggregate.join_article(
            session, story, article, classification,
            seen=features.seen, profile=profile, new_story=new_story,
        )  # fmt: skip
        row.story_id = story.id
        row.duplicate_of_key = decision.duplicate_of
        row.similarity = decision.score if decision.story_id is not None else None
        row.story_reason = decision.reason  # flushed with the rest, not in an UPDATE of its own
        if new_story:  # flushes
            facets.refresh_facets(session=session, story_ids=[story.id], created=True)
        else:
            facets.refresh_joined(session=session, story_id=story.id, article_id=article_id)
        story, merged, why = self._merge_fragments(session, story, profile, candidates, article)
        if merged:
            row.story_id, row.story_reason = story.id, decision.reason + why
            new_story = False
        # The caller reads the story next (session.get): the session holds it only weakly,
        # and once collected it would be selected again, a round trip per article.
        session.info.setdefault(_ASSIGNED, {})[story.id] = story
        return StoryAssignment(
            story_id=story.id,
            is_new_story=new_story,
            duplicate_of=decision.duplicate_of,
            score=decision.score if decision.story_id is not None else 0.0,
            reason=decision.reason + why,
            merged=merged,
        )

    def _forget_on_rollback(self, session: Session) -> None:
        """A rolled-back transaction leaves the in-memory index ahead of the database.

        SQLAlchemy sends ``after_rollback`` for a SAVEPOINT (``begin_nested``) rolled back
        too, not only for the outermost transaction: the index is then dropped and reloaded
        from what the still-open transaction holds (tests/dedup/test_rollback.py)."""
        if not event.contains(session, "after_rollback", self._on_rollback):
            event.listen(session, "after_rollback", self._on_rollback)

    def _on_rollback(self, _session: Session) -> None:
        self.index.invalidate()

    def _near_copy(
        self, session: Session, sketch: Sketch | None, features: ArticleFeatures
    ) -> tuple[_Decision | None, str | None]:
        """The story of an article ``sketch`` nearly copies, if any; else None and, when a
        near-copy was set aside by a veto, why (for the new story's reason)."""
        kept_apart: str | None = None
        for copy in self.index.copies_of(sketch, session=session, seen=features.seen):
            if not self.scorer.copies_meaning(features, copy.meaning):
                continue  # a template filled in with another subject, not a copy
            veto = self.scorer.kept_apart(features, copy.profile)
            if veto:  # the same template told of another place: a twin, not a copy
                kept_apart = kept_apart or f"near-copy of {copy.key} vetoed: {veto}"
                continue
            reason = f"near-copy of {copy.key} (Jaccard ~{copy.similarity:.2f})"
            return _Decision(copy.profile.id, copy.key, copy.similarity, reason), None
        return None, kept_apart

    def _best_story(
        self,
        session: Session,
        features: ArticleFeatures,
        now: datetime,
        kept_apart: str | None = None,
        found: list[Candidate] | None = None,
    ) -> _Decision:
        """The story the article joins, or why none; ``found`` receives the candidates."""
        best: tuple[Verdict, StoryProfile] | None = None  # best that joins
        closest: Verdict | None = None  # best of all, to say why nothing joined
        vetoed: list[str] = []  # candidates a veto kept apart, likeliest first

        def admit(profile: StoryProfile) -> bool:
            veto = self.scorer.kept_apart(features, profile)
            if veto:
                vetoed.append(f"story {profile.id}: {veto}")
            return not veto

        candidates = self.index.candidates(features, session=session, now=now, admit=admit)
        if found is not None:
            found.extend(candidates)
        for candidate in candidates:
            verdict = self.scorer.judge(features, candidate.profile, candidate.vectors)
            if closest is None or verdict.total > closest.total:
                closest = verdict
            if verdict.joins and (best is None or verdict.total > best[0].total):
                best = (verdict, candidate.profile)
        if best is not None:
            verdict, profile = best
            target = profile.id
            if profile.merged_into is not None:
                target = db.surviving_story_id(session=session, story_id=target) or target
            return _Decision(target, None, verdict.total, f"same event: {verdict.reason}")
        why = f"closest scored {closest.total:.2f}: {closest.reason}" if closest else "no candidate"
        if vetoed and closest is None:
            why = "no other candidate"
        if vetoed:
            more = f" (and {len(vetoed) - 1} more)" if len(vetoed) > 1 else ""
            why = f"kept apart from {vetoed[0]}{more}; {why}"
        if kept_apart:
            why = f"{kept_apart}; {why}"
        return _Decision(None, None, 0.0, f"new story ({why})")

    def _merge_fragments(
        self,
        session: Session,
        story: Story,
        profile: StoryProfile,
        candidates: list[Candidate],
        article: Article,
    ) -> tuple[Story, tuple[int, ...], str]:
        """Merge ``story`` with the headline-only fragments among ``candidates`` that mean
        the same (merging.py); the surviving story, the stories merged away, and what to
        add to the article's reason."""
        settings = self.settings.headline_merge
        merged: list[int] = []
        why, refused = "", frozenset[int]()
        others = [c.profile for c in candidates]
        while fragment := merging.closest_fragment(profile, others, settings, refused=refused):
            other = session.get(Story, fragment.profile.id)
            pair = merging.survivor(session, story, other) if other is not None else "gone"
            if isinstance(pair, str):
                refused |= {fragment.profile.id}
                continue
            keep, gone = pair
            kept, away = profile, fragment.profile
            if keep is not story:
                kept, away = away, kept
            said = (
                f"both headline-only, meaning-sum cosine {fragment.cosine:.2f}"
                f" >= {settings.threshold:.2f}"
            )
            note = f"; story {gone.id} merged into story {keep.id} on {article.key}: {said}"
            merging.merge(
                session=session, index=self.index, keep=keep, gone=gone, kept=kept, merged=away,
                note=note,
            )  # fmt: skip
            why += f"; then story {gone.id} merged into story {keep.id}: {said}"
            merged.append(gone.id)
            story, profile = keep, kept
        return story, tuple(merged), why

    def _story_for(
        self, session: Session, decision: _Decision, features: ArticleFeatures, now: datetime
    ) -> Story:
        if decision.story_id is not None:
            story = session.get(Story, decision.story_id)
            if story is None:
                raise DedupError(f"story {decision.story_id} vanished while assigning")
            return story
        story = Story(
            headline="",
            first_seen=features.seen,
            last_seen=features.seen,
            incident_types=[],
            acled_types=[],
            entities=[],
            casualties={},
            features={},
            discovered_at=now,
            index_members=b"",  # no earlier articles: ``join`` need not look for them
        )
        session.add(story)
        session.flush()
        return story
