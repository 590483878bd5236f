"""Actions taken from the console or the API: the CLI's corrections and run-time feed
changes, each audited."""

from __future__ import annotations

from sqlalchemy.orm import Session

from monitor.alert import outbox
from monitor.dedup import corrections
from monitor.fetch import catalog
from monitor.storage.audit import record_action
from monitor.units import counted
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


def add_feed(console: Console, session: Session, caller: Caller, url: str, name: str | None) -> str:
    feed = catalog.feed_definition(url, name)
    catalog.add_feed(session=session, feed=feed, actor=caller.name, now=console.clock())
    _audit(session, console, caller, "feed_add", feed.url, feed.name or "")
    return feed.url


def pause_feed(console: Console, session: Session, caller: Caller, url: str, paused: bool) -> None:
    catalog.pause_feed(session=session, url=url, paused=paused)
    _audit(session, console, caller, "feed_pause" if paused else "feed_resume", url.strip())


def remove_feed(console: Console, session: Session, caller: Caller, url: str) -> None:
    catalog.remove_feed(session=session, url=url)
    _audit(session, console, caller, "feed_remove", url.strip())


def import_opml(
    console: Console, session: Session, caller: Caller, data: bytes, filename: str
) -> catalog.ImportReport:
    report = catalog.import_opml(session=session, data=data, actor=caller.name, now=console.clock())
    detail = (
        f"{len(report.added)} added, {len(report.listed)} listed already, "
        f"{counted(len(report.errors), 'bad entry', 'bad entries')}"
    )
    _audit(session, console, caller, "feed_import_opml", filename[:200] or "upload", detail)
    return report


def retry_alert(console: Console, session: Session, caller: Caller, alert_id: int) -> None:
    row = outbox.retry_failed(session=session, alert_id=alert_id, now=console.clock())
    _audit(session, console, caller, "alert_retry", f"alert {alert_id}", f"route {row.route}")


def test_alert(console: Console, session: Session, caller: Caller, route: str) -> int:
    row = outbox.enqueue_test(
        session=session, route=route, settings=console.alerts, now=console.clock()
    )
    _audit(session, console, caller, "alert_test", f"route {route}", f"alert {row.id}")
    return row.id


def _audit(
    session: Session, console: Console, caller: Caller, action: str, target: str, detail: str = ""
) -> None:
    record_action(
        session=session, at=console.clock(), actor=caller.name, action=action,
        target=target[:256], detail=detail,
    )  # fmt: skip
