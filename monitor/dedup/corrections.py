"""An operator's corrections as the CLI and the web console both make them: the change,
and in the same transaction the outbox rows that tell Slack (so the channel hears of a
change exactly when it lands), and "not relevant" feedback per rule."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from monitor.alert.outbox import enqueue_correction
from monitor.alert.settings import AlertsSettings
from monitor.dedup import operations
from monitor.errors import DedupError
from monitor.storage import stories as db
from monitor.storage.models import ArticleRow, Feedback, Story


def split(*, session: Session, article_id: int, alerts: AlertsSettings, now: datetime) -> Story:
    """Article ``article_id`` alone in a story of its own; its old story's message updated."""
    row = session.get(ArticleRow, article_id)
    old = row.story_id if row is not None else None
    story = operations.split_article(session=session, article_id=article_id, now=now)
    if old is not None and old != story.id:
        _tell(session, old, alerts, now, moved=article_id)
    return story


def merge(
    *, session: Session, keep_id: int, merge_id: int, alerts: AlertsSettings, now: datetime
) -> Story:
    kept = operations.merge_stories(session=session, keep_id=keep_id, merge_id=merge_id)
    _tell(session, kept.id, alerts, now)
    return kept


def mute(
    *, session: Session, story_id: int, muted: bool, alerts: AlertsSettings, now: datetime
) -> Story:
    story = operations.mute_story(session=session, story_id=story_id, muted=muted)
    _tell(session, story.id, alerts, now)
    return story


def not_relevant(*, session: Session, story_id: int, actor: str, now: datetime) -> list[str]:
    """Record "not relevant" against every rule that fired on the story; those rule ids."""
    if session.get(Story, story_id) is None:
        raise DedupError(f"no story {story_id}")
    rules = sorted(
        {
            str(hit.get("rule_id"))
            for row in db.story_articles(session=session, story_id=story_id)
            for hit in (row.classification or {}).get("rules", ())
            if isinstance(hit, dict) and hit.get("rule_id")
        }
    )
    for rule in rules:
        session.add(
            Feedback(at=now, actor=actor, story_id=story_id, rule_id=rule, verdict="not_relevant")
        )
    session.flush()
    return rules


def _tell(
    session: Session, story_id: int, alerts: AlertsSettings, now: datetime, moved: int | None = None
) -> None:
    story = session.get(Story, story_id)
    if story is not None:
        enqueue_correction(session=session, story=story, settings=alerts, now=now, article_id=moved)
