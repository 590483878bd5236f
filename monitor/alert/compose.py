"""Turn claimed outbox rows into what a sink sends, rendering the story as it is *now*.

Rendering at send time (not enqueue time) means a retried or delayed alert always shows
the latest sources and severity.
"""

from __future__ import annotations

import json
from dataclasses import asdict, replace
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from monitor.alert import render
from monitor.alert.changes import (
    Change,
    as_dict,
    compare,
    shown_from_dict,
    shown_of,
    without_history,
)
from monitor.alert.settings import RouteConfig
from monitor.alert.sinks import MessageRef, Outgoing, json_payload
from monitor.alert.view import Source, StoryView, for_route, source_of, story_view
from monitor.classify.rules import severity_why
from monitor.storage import alerts as q
from monitor.storage.models import AlertRow, ArticleRow, Story


class NotReady(Exception):
    """The alert must wait: its story's first message on this route is not out yet."""


def view_of(session: Session, story: Story, route: str) -> StoryView:
    """The story as ``route`` shows it: with the rules that sent it there, no others."""
    return for_route(story_view(story, q.story_articles(session=session, story_id=story.id)), route)


def story_dict(view: StoryView) -> dict[str, Any]:
    """The story as plain JSON values (datetimes as ISO 8601), for webhook receivers."""
    data = asdict(view)
    data["url"] = view.url
    # Why the alert came, as data: each rule with what it matched and why its severity.
    data["rules"] = [
        {
            "rule_id": r.rule_id,
            "severity": r.severity,
            "routes": list(r.routes),
            "reason": r.reason,
            "severity_reason": severity_why(r),
        }
        for r in view.rules
    ]
    return json.loads(json.dumps(data, default=lambda v: v.isoformat()))


def compose_new(session: Session, alert: AlertRow, story: Story, maybe_sent: bool) -> Outgoing:
    view = view_of(session, story, alert.route)
    base = Outgoing(
        alert_ids=(alert.id,),
        kind="new",
        story_id=story.id,
        message=render.story_message(view),
        compact=render.compact_message(view),
        maybe_sent=maybe_sent,
        shown=shown_of(view).to_dict(),
    )
    return _with_payload(base, view)


def compose_update(
    session: Session, alerts: list[AlertRow], story: Story, route: RouteConfig, maybe_sent: bool
) -> Outgoing:
    """A thread reply + in-place edit (bot), or one follow-up covering every pending update."""
    lead = alerts[0]
    placed = q.story_message(session=session, story_id=story.id, route=lead.route)
    if placed is None:
        raise NotReady(f"story {story.id} has no message on route {lead.route} yet")
    view = view_of(session, story, lead.route)
    new = _sources(session, alerts)
    changes = _changes(session, alerts, story.id, placed.shown, view, new)
    thread = (
        MessageRef(placed.channel, placed.ts)
        if route.type == "slack" and placed.channel and placed.ts
        else None
    )
    bot = thread is not None
    message = (
        render.update_reply(view, new, changes)
        if bot
        else render.followup_message(view, new, changes)
    )
    base = Outgoing(
        alert_ids=tuple(a.id for a in alerts),
        kind="update",
        story_id=story.id,
        message=message,
        maybe_sent=maybe_sent,
        parent=render.story_message(view) if bot else None,
        thread=thread,
        shown=shown_of(view).to_dict(),
    )
    out = _with_payload(base, view)
    return replace(out, payload=out.payload | {"changes": [as_dict(c) for c in changes]})


def compose_correction(
    session: Session, alert: AlertRow, story: Story, route: RouteConfig, maybe_sent: bool
) -> Outgoing:
    """An operator's split or merge: the story's message re-rendered in place (bot routes)
    with a thread note, or a follow-up (webhooks), so the channel never shows stale sources."""
    placed = q.story_message(session=session, story_id=story.id, route=alert.route)
    if placed is None:
        raise NotReady(f"story {story.id} has no message on route {alert.route} yet")
    view = view_of(session, story, alert.route)
    moved = session.get(ArticleRow, alert.article_id) if alert.article_id is not None else None
    note = render.correction_note(view, source_of(moved) if moved is not None else None)
    thread = (
        MessageRef(placed.channel, placed.ts)
        if route.type == "slack" and placed.channel and placed.ts
        else None
    )
    base = Outgoing(
        alert_ids=(alert.id,),
        kind="update",
        story_id=story.id,
        message=note,
        maybe_sent=maybe_sent,
        parent=render.story_message(view) if thread is not None else None,
        thread=thread,
        # Re-rendered in place: later updates are measured against the corrected story.
        shown=shown_of(view).to_dict() if thread is not None else None,
    )
    return _with_payload(base, view)


def compose_digest(
    session: Session, alerts: list[AlertRow], period: str, maybe_sent: bool
) -> Outgoing:
    stories: dict[int, Story] = {}
    for alert in alerts:
        if alert.story_id is None:  # a test alert is never in a digest; nothing to show
            continue
        story = q.live_story(session=session, story_id=alert.story_id)
        if story is not None and not story.muted:
            stories.setdefault(story.id, story)
    views = sorted(
        (view_of(session, s, alerts[0].route) for s in stories.values()),
        key=lambda v: v.first_seen,
        reverse=True,
    )
    message = render.digest_message(views, period)
    base = Outgoing(
        alert_ids=tuple(a.id for a in alerts),
        kind="digest",
        story_id=None,
        message=message,
        maybe_sent=maybe_sent,
    )
    payload = json_payload(base, None) | {"stories": [story_dict(v) for v in views]}
    return replace(base, payload=payload)


def compose_test(
    route_name: str, now: datetime, *, alert_id: int = 0, maybe_sent: bool = False
) -> Outgoing:
    """A sample alert for `monitor test-alert` and the console's test alerts (an outbox row,
    ``alert_id``): obviously a test, shaped like the real thing."""
    view = StoryView(
        story_id=0,
        headline=f"Test alert from monitor for route {route_name}",
        severity="info",
        incident_types=("Test",),
        place="Nowhere",
        entities=("monitor",),
        killed=None,
        wounded=None,
        evidence="This is a test message; the matched words appear in bold.",
        matched=("test", "bold"),
        sources=(Source("monitor", None, "Test alert", now),),
        first_seen=now,
    )
    base = Outgoing(
        alert_ids=(alert_id,), kind="test", story_id=None, message=render.story_message(view),
        maybe_sent=maybe_sent,
    )  # fmt: skip
    return _with_payload(base, view)


def _with_payload(base: Outgoing, view: StoryView) -> Outgoing:
    return replace(base, payload=json_payload(base, story_dict(view)))


def _sources(session: Session, alerts: list[AlertRow]) -> list[Source]:
    rows = [session.get(ArticleRow, a.article_id) for a in alerts if a.article_id is not None]
    return [source_of(r) for r in rows if r is not None]


def _changes(
    session: Session,
    alerts: list[AlertRow],
    story_id: int,
    stored: object,
    view: StoryView,
    new: list[Source],
) -> tuple[Change, ...]:
    """What changed since the route's message was last sent, from the state stored then.
    A message sent before that state was stored is compared on severity alone (its first
    alert's), so an update never claims a change it cannot know about."""
    now = shown_of(view)
    before = shown_from_dict(stored)
    if before is None:
        first = q.first_alert(session=session, story_id=story_id, route=alerts[0].route, kind="new")
        before = without_history(now, first.severity if first else None)
    return compare(before, now, [s.outlet for s in new])
