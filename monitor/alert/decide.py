"""Does this article alert, and is it a new alert or an update? Decided before routing.

"new": the article that first makes its story alert-worthy (a rule fired on the story).
"update": a later article that adds a source to an already-alerted story.
Entries published longer ago than ``alerts.max_age`` are stored but never alert, so a new
feed's backlog does not flood the channel.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from monitor.types import AlertDecision, Article, Classification, Severity, severity_rank


@dataclass(frozen=True, slots=True)
class StoryState:
    """What the decision needs to know about the story, before this article."""

    story_id: int
    alerted: bool
    severity: Severity | None  # highest severity of the story, including this article
    routes: tuple[str, ...]  # routes the story has alerted to so far
    adds_source: bool  # False when the article repeats a source the story already has


def decide_alert(
    *,
    story: StoryState,
    article: Article,
    classification: Classification,
    now: datetime,
    max_age: timedelta,
) -> AlertDecision:
    severity = max(story.severity, classification.severity, key=severity_rank)
    routes = tuple(dict.fromkeys((*story.routes, *classification.routes)))

    def decision(kind: str | None, reason: str) -> AlertDecision:
        return AlertDecision(
            story_id=story.story_id,
            kind=kind,  # type: ignore[arg-type]
            severity=severity,
            routes=routes if kind else (),
            reason=reason,
        )

    if article.published is not None and now - article.published > max_age:
        return decision(None, f"published {article.published.isoformat()}, older than max_age")
    if story.alerted:
        if not story.adds_source:
            return decision(None, "repeats a source the alerted story already has")
        return decision("update", "adds a source to an alerted story")
    if severity is None:
        return decision(None, "no rule fired on this story")
    return decision("new", "first article that makes the story alert-worthy")
