"""Alerts and routes as the console shows them: each alert's delivery state with a link to
its Slack message where the workspace is configured, and each route's counts."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from monitor.alert.settings import AlertsSettings
from monitor.storage import alerts as q
from monitor.storage.models import AlertRow

STATUSES = (q.PENDING, q.SENT, q.FAILED, q.SKIPPED)


def alert_line(row: AlertRow, settings: AlertsSettings) -> dict[str, Any]:
    route = settings.routes.get(row.route)
    return {
        "id": row.id,
        "story_id": row.story_id,
        "route": row.route,
        "kind": row.kind,
        # pending is "queued" to a reader: waiting for its time, a retry or the dispatcher
        "status": row.status,
        "attempts": row.attempts,
        "created_at": row.created_at,
        "next_attempt_at": row.next_attempt_at if row.status == q.PENDING else None,
        "sent_at": row.sent_at,
        "last_error": row.last_error,
        "channel": row.channel,
        "message_ts": row.message_ts,
        "permalink": route.permalink(row.channel, row.message_ts) if route else None,
    }


def deliveries(
    *, session: Session, settings: AlertsSettings, status: str | None, route: str | None,
    limit: int,
) -> dict[str, Any]:  # fmt: skip
    """Every configured route with its counts, and the newest alerts (filtered)."""
    states = q.route_states(session=session)
    routes = []
    for name, config in settings.routes.items():
        st = states.get(name)
        routes.append({
            "name": name, "type": config.type, "min_severity": config.min_severity,
            "pending": st.pending if st else 0, "sent": st.sent if st else 0,
            "failed": st.failed if st else 0, "last_sent_at": st.last_sent_at if st else None,
            "failing": bool(st and st.failing), "last_error": st.last_error if st else None,
        })  # fmt: skip
    rows = q.recent_alerts(session=session, limit=limit, status=status, route=route)
    return {"routes": routes, "alerts": [alert_line(r, settings) for r in rows]}
