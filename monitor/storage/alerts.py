"""Purpose-named queries for the alert outbox and where stories' messages landed."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from itertools import groupby

from sqlalchemy import func, or_, select, text, update
from sqlalchemy.orm import Session, aliased

from monitor.storage.models import AlertRow, ArticleRow, Story, StoryMessage

PENDING, SENT, FAILED, SKIPPED = "pending", "sent", "failed", "skipped"
_ROUTE_LOCKS = 0x616C7274  # "alrt": the advisory lock class of the outbox's routes


def find_alert(
    *, session: Session, story_id: int, route: str, kind: str, article_id: int | None
) -> AlertRow | None:
    """The outbox row with this identity (NULL article ids compare equal here, unlike in SQL)."""
    art = AlertRow.article_id.is_(None) if article_id is None else AlertRow.article_id == article_id
    query = select(AlertRow).where(
        AlertRow.story_id == story_id, AlertRow.route == route, AlertRow.kind == kind, art
    )
    return session.scalars(query).first()


def first_alert(*, session: Session, story_id: int, route: str, kind: str) -> AlertRow | None:
    query = select(AlertRow).where(
        AlertRow.story_id == story_id, AlertRow.route == route, AlertRow.kind == kind
    )
    return session.scalars(query.order_by(AlertRow.id).limit(1)).first()


def has_alert(*, session: Session, story_id: int, route: str, kind: str) -> bool:
    return first_alert(session=session, story_id=story_id, route=route, kind=kind) is not None


def known_channel(*, session: Session, route: str) -> str | None:
    """The channel id a route's messages landed in before (Slack names are not ids)."""
    query = select(AlertRow.channel).where(AlertRow.route == route, AlertRow.channel.is_not(None))
    return session.scalars(query.limit(1)).first()


def due_alerts(*, session: Session, now: datetime, limit: int) -> list[tuple[int, str]]:
    """(id, route) of pending alerts whose time has come and that no live dispatcher holds,
    oldest first;
    none that waits behind an older alert of its route (see ``claim_alert``), so a route
    whose head keeps failing does not fill the batch and hold up the other routes."""
    older = aliased(AlertRow)
    held_up = (
        select(older.id)
        .where(older.route == AlertRow.route, older.id < AlertRow.id, older.status == PENDING)
        .where(or_(older.lease_until > now, (older.attempts > 0) & (older.next_attempt_at > now)))
    )
    query = (
        select(AlertRow.id, AlertRow.route)
        .where(AlertRow.status == PENDING)
        .where(or_(AlertRow.next_attempt_at.is_(None), AlertRow.next_attempt_at <= now))
        .where(or_(AlertRow.lease_until.is_(None), AlertRow.lease_until <= now))
        .where(~held_up.exists())
        .order_by(AlertRow.id)
        .limit(limit)
    )
    return [(alert_id, route) for alert_id, route in session.execute(query)]


def next_due_by_route(*, session: Session, now: datetime) -> dict[str, datetime]:
    """Per route, when it can next send: the earliest due time (``now`` for an alert without
    one) among its pending alerts up to the first one its later alerts wait for (one in
    flight until its lease ends, or tried and waiting for its retry)."""
    query = (
        select(AlertRow.route, AlertRow.next_attempt_at, AlertRow.lease_until, AlertRow.attempts)
        .where(AlertRow.status == PENDING)
        .order_by(AlertRow.route, AlertRow.id)
    )
    due: dict[str, datetime] = {}
    for route, rows in groupby(session.execute(query), key=lambda row: row[0]):
        for _, next_at, lease_until, attempts in rows:
            at: datetime = next_at or now
            in_flight = lease_until is not None and lease_until > now
            if in_flight and lease_until is not None:
                at = max(at, lease_until)
            due[route] = min(due.get(route, at), at)
            if in_flight or attempts > 0:
                break  # the rest of the route waits for this one
    return due


def claim_alert(
    *,
    session: Session,
    alert_id: int,
    owner: str,
    now: datetime,
    until: datetime,
    head_id: int | None = None,
) -> AlertRow | None:
    """Lease one alert; None when another dispatcher got it first, or when it must wait
    for an older alert of its route. Commits the claim.

    A route's alerts go out one at a time in the order they were queued: an alert waits
    while an older one of its route (not held by ``owner``) is in flight, has been tried
    and not yet sent or given up (a failing head blocks its route, not the others), or is
    due itself. An older alert that is not due and never tried (a webhook's cooldown, an
    update waiting for its story's first message) holds nothing up. ``head_id``: the alert
    whose message will carry this one (a batch's first), whose place in the queue counts.

    On PostgreSQL the claims of one route are serialised by a transaction-level advisory
    lock, so each claim sees every earlier one committed: without it, two replicas claiming
    a route's alerts at the same moment each saw the other's alert unclaimed."""
    route = session.scalar(select(AlertRow.route).where(AlertRow.id == alert_id))
    if route is None:
        return None
    lock_route(session=session, route=route)
    older = aliased(AlertRow)
    waits_for = (
        select(older.id)
        .where(older.route == route, older.id < (head_id or alert_id), older.status == PENDING)
        .where(or_(older.lease_owner.is_(None), older.lease_owner != owner))
        .where(
            or_(
                older.lease_until > now,
                older.attempts > 0,
                older.next_attempt_at.is_(None),
                older.next_attempt_at <= now,
            )
        )
    )
    result = session.execute(
        update(AlertRow)
        .where(AlertRow.id == alert_id, AlertRow.status == PENDING)
        .where(or_(AlertRow.lease_until.is_(None), AlertRow.lease_until <= now))
        .where(~waits_for.exists())
        .values(lease_owner=owner, lease_until=until)
    )
    session.commit()
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return None
    return session.get(AlertRow, alert_id)


def lock_route(*, session: Session, route: str) -> None:
    """Hold the route's claim lock until this transaction ends (PostgreSQL; SQLite already
    serialises writers). The two-key form keeps it apart from story assignment's lock."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT pg_advisory_xact_lock(:cls, :key)"),
            {"cls": _ROUTE_LOCKS, "key": route_lock_key(route)},
        )


def route_lock_key(route: str) -> int:
    """A signed 32-bit key, the same in every replica (``hash()`` is salted per process)."""
    digest = hashlib.blake2b(route.encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big", signed=True)


def hold_routes(*, session: Session, routes: Iterable[str], until: datetime) -> None:
    """No pending alert of ``routes`` is due before ``until`` (a Retry-After: it holds for
    every replica, not only the one that was told)."""
    session.execute(
        update(AlertRow)
        .where(AlertRow.route.in_(sorted(set(routes))), AlertRow.status == PENDING)
        .where(or_(AlertRow.next_attempt_at.is_(None), AlertRow.next_attempt_at < until))
        .values(next_attempt_at=until)
    )


def pending_alerts(
    *, session: Session, route: str, kinds: tuple[str, ...], story_id: int | None = None
) -> list[AlertRow]:
    """Pending alerts of a route, for batching (webhook follow-ups, digests)."""
    query = select(AlertRow).where(
        AlertRow.route == route, AlertRow.status == PENDING, AlertRow.kind.in_(kinds)
    )
    if story_id is not None:
        query = query.where(AlertRow.story_id == story_id)
    return list(session.scalars(query.order_by(AlertRow.id)))


def story_articles(*, session: Session, story_id: int) -> list[ArticleRow]:
    """A story's articles in the order the outlets published them (feeds are polled
    concurrently, so the order they joined the story says little)."""
    query = select(ArticleRow).where(ArticleRow.story_id == story_id)
    when = func.coalesce(ArticleRow.published_at, ArticleRow.processed_at)
    return list(session.scalars(query.order_by(when, ArticleRow.id)))


def live_story(*, session: Session, story_id: int) -> Story | None:
    """The story, following merges to the story that absorbed it."""
    story = session.get(Story, story_id)
    for _ in range(10):  # merges never chain deeper in practice; never loop forever
        if story is None or story.merged_into_id is None:
            return story
        story = session.get(Story, story.merged_into_id)
    return story


def story_message(*, session: Session, story_id: int, route: str) -> StoryMessage | None:
    query = select(StoryMessage).where(
        StoryMessage.story_id == story_id, StoryMessage.route == route
    )
    return session.scalars(query).first()


def record_story_message(
    *,
    session: Session,
    story_id: int,
    route: str,
    channel: str | None,
    ts: str | None,
    now: datetime,
) -> StoryMessage:
    row = story_message(session=session, story_id=story_id, route=route)
    if row is None:
        row = StoryMessage(story_id=story_id, route=route, channel=channel, ts=ts)
        session.add(row)
    row.last_update_at = now
    return row


def recent_alerts(
    *, session: Session, limit: int = 50, status: str | None = None, route: str | None = None
) -> list[AlertRow]:
    query = select(AlertRow).order_by(AlertRow.id.desc()).limit(limit)
    if status:
        query = query.where(AlertRow.status == status)
    if route:
        query = query.where(AlertRow.route == route)
    return list(session.scalars(query))


def failed_alert_ids(*, session: Session, route: str | None = None) -> list[int]:
    """Failed alerts of stories (of ``route``), oldest first: what `monitor alerts retry`
    queues again. Test alerts are left out: a new one says more than an old one resent."""
    query = select(AlertRow.id).where(AlertRow.status == FAILED, AlertRow.kind != "test")
    if route is not None:
        query = query.where(AlertRow.route == route)
    return list(session.scalars(query.order_by(AlertRow.id)))


@dataclass(frozen=True, slots=True)
class RouteState:
    route: str
    pending: int
    sent: int
    failed: int
    last_sent_at: datetime | None
    last_error: str | None  # of the newest failed alert
    failing: bool  # the newest finished alert failed: the route needs attention
    retry_error: str | None = None  # why the newest pending alert tried so far is waiting


def route_states(*, session: Session) -> dict[str, RouteState]:
    """Delivery state per route, for health checks and `monitor alerts`."""
    counts: dict[str, dict[str, int]] = {}
    rows = session.execute(
        select(AlertRow.route, AlertRow.status, func.count()).group_by(
            AlertRow.route, AlertRow.status
        )
    )
    for route, status, n in rows:
        counts.setdefault(route, {})[status] = n
    states = {}
    for route, by_status in counts.items():
        last_sent = session.scalar(
            select(func.max(AlertRow.sent_at)).where(AlertRow.route == route)
        )
        newest_failed = _newest(session, route, FAILED)
        newest_sent = _newest(session, route, SENT)
        retry_error = session.scalars(
            select(AlertRow.last_error)
            .where(AlertRow.route == route, AlertRow.status == PENDING)
            .where(AlertRow.last_error.is_not(None))
            .order_by(AlertRow.id.desc())
            .limit(1)
        ).first()
        states[route] = RouteState(
            route=route,
            pending=by_status.get(PENDING, 0),
            sent=by_status.get(SENT, 0),
            failed=by_status.get(FAILED, 0),
            last_sent_at=last_sent,
            last_error=newest_failed.last_error if newest_failed else None,
            failing=newest_failed is not None
            and (newest_sent is None or newest_failed.id > newest_sent.id),
            retry_error=retry_error,
        )
    return states


def _newest(session: Session, route: str, status: str) -> AlertRow | None:
    query = select(AlertRow).where(AlertRow.route == route, AlertRow.status == status)
    return session.scalars(query.order_by(AlertRow.id.desc()).limit(1)).first()


@dataclass(frozen=True, slots=True)
class PendingByRoute:
    pending: int
    oldest_created_at: datetime


def pending_by_route(*, session: Session) -> dict[str, PendingByRoute]:
    """Per route with pending alerts: how many, and when the oldest was queued. One
    GROUP BY over the pending rows (the ``ix_alerts_due`` index finds them), cheap enough
    for every Prometheus scrape."""
    query = (
        select(AlertRow.route, func.count(), func.min(AlertRow.created_at))
        .where(AlertRow.status == PENDING)
        .group_by(AlertRow.route)
    )
    return {route: PendingByRoute(n, oldest) for route, n, oldest in session.execute(query)}
