"""Sinks for the configured routes, and the start-up check of bot tokens."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, NamedTuple

import httpx
from sqlalchemy.orm import Session

from monitor.alert.settings import AlertsSettings, RouteConfig
from monitor.alert.sinks import ConsoleSink, Sink, WebhookSink
from monitor.alert.slack import SlackSink, SlackWebhookSink
from monitor.errors import NotifyError, PermanentNotifyError
from monitor.storage import alerts as q

log = logging.getLogger(__name__)


def build_sinks(
    settings: AlertsSettings,
    *,
    http: httpx.Client | None = None,
    clock: Callable[[], datetime] | None = None,
) -> dict[str, Sink]:
    """One sink per configured route."""
    timeout = settings.dispatch.request_timeout.total_seconds()
    sinks: dict[str, Sink] = {}
    for name, route in settings.routes.items():
        sinks[name] = sink_for(name, route, http=http, timeout=timeout, clock=clock)
    return sinks


def sink_for(
    name: str,
    route: RouteConfig,
    *,
    http: httpx.Client | None = None,
    timeout: float = 10.0,
    clock: Callable[[], datetime] | None = None,
) -> Sink:
    if route.type == "slack":
        # the clock dates the channel probe's scheduled message (slack.py)
        return SlackSink(
            token=route.token or "",
            channel=route.channel or "",
            api_url=route.slack_api_url(),
            timeout=timeout,
            clock=clock,
        )
    if route.type == "slack_webhook":
        return SlackWebhookSink(route.url or "", timeout=timeout)
    if route.type == "webhook":
        return WebhookSink(route.url or "", http=http, timeout=timeout)
    return ConsoleSink(name=name)


CHANNEL_GONE = frozenset({"channel_not_found", "not_in_channel", "is_archived"})
HINTS = {
    "invalid_auth": "the token is not valid: set SLACK_BOT_TOKEN (the route's token) to a "
    "valid bot token, starting xoxb-, and restart monitor",
    "not_authed": "no token was sent: set the route's token",
    "token_revoked": "the token was revoked: reinstall the Slack app, set the new token and "
    "restart monitor",
    "missing_scope": "the token lacks a scope: add chat:write to the Slack app and reinstall it",
    "account_inactive": "the app's bot user was deactivated: reinstall the Slack app",
}


class RouteProblem(NamedTuple):
    """What is wrong with one route: its name, Slack's error code, what to do about it."""

    route: str
    code: str
    error: str  # as the sink said it, e.g. "auth.test: invalid_auth"
    hint: str

    @property
    def line(self) -> str:
        return f"route {self.route!r}: {self.error} ({self.hint})"


def verify_routes(sinks: Mapping[str, Sink], *, permanent_only: bool = False) -> list[str]:
    """One clear line per problem ``route_problems`` finds, [] when all is well."""
    return [p.line for p in route_problems(sinks, permanent_only=permanent_only)]


def route_problems(
    sinks: Mapping[str, Sink], *, permanent_only: bool = False
) -> list[RouteProblem]:
    """auth.test for every bot-token route, and the ID of a channel given by name. A channel
    that cannot be looked up is no problem (posting works): the sink logs why and keeps it
    in ``channel_note``. At start-up (``permanent_only``) a channel that is not there for
    the bot (not invited yet) is not one either: the route pauses at its first send, as one
    given by ID does.

    With ``permanent_only``, a Slack that cannot be reached right now (network error, 5xx,
    429) is not a problem: start-up must not fail because Slack had a bad minute.
    """
    problems = []
    for name, sink in sinks.items():
        if not isinstance(sink, SlackSink):
            continue
        try:
            sink.verify()
            # A channel given by name is looked up now; one that cannot be logs why (once).
            sink.channel_id()
        except NotifyError as exc:
            if permanent_only and not isinstance(exc, PermanentNotifyError):
                log.warning("route %s: cannot verify the token now: %s", name, exc)
                continue
            code = getattr(exc, "code", None) or str(exc).rsplit(": ", 1)[-1]
            if permanent_only and code in CHANNEL_GONE:
                # As for a channel given by ID: the route pauses at its first send, and its
                # alerts wait until the bot is invited (the lookup is tried again then).
                log.warning("route %s: %s: its alerts wait until that is fixed", name, exc)
                continue
            hint = HINTS.get(code, "Slack could not be reached or refused the token")
            problems.append(RouteProblem(name, code, str(exc), hint))
    return problems


def fix_for(code: str) -> str:
    """What an operator does about a broken route, by Slack's error code."""
    if code in CHANNEL_GONE:
        return "invite the bot to the channel, or set the route's channel to one it is in"
    # A webhook's 401/403/404/410 carries no code: its URL was revoked or deleted.
    return HINTS.get(code, "check the route's token, channel or URL in monitor.yaml")


def route_health(
    *, session: Session, settings: AlertsSettings, paused: Mapping[str, str] | None = None
) -> dict[str, dict[str, Any]]:
    """Per route: "ok", "failing" (its newest alert failed) or "paused" (a permanent error,
    from ``Dispatcher.health()``), with counts and the last error. For /healthz and logs."""
    states = q.route_states(session=session)
    out: dict[str, dict[str, Any]] = {}
    for name in settings.routes:
        st = states.get(name)
        pause = (paused or {}).get(name, "ok")
        status = "paused" if pause != "ok" else "failing" if st and st.failing else "ok"
        out[name] = {
            "status": status,
            "detail": pause if pause != "ok" else (st.last_error if st and st.failing else None),
            "pending": st.pending if st else 0,
            "sent": st.sent if st else 0,
            "failed": st.failed if st else 0,
            "last_sent_at": st.last_sent_at.isoformat() if st and st.last_sent_at else None,
        }
    return out
