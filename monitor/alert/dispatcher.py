"""Send what the outbox holds: leases, pacing, retries with backoff, exactly-once bookkeeping.

Per alert: claim (lease) -> count the attempt (commit) -> send -> record (commit). A crash
between "count" and "record" leaves ``attempts > 0`` on a pending row, so the next attempt
on a bot route looks for the alert id in Slack before sending again. The claim keeps each
route's alerts in queued order, one at a time, across replicas (``q.claim_alert``).
"""

from __future__ import annotations

import logging
import random
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial

from sqlalchemy.orm import Session, sessionmaker

from monitor.alert.compose import (
    NotReady,
    compose_correction,
    compose_digest,
    compose_new,
    compose_test,
    compose_update,
)
from monitor.alert.outbox import EPOCH
from monitor.alert.routes import build_sinks, fix_for, sink_for, verify_routes
from monitor.alert.settings import AlertsSettings, RouteConfig
from monitor.alert.sinks import (
    Delivered,
    Outgoing,
    RateLimited,
    RouteBroken,
    Sink,
)
from monitor.errors import NotifyError, PermanentNotifyError
from monitor.metrics import alerts_finished
from monitor.storage import alerts as q
from monitor.storage.models import AlertRow, Story
from monitor.units import format_duration

__all__ = ["DispatchReport", "Dispatcher", "build_sinks", "sink_for", "verify_routes"]

log = logging.getLogger(__name__)
Step = Callable[
    [str, Outgoing], None
]  # test hook: "before_request", "after_accept", "after_record"


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class DispatchReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    skipped: int = 0
    deferred: int = 0
    errors: list[str] = field(default_factory=list)


class Dispatcher:
    def __init__(
        self,
        *,
        settings: AlertsSettings,
        sessions: sessionmaker[Session],
        sinks: Mapping[str, Sink] | None = None,
        clock: Callable[[], datetime] = utcnow,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        on_step: Step | None = None,
        owner: str | None = None,
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.sinks = dict(sinks) if sinks is not None else build_sinks(settings, clock=clock)
        self.clock = clock
        self.sleep = sleep
        self.monotonic = monotonic  # paces sends per channel: injected with `sleep`
        self.on_step = on_step
        self.owner = owner or f"dispatcher-{uuid.uuid4().hex[:12]}"
        self._last_send: dict[str, float] = {}  # channel key -> monotonic time of last send
        self._blocked: dict[str, datetime] = {}  # channel key -> rate-limited until
        # route -> (until, why): a broken route (a revoked token, a channel the bot is not
        # in). Kept after ``until`` until a send on the route works: till then the route is
        # not known to work, and health says so.
        self.paused: dict[str, tuple[datetime, str]] = {}

    def run_once(self) -> DispatchReport:
        """Send every due alert once; one bad route never stops the others. An alert that
        does not go out holds the rest of its route (they wait for it, in queued order)."""
        report = DispatchReport()
        with self.sessions() as session:
            due = q.due_alerts(
                session=session, now=self.clock(), limit=self.settings.dispatch.batch_size
            )
        held: set[str] = set()
        for alert_id, route in due:
            if route in held:
                report.deferred += 1
                continue
            try:
                if not self._dispatch(alert_id, report):
                    held.add(route)
            except (
                Exception
            ) as exc:  # a bug or a database hiccup on one alert must not stop the rest
                log.exception("dispatch failed", extra={"alert_id": alert_id})
                report.errors.append(f"alert {alert_id}: {exc.__class__.__name__}: {exc}")
                held.add(route)
        return report

    def next_wake(self) -> datetime | None:
        """When the next pending alert can be sent (None: nothing pending): its due time,
        or later when its route is paused or its channel rate-limited. Lets the service
        sleep until then instead of looking at the outbox on a fixed tick."""
        now = self.clock()
        with self.sessions() as session:
            due = q.next_due_by_route(session=session, now=now)
        return min((max(at, self._route_free_at(route)) for route, at in due.items()), default=None)

    def _route_free_at(self, route: str) -> datetime:
        sink = self.sinks.get(route)
        held = [self.paused.get(route, (EPOCH, ""))[0]]
        if sink is not None:
            held.append(self._blocked.get(sink.channel_key, EPOCH))
        return max(held)

    def health(self) -> dict[str, str]:
        """Route -> "ok" or why it is paused; for the health endpoint and logs."""
        now = self.clock()
        out = {}
        for name in self.settings.routes:
            until, why = self.paused.get(name, (EPOCH, ""))
            if not why:
                out[name] = "ok"
            elif until > now:
                out[name] = f"paused until {until.isoformat()}: {why}"
            else:  # the pause is over, but nothing has gone through since
                out[name] = f"paused: {why}; tried again with its next alert"
        return out

    def pause_route(self, route: str, error: str, code: str, *, pending: int | None = None) -> None:
        """Hold ``route`` for ``permanent_error_pause``: its token or channel is wrong, which
        only the operator can fix. Its alerts stay pending (they are tried again after the
        pause, without using up their attempts) and every other route carries on."""
        now, pause = self.clock(), self.settings.dispatch.permanent_error_pause
        until = now + pause
        fix = fix_for(code)
        self.paused[route] = (until, f"{error}: {fix}")
        waiting = "" if pending is None else f" ({pending} now)"
        log.error(
            "route %r paused until %s: %s: %s; its alerts are kept pending%s and tried again "
            "after the pause, for up to %s",
            route, until.strftime("%Y-%m-%d %H:%M:%S UTC"), error, fix, waiting,
            format_duration(self.settings.dispatch.broken_route_max_wait),
            extra={"route": route, "error": error, "paused_until": until.isoformat()},
        )  # fmt: skip

    def _dispatch(self, alert_id: int, report: DispatchReport) -> bool:
        """False when the alert's route must wait: it was not claimed, or it failed."""
        now = self.clock()
        with self.sessions() as session:
            alert = session.get(AlertRow, alert_id)
            if alert is None or alert.status != q.PENDING:
                return True  # another replica finished it
            if self._waited_too_long(alert, now):
                return self._give_up(session, alert, now, report)
            if self._route_unavailable(alert.route, now):
                report.deferred += 1
                return False
            lease_until = now + self.settings.dispatch.lease
            claimed = q.claim_alert(
                session=session, alert_id=alert_id, owner=self.owner, now=now, until=lease_until
            )
            if claimed is None:
                return False
            retrying = report.retrying
            self._process(session, claimed, now, report)
            return report.retrying == retrying

    def _waited_too_long(self, alert: AlertRow, now: datetime) -> bool:
        """An alert held by a broken route for longer than ``broken_route_max_wait`` (since it
        was queued) is given up: news that old is history (`monitor alerts retry` sends it)."""
        if alert.route not in self.paused or alert.kind == "test":
            return False
        return alert.created_at + self.settings.dispatch.broken_route_max_wait <= now

    def _give_up(
        self, session: Session, alert: AlertRow, now: datetime, report: DispatchReport
    ) -> bool:
        until = now + self.settings.dispatch.lease
        claimed = q.claim_alert(
            session=session, alert_id=alert.id, owner=self.owner, now=now, until=until
        )
        if claimed is None:
            return False
        why = self.paused[alert.route][1]
        wait = format_duration(self.settings.dispatch.broken_route_max_wait)
        error = f"route broken for longer than {wait} (broken_route_max_wait): {why}"
        self._finish(session, [claimed], q.FAILED, now, report, error=error)
        return True

    def _route_unavailable(self, route: str, now: datetime) -> bool:
        paused = self.paused.get(route)
        sink = self.sinks.get(route)
        blocked = self._blocked.get(sink.channel_key) if sink is not None else None
        return bool((paused and paused[0] > now) or (blocked and blocked > now))

    def _process(
        self, session: Session, alert: AlertRow, now: datetime, report: DispatchReport
    ) -> None:
        route, sink = self.settings.routes.get(alert.route), self.sinks.get(alert.route)
        if alert.kind == "test":
            return self._send_test(session, alert, sink, now, report)
        story = (
            q.live_story(session=session, story_id=alert.story_id)
            if alert.story_id is not None
            else None
        )
        # A muted story sends nothing more, except the correction that says it is muted.
        muted = story is not None and story.muted and alert.kind != "correction"
        if route is None or sink is None or story is None or muted:
            why = (
                "story muted"
                if story is not None and story.muted
                else "route or story no longer exists"
            )
            return self._finish(session, [alert], q.SKIPPED, now, report, error=why)
        batch = self._batch(session, alert, route, now)
        if not batch:
            return self._release(session, [alert], now + timedelta(seconds=1), report)
        # Tried before (a retried failure starts again at 0 attempts, not at 0 tries).
        maybe_sent = any(a.attempts > 0 or a.first_attempt_at is not None for a in batch)
        try:
            outgoing = self._compose(session, batch, story, route, maybe_sent)
        except NotReady as exc:
            first = q.first_alert(session=session, story_id=story.id, route=alert.route, kind="new")
            if first is None or first.status in (q.FAILED, q.SKIPPED):
                return self._finish(session, batch, q.SKIPPED, now, report, error=str(exc))
            # Try again once the story's first message can have gone out.
            ready = [t for t in (first.next_attempt_at, first.lease_until) if t is not None]
            return self._release(session, batch, max([now + timedelta(seconds=1), *ready]), report)
        if sink.exactly_once:
            outgoing = _with_channel(outgoing, q.known_channel(session=session, route=alert.route))
        self._count_attempt(session, batch, now)
        self._send(session, batch, sink, outgoing, report)

    def _send_test(
        self, session: Session, alert: AlertRow, sink: Sink | None, now: datetime,
        report: DispatchReport,
    ) -> None:  # fmt: skip
        """A test alert from the console: the same claim, attempt count and lookup-before-
        resend as a story's alert, so it too lands once however often it is retried."""
        if sink is None:
            return self._finish(session, [alert], q.SKIPPED, now, report, error="no such route")
        maybe_sent = alert.attempts > 0 or alert.first_attempt_at is not None
        outgoing = compose_test(alert.route, now, alert_id=alert.id, maybe_sent=maybe_sent)
        if sink.exactly_once:
            outgoing = _with_channel(outgoing, q.known_channel(session=session, route=alert.route))
        self._count_attempt(session, [alert], now)
        self._send(session, [alert], sink, outgoing, report)

    def _batch(
        self, session: Session, alert: AlertRow, route: RouteConfig, now: datetime
    ) -> list[AlertRow]:
        """The alerts one message covers: a digest's due alerts, a webhook's pending updates."""
        if route.digest is not None:
            others = q.pending_alerts(session=session, route=alert.route, kinds=("new", "update"))
            due = [a for a in others if a.next_attempt_at is None or a.next_attempt_at <= now]
            return [alert, *self._claim_more(session, alert, due, now)]
        if alert.kind == "new":
            # Sources that arrived with the first one (one poll, several outlets) are
            # already in the story the message shows: one message with every source, not a
            # message and at once an "update" reply.
            waiting = q.pending_alerts(
                session=session, route=alert.route, kinds=("update",), story_id=alert.story_id
            )
            return [alert, *self._claim_more(session, alert, waiting, now)]
        if route.type == "slack" or alert.kind == "correction":
            return [alert]
        placed = q.story_message(session=session, story_id=_story_id(alert), route=alert.route)
        ready_at = (
            placed.last_update_at + self.settings.update_cooldown
            if placed and placed.last_update_at
            else now
        )
        if ready_at > now:  # webhooks: at most one follow-up per story per cooldown
            alert.next_attempt_at = ready_at
            return []
        others = q.pending_alerts(
            session=session, route=alert.route, kinds=("update",), story_id=alert.story_id
        )
        return [alert, *self._claim_more(session, alert, others, now)]

    def _claim_more(
        self, session: Session, lead: AlertRow, rows: list[AlertRow], now: datetime
    ) -> list[AlertRow]:
        """Alerts ``lead``'s message covers: they take its place in the route's queue."""
        until = now + self.settings.dispatch.lease
        claim = partial(q.claim_alert, session=session, owner=self.owner, now=now, until=until)
        claimed = [claim(alert_id=a.id, head_id=lead.id) for a in rows if a.id != lead.id]
        return [a for a in claimed if a is not None]

    def _compose(
        self,
        session: Session,
        batch: list[AlertRow],
        story: Story,
        route: RouteConfig,
        maybe_sent: bool,
    ) -> Outgoing:
        lead = batch[0]
        if route.digest is not None:
            period = f"{int(route.digest.total_seconds() // 60)} min"
            return compose_digest(session, batch, period, maybe_sent)
        if lead.kind == "update":
            return compose_update(session, batch, story, route, maybe_sent)
        if lead.kind == "correction":
            return compose_correction(session, lead, story, route, maybe_sent)
        return compose_new(session, lead, story, maybe_sent)

    def _count_attempt(self, session: Session, batch: list[AlertRow], now: datetime) -> None:
        for a in batch:
            a.attempts += 1
            a.first_attempt_at = a.first_attempt_at or now
        session.commit()

    def _send(
        self,
        session: Session,
        batch: list[AlertRow],
        sink: Sink,
        outgoing: Outgoing,
        report: DispatchReport,
    ) -> None:
        self._step("before_request", outgoing)
        self._pace(sink.channel_key)
        try:
            delivered = sink.send(outgoing)
        except NotifyError as exc:
            return self._failed(session, batch, sink, exc, report)
        finally:
            self._last_send[sink.channel_key] = self.monotonic()
        self._step("after_accept", outgoing)
        self._record(session, batch, delivered, report, outgoing)
        self._step("after_record", outgoing)

    def _record(
        self,
        session: Session,
        batch: list[AlertRow],
        delivered: Delivered,
        report: DispatchReport,
        outgoing: Outgoing,
    ) -> None:
        now = self.clock()
        story_id = outgoing.story_id  # the live story: a merged story's alerts land on it
        covered = set(delivered.alert_ids) if delivered.alert_ids else {a.id for a in batch}
        done = [a for a in batch if a.id in covered]
        for a in done:
            a.channel, a.message_ts = delivered.channel, delivered.ts
        lead = batch[0]
        if lead.kind in ("new", "update") and self.settings.routes[lead.route].digest is None:
            story_id = story_id or _story_id(lead)
            ts = delivered.ts if lead.kind == "new" else None
            placed = q.story_message(session=session, story_id=story_id, route=lead.route)
            if placed is None or lead.kind == "new":
                placed = q.record_story_message(
                    session=session,
                    story_id=story_id,
                    route=lead.route,
                    channel=delivered.channel,
                    ts=ts,
                    now=now,
                )
            placed.last_update_at = now
        _remember_shown(session, lead, outgoing)
        self._finish(session, done, q.SENT, now, report)
        if self.paused.pop(lead.route, None) is not None:
            log.info("route %r works again", lead.route, extra={"route": lead.route})
        if rest := [a for a in batch if a.id not in covered]:
            self._release(session, rest, now, report)

    def _failed(
        self,
        session: Session,
        batch: list[AlertRow],
        sink: Sink,
        exc: NotifyError,
        report: DispatchReport,
    ) -> None:
        now, lead = self.clock(), batch[0]
        # A broken route (a revoked token, a channel the bot is not in) says nothing against
        # the alert: it waits out the pause and is tried again once the route may be fixed,
        # as the alerts queued behind it are, without using up its attempts (only
        # broken_route_max_wait gives it up). A test alert is the operator asking whether
        # the route works: it fails at once, so they see the answer.
        waits = isinstance(exc, RouteBroken) and lead.kind != "test"
        if isinstance(exc, RouteBroken):
            code = exc.code or str(exc).rsplit(": ", 1)[-1]
            self.pause_route(lead.route, str(exc), code, pending=_pending(session, lead.route))
        else:
            log.warning(
                "alert not delivered: %s", exc, extra={"alert_id": lead.id, "route": lead.route}
            )
        if waits:
            for a in batch:
                a.attempts = max(0, a.attempts - 1)  # the route's fault, not the alert's
        if (
            isinstance(exc, PermanentNotifyError) and not waits
        ) or lead.attempts >= self.settings.dispatch.max_attempts:
            return self._finish(session, batch, q.FAILED, now, report, error=str(exc))
        if waits:
            retry_at = self.paused[lead.route][0]
        elif isinstance(exc, RateLimited):
            retry_at = now + timedelta(seconds=exc.retry_after)
            self._blocked[sink.channel_key] = retry_at
            # In the database too: other replicas (which did not get the 429) wait as well,
            # and the channel's alerts then go out in the order they were queued.
            shared = [r for r, s in self.sinks.items() if s.channel_key == sink.channel_key]
            q.hold_routes(session=session, routes=shared, until=retry_at)
        else:
            retry_at = now + self._backoff(lead.attempts)
        for a in batch:
            a.last_error = str(exc)
        report.retrying += len(batch)
        self._release(session, batch, retry_at, None)

    def _backoff(self, attempts: int) -> timedelta:
        d = self.settings.dispatch
        delay = min(
            d.retry_max.total_seconds(), d.retry_base.total_seconds() * 2 ** max(0, attempts - 1)
        )
        return timedelta(seconds=delay * random.uniform(0.8, 1.2))

    def _finish(
        self,
        session: Session,
        batch: list[AlertRow],
        status: str,
        now: datetime,
        report: DispatchReport,
        error: str | None = None,
    ) -> None:
        for a in batch:
            a.status, a.lease_owner, a.lease_until = status, None, None
            a.sent_at = now if status == q.SENT else a.sent_at
            a.last_error = error if error is not None else a.last_error
        session.commit()
        alerts_finished(status, [a.route for a in batch])  # /metrics: counted once committed
        setattr(report, status, getattr(report, status) + len(batch))
        for a in batch:
            log.log(
                logging.INFO if status in (q.SENT, q.SKIPPED) else logging.WARNING,
                f"alert {status}",
                extra={"alert_id": a.id, "story_id": a.story_id, "route": a.route,
                       "kind": a.kind, "error": error},
            )  # fmt: skip

    def _release(
        self, session: Session, batch: list[AlertRow], at: datetime, report: DispatchReport | None
    ) -> None:
        for a in batch:
            a.lease_owner, a.lease_until = None, None
            a.next_attempt_at = max(at, a.next_attempt_at or at)
        session.commit()
        if report is not None:
            report.deferred += len(batch)

    def _pace(self, channel_key: str) -> None:
        """Slack allows about one message per second per channel; wait out the remainder."""
        last = self._last_send.get(channel_key)
        if last is not None:
            wait = self.settings.dispatch.channel_interval.total_seconds() - (
                self.monotonic() - last
            )
            if wait > 0:
                self.sleep(wait)

    def _step(self, name: str, outgoing: Outgoing) -> None:
        if self.on_step is not None:
            self.on_step(name, outgoing)


def _story_id(alert: AlertRow) -> int:
    """The story of a story's alert (only test alerts have none, and they never come here)."""
    if alert.story_id is None:
        raise NotifyError(f"alert {alert.id} ({alert.kind}) has no story")
    return alert.story_id


def _pending(session: Session, route: str) -> int:
    return len(
        q.pending_alerts(session=session, route=route, kinds=("new", "update", "correction"))
    )


def _remember_shown(session: Session, lead: AlertRow, outgoing: Outgoing) -> None:
    """Store what the story's message on this route now shows: the next update reports
    what changed since then (an update or correction that re-rendered it counts too)."""
    if outgoing.shown is None or outgoing.story_id is None:
        return
    placed = q.story_message(session=session, story_id=outgoing.story_id, route=lead.route)
    if placed is not None:
        placed.shown = outgoing.shown


def _with_channel(outgoing: Outgoing, channel: str | None) -> Outgoing:
    from dataclasses import replace

    return replace(outgoing, channel_id=channel) if channel else outgoing
