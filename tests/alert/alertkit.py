"""Helpers for alert tests: settings for the fake Slack, stories built directly in the DB."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fakeslack import FakeSlack
from sqlalchemy.orm import Session

from monitor.alert.outbox import enqueue
from monitor.alert.settings import AlertsSettings, DispatchSettings, RouteConfig
from monitor.alert.view import Source, StoryView
from monitor.storage.models import ArticleRow, Story
from monitor.types import AlertDecision

T0 = datetime(2020, 3, 12, 20, 0, tzinfo=UTC)
FAST = DispatchSettings(
    channel_interval=timedelta(0),
    retry_base=timedelta(seconds=1),
    request_timeout=timedelta(seconds=1),
)


def settings_for(routes: dict[str, RouteConfig], **kw: Any) -> AlertsSettings:
    return AlertsSettings(routes=routes, dispatch=kw.pop("dispatch", FAST), **kw)


def bot_route(slack: FakeSlack, **kw: Any) -> RouteConfig:
    return RouteConfig(
        type="slack", token=slack.token, channel=slack.channel, api_url=slack.api_url, **kw
    )


def sample_view(**kw: Any) -> StoryView:
    """A story as a message shows it, for rendering tests; ``kw`` replaces fields."""
    base: dict[str, Any] = dict(
        story_id=7,
        headline="Rockets hit Camp Taji",
        severity="high",
        incident_types=("Rocket attack",),
        place="Camp Taji",
        entities=("Camp Taji", "Kataib Hezbollah"),
        killed=3,
        wounded=14,
        evidence="About 15 rockets struck Camp Taji late on Wednesday.",
        matched=("rockets", "struck", "Camp Taji"),
        sources=(Source("Outlet A", "http://127.0.0.1:8001/1", "Rockets hit base", T0),),
        first_seen=T0,
    )
    return StoryView(**(base | kw))


def classification(
    *,
    label: str = "Rocket attack",
    sentence: str = "",
    matched: tuple[str, ...] = (),
    entities: tuple[tuple[str, str, str], ...] = (),
    killed: int | None = None,
) -> dict[str, Any]:
    """The JSON the pipeline stores on an article (dataclasses.asdict of Classification + keys)."""
    evidence = [
        {
            "term": w,
            "matched": w,
            "weight": 1.0,
            "start": 0,
            "end": 0,
            "sentence": sentence,
            "negative": False,
        }
        for w in matched
    ]
    return {
        "incident_types": [
            {
                "id": label.lower().replace(" ", "_"),
                "label": label,
                "score": 2.0,
                "threshold": 1.0,
                "acled": "Shelling/artillery/missile attack",
                "evidence": evidence,
                "ancestors": [],
            }
        ],
        "entities": [
            {"id": i, "kind": k, "name": n, "mentions": [{"text": n, "start": 0, "end": 0}]}
            for i, k, n in entities
        ],
        "casualties": {"killed": killed, "wounded": None, "evidence": []},
        "rules": [],
        "severity": "high",
        "routes": [],
    }


def add_story(
    session: Session,
    *,
    headline: str = "Rockets hit a base north of the capital",
    severity: str = "high",
    first_seen: datetime = T0,
    muted: bool = False,
) -> Story:
    story = Story(
        headline=headline,
        first_seen=first_seen,
        last_seen=first_seen,
        severity=severity,
        muted=muted,
        incident_types=["rocket_attack"],
        source_count=0,
    )
    session.add(story)
    session.flush()
    return story


def add_article(
    session: Session,
    story: Story,
    *,
    key: str,
    outlet: str,
    url: str | None = None,
    title: str = "Rockets strike base",
    published: datetime = T0,
    severity: str = "high",
    cls: dict[str, Any] | None = None,
    processed: datetime | None = None,
) -> ArticleRow:
    article = ArticleRow(
        key=key,
        # One loopback name (RFC 6761) per outlet; alerts only show it as a link.
        url=url or f"https://{outlet.lower().replace(' ', '')}.localhost/{key}",
        title=title,
        text="Body.",
        source=outlet,
        published_at=published,
        processed_at=processed or published,
        classification=cls if cls is not None else classification(),
        severity=severity,
        story_id=story.id,
    )
    session.add(article)
    story.source_count += 1
    story.last_seen = max(story.last_seen, published)
    session.flush()
    return article


def queue_new_story(
    session: Session,
    settings: AlertsSettings,
    *,
    headline: str,
    key: str,
    outlet: str,
    now: datetime = T0,
) -> Story:
    """A story with one article and its first alert queued for the route ``ops``."""
    story = add_story(session, headline=headline)
    article = add_article(session, story, key=key, outlet=outlet)
    decision = AlertDecision(story.id, "new", "high", ("ops",))
    enqueue(session=session, decision=decision, story=story, article_id=article.id,
            settings=settings, now=now)  # fmt: skip
    return story
