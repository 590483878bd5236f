"""Routing and the outbox: which routes an alert goes to, and when it may be sent.

``enqueue`` runs inside the pipeline's per-article transaction, so the outbox rows commit
together with the story change that caused them: a crash loses or doubles neither.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from monitor.alert.settings import AlertsSettings, QuietHours, RouteConfig, routes_from_env
from monitor.errors import NotifyError
from monitor.storage import alerts as q
from monitor.storage.models import AlertRow, ArticleRow, Story
from monitor.types import AlertDecision, Severity, severity_rank

__all__ = ["enqueue", "enqueue_test", "release_time", "retry_failed", "routes_from_env"]

log = logging.getLogger(__name__)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def enqueue(
    *,
    session: Session,
    decision: AlertDecision,
    story: Story,
    article_id: int | None,
    settings: AlertsSettings,
    now: datetime,
) -> list[AlertRow]:
    """One outbox row per route that wants this story now; [] when nothing should alert."""
    if decision.kind not in ("new", "update") or story.muted:
        return []
    if _too_old(session, article_id, settings.max_age, now):
        return []
    severity = _higher(decision.severity, story.severity)
    rows = []
    for name in dict.fromkeys(decision.routes):
        route = settings.routes.get(name)
        if route is None:
            log.warning("rule names unknown route", extra={"route": name, "story_id": story.id})
            continue
        if severity_rank(severity) < severity_rank(route.min_severity):
            continue
        rows.append(_outbox_row(session, story, name, route, article_id, severity, now))
    if rows:
        story.alerted = True
        story.routes = list(dict.fromkeys([*(story.routes or []), *(r.route for r in rows)]))
        session.flush()
    return rows


def enqueue_correction(
    *,
    session: Session,
    story: Story,
    settings: AlertsSettings,
    now: datetime,
    article_id: int | None = None,
) -> list[AlertRow]:
    """An operator changed ``story`` (split, merge): every route where its message is out
    gets a row that re-renders the message in place and says so in its thread."""
    rows = []
    for name in story.routes or ():
        if (
            name not in settings.routes
            or q.story_message(session=session, story_id=story.id, route=name) is None
        ):
            continue
        row = AlertRow(
            story_id=story.id, article_id=article_id, route=name, kind="correction",
            severity=story.severity, status=q.PENDING, created_at=now, next_attempt_at=now,
        )  # fmt: skip
        session.add(row)
        rows.append(row)
    session.flush()
    return rows


def _outbox_row(
    session: Session,
    story: Story,
    name: str,
    route: RouteConfig,
    article_id: int | None,
    severity: Severity | None,
    now: datetime,
) -> AlertRow:
    for kind in ("new", "update"):  # the same article enqueued twice (a retried transaction)
        found = q.find_alert(
            session=session, story_id=story.id, route=name, kind=kind, article_id=article_id
        )
        if found is not None and article_id is not None:
            return found
    # A route that has not had this story yet gets a "new" alert, even on an update:
    # e.g. the story just rose above the route's minimum severity.
    kind = (
        "update"
        if q.has_alert(session=session, story_id=story.id, route=name, kind="new")
        else "new"
    )
    row = AlertRow(
        story_id=story.id,
        article_id=article_id,
        route=name,
        kind=kind,
        severity=severity,
        status=q.PENDING,
        attempts=0,
        created_at=now,
        next_attempt_at=release_time(route, now),
    )
    session.add(row)
    return row


def _too_old(session: Session, article_id: int | None, max_age: timedelta, now: datetime) -> bool:
    article = session.get(ArticleRow, article_id) if article_id is not None else None
    published = article.published_at if article is not None else None
    return published is not None and published < now - max_age


def _higher(a: Severity | None, b: str | None) -> Severity | None:
    if b is None or severity_rank(a) >= severity_rank(b):  # type: ignore[arg-type]
        return a
    return b  # type: ignore[return-value]


def release_time(route: RouteConfig, now: datetime) -> datetime:
    """When an alert created ``now`` may go out: the next digest, after any quiet hours."""
    at = now
    if route.digest is not None:
        at = next_digest(now, route.digest)
    if route.quiet_hours is not None:
        at = after_quiet_hours(route.quiet_hours, at)
    return at


def next_digest(now: datetime, period: timedelta) -> datetime:
    """The next multiple of ``period`` since the epoch: every replica agrees on the slots."""
    n = (now - EPOCH) // period + 1
    return EPOCH + n * period


def after_quiet_hours(quiet: QuietHours, at: datetime) -> datetime:
    """``at`` itself, or the end of the quiet window ``at`` falls in (windows may span midnight)."""
    zone = ZoneInfo(quiet.timezone)
    local = at.astimezone(zone)
    start, end = _clock(quiet.start), _clock(quiet.end)
    t = local.time()
    if start == end:
        return at
    if start < end:
        inside = start <= t < end
        end_day = local.date()
    else:
        inside = t >= start or t < end
        end_day = local.date() + timedelta(days=1) if t >= start else local.date()
    if not inside:
        return at
    return datetime.combine(end_day, end, tzinfo=zone).astimezone(UTC)


def _clock(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def retry_failed(*, session: Session, alert_id: int, now: datetime) -> AlertRow:
    """Queue a failed alert again, with a fresh retry budget. Its first attempt time stays,
    so a bot route first looks for it in the channel: one that landed after all is not
    posted twice."""
    row = session.get(AlertRow, alert_id)
    if row is None:
        raise NotifyError(f"no alert {alert_id}")
    if row.status != q.FAILED:
        raise NotifyError(f"alert {alert_id} is {row.status}: only a failed alert is retried")
    row.status, row.attempts, row.next_attempt_at = q.PENDING, 0, now
    row.lease_owner = row.lease_until = None
    session.flush()
    return row


def enqueue_test(
    *, session: Session, route: str, settings: AlertsSettings, now: datetime
) -> AlertRow:
    """A test alert for ``route`` in the outbox: the dispatcher sends it like any other."""
    if route not in settings.routes:
        raise NotifyError(f"no route {route!r} under alerts.routes")
    row = AlertRow(
        story_id=None, route=route, kind="test", severity="info", status=q.PENDING, attempts=0,
        created_at=now, next_attempt_at=now,
    )  # fmt: skip
    session.add(row)
    session.flush()
    return row
