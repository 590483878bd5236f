"""Actions taken from the console or the API: the CLI's corrections, each audited."""

from __future__ import annotations

from sqlalchemy.orm import Session

from monitor.dedup import corrections
from monitor.storage.audit import record_action
from monitor.web.auth import Caller
from monitor.web.deps import Console


def split(console: Console, session: Session, caller: Caller, article_id: int) -> int:
    now = console.clock()
    story = corrections.split(
        session=session, article_id=article_id, alerts=console.alerts, now=now
    )
    _audit(session, console, caller, "split", f"article {article_id}", f"now in story {story.id}")
    return story.id


def merge(console: Console, session: Session, caller: Caller, keep: int, other: int) -> int:
    now = console.clock()
    kept = corrections.merge(
        session=session, keep_id=keep, merge_id=other, alerts=console.alerts, now=now
    )
    _audit(session, console, caller, "merge", f"story {other}", f"into story {keep}")
    return kept.id


def mute(console: Console, session: Session, caller: Caller, story_id: int, muted: bool) -> None:
    now = console.clock()
    corrections.mute(
        session=session, story_id=story_id, muted=muted, alerts=console.alerts, now=now
    )
    _audit(session, console, caller, "mute" if muted else "unmute", f"story {story_id}")


def not_relevant(console: Console, session: Session, caller: Caller, story_id: int) -> list[str]:
    rules = corrections.not_relevant(
        session=session, story_id=story_id, actor=caller.name, now=console.clock()
    )
    _audit(session, console, caller, "not_relevant", f"story {story_id}", ", ".join(rules))
    return rules


def _audit(
    session: Session, console: Console, caller: Caller, action: str, target: str, detail: str = ""
) -> None:
    record_action(
        session=session, at=console.clock(), actor=caller.name, action=action,
        target=target, detail=detail,
    )  # fmt: skip
