"""Query-string parameters -> a StoryFilter and cursor (shared by pages and the API)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from fastapi import HTTPException

from monitor.classify.watchlist import Watchlist
from monitor.storage.listing import ORDERS, Cursor, StoryFilter


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
    order: str | None = None,
    watchlist: str | None = None,
    watchlists: Mapping[str, tuple[str, ...]] | None = None,
) -> StoryFilter:
    """``watchlists``: each watchlist's rule ids (see watchlist_rules); a story is on a
    watchlist when one of its rules fired."""
    if order and order not in ORDERS:
        raise HTTPException(422, f"order: one of {', '.join(ORDERS)}")
    return StoryFilter(
        text=q,
        severity=severity or None,
        incident_type=incident_type or None,
        entity=entity or None,
        place=place or None,
        rules=_rules(rule, watchlist, watchlists or {}),
        source=source or None,
        since=_time(since, "since"),
        until=_time(until, "until"),
        order=order or "newest",
    )


def watchlist_rules(watchlist: Watchlist | None) -> dict[str, tuple[str, ...]]:
    """Watchlist name (its file's name without .yaml) -> the ids of the rules it defines."""
    if watchlist is None:
        return {}
    names = {str(path): path.stem for path in watchlist.files}
    by_name: dict[str, list[str]] = {name: [] for name in names.values()}
    for rule in watchlist.rules:
        name = names.get(rule.source.rsplit(":", 1)[0])
        if name is not None:
            by_name[name].append(rule.id)
    return {name: tuple(ids) for name, ids in sorted(by_name.items())}


def _rules(
    rule: str | None, watchlist: str | None, watchlists: Mapping[str, tuple[str, ...]]
) -> tuple[str, ...]:
    if not watchlist:
        return (rule,) if rule else ()
    rules = tuple(r for r in watchlists.get(watchlist, ()) if not rule or r == rule)
    # No such watchlist, no rule in it (or not the rule asked for): nothing can match, like
    # any other filter value nothing has; "" is a rule id no rule has.
    return rules or ("",)


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
