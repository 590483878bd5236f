"""Query-string parameters -> a StoryFilter and cursor (shared by pages and the API)."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import HTTPException

from monitor.storage.listing import Cursor, StoryFilter


def story_filter(
    *,
    q: str = "",
    severity: str | None = None,
    incident_type: str | None = None,
    entity: str | None = None,
    place: str | None = None,
    rule: str | None = None,
    source: str | None = None,
    since: str | None = None,
    until: str | None = None,
) -> StoryFilter:
    return StoryFilter(
        text=q,
        severity=severity or None,
        incident_type=incident_type or None,
        entity=entity or None,
        place=place or None,
        rules=(rule,) if rule else (),
        source=source or None,
        since=_time(since, "since"),
        until=_time(until, "until"),
    )


def cursor(after: str | None) -> Cursor | None:
    if not after:
        return None
    try:
        return Cursor.decode(after)
    except ValueError as exc:
        raise HTTPException(422, "after: not a cursor from a previous page") from exc


def _time(value: str | None, name: str) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise HTTPException(422, f"{name}: not an ISO 8601 date or time") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
