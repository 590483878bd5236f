"""/api/v1: the console's data and actions as JSON (OpenAPI at /api/v1/openapi.json).

Callers authenticate with ``Authorization: Bearer <token>`` (web.api_tokens) or the
console's session cookie, which then needs the ``X-CSRF-Token`` header on POST.
"""

from __future__ import annotations

from dataclasses import asdict, replace
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException, Path, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from monitor.errors import MonitorError
from monitor.storage.feeds import feed_health
from monitor.storage.listing import CURSOR_PATTERN, list_stories
from monitor.storage.models import Story
from monitor.web import actions
from monitor.web.auth import Caller
from monitor.web.deps import console_of, current_caller, db_session, require_csrf
from monitor.web.evidence import story_detail, story_summary
from monitor.web.filters import cursor, story_filter

DB = Annotated[Session, Depends(db_session)]
RowId = Annotated[int, Path(ge=1, le=2**31 - 1)]  # an INTEGER column on every backend


class StorySummary(BaseModel):
    id: int
    headline: str
    severity: str | None
    muted: bool
    source_count: int
    incident_types: list[str]
    entities: list[str]
    place: str | None
    first_seen: datetime
    last_seen: datetime


class StoryList(BaseModel):
    stories: list[StorySummary]
    next: str | None  # pass as ?after= for the next page


class Source(BaseModel):
    article_id: int
    outlet: str | None
    title: str
    url: str | None
    published: datetime
    story_reason: str | None
    pinned: bool
    rules: list[str | None]
    matched: list[str]


class Alert(BaseModel):
    id: int
    route: str
    kind: str
    status: str
    attempts: int
    sent_at: datetime | None
    last_error: str | None
    channel: str | None
    message_ts: str | None


class StoryDetail(BaseModel):
    id: int
    headline: str
    severity: str | None
    muted: bool
    incident_types: list[str]
    place: str | None
    actors: list[str]
    date: str | None
    killed: int | None
    wounded: int | None
    summary: str
    first_seen: datetime
    last_seen: datetime
    sources: list[Source]
    alerts: list[Alert]


class FeedState(BaseModel):
    configured_url: str
    url: str
    title: str | None
    state: str  # ok | failing | gone | paused | new | removed
    last_status: int | None
    last_success_at: datetime | None
    consecutive_errors: int
    last_error: str | None
    last_warning: str | None
    next_poll_at: datetime | None
    entries_seen: int


class Done(BaseModel):
    ok: bool
    story_id: int | None = None
    rules: list[str] = []


class MergeRequest(BaseModel):
    other: int = Field(ge=1, le=2**31 - 1)


class MuteRequest(BaseModel):
    muted: bool = True


def api_caller(request: Request) -> Caller:
    caller = current_caller(request)
    if caller is None:
        raise HTTPException(401, "an API token (Authorization: Bearer ...) or a login is needed")
    return caller


def api_actor(request: Request, x_csrf_token: Annotated[str | None, Header()] = None) -> Caller:
    caller = api_caller(request)
    require_csrf(request, x_csrf_token)
    return caller


Reader = Annotated[Caller, Depends(api_caller)]
Actor = Annotated[Caller, Depends(api_actor)]
ERRORS: dict[int | str, dict[str, Any]] = {
    409: {"description": "correction refused (no such article, a story into itself)"},
    401: {"description": "not logged in"},
    403: {"description": "CSRF token missing"},
    404: {"description": "no such story"},
    422: {"description": "bad parameter"},
}


def api_router() -> APIRouter:
    router = APIRouter(responses=ERRORS)

    @router.get("/stories", response_model=StoryList)
    def stories(
        _caller: Reader,
        session: DB,
        q: str = "",
        severity: str | None = None,
        incident_type: str | None = None,
        entity: str | None = None,
        place: str | None = None,
        rule: str | None = None,
        source: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        after: Annotated[str | None, Query(pattern=CURSOR_PATTERN.pattern)] = None,
        limit: Annotated[int, Query(ge=1, le=200)] = 50,
    ) -> dict[str, Any]:
        filters = story_filter(
            q=q, severity=severity, incident_type=incident_type, entity=entity, place=place,
            rule=rule, source=source,
        )  # fmt: skip
        filters = replace(filters, since=_aware(since), until=_aware(until))
        page = list_stories(session=session, filters=filters, after=cursor(after), limit=limit)
        return {
            "stories": [story_summary(s) for s in page.stories],
            "next": page.next.encode() if page.next else None,
        }

    @router.get("/stories/{story_id}", response_model=StoryDetail)
    def story(story_id: RowId, _caller: Reader, session: DB) -> dict[str, Any]:
        return story_detail(session=session, story=_story(session, story_id))

    @router.get("/feeds", response_model=list[FeedState])
    def feeds(_caller: Reader, session: DB) -> list[dict[str, Any]]:
        return [asdict(h) for h in feed_health(session=session)]

    @router.post("/stories/{story_id}/mute", response_model=Done)
    def mute(
        request: Request, story_id: RowId, body: MuteRequest, caller: Actor, session: DB
    ) -> Done:
        _story(session, story_id)
        _act(lambda: actions.mute(console_of(request), session, caller, story_id, body.muted))
        return Done(ok=True, story_id=story_id)

    @router.post("/stories/{story_id}/not-relevant", response_model=Done)
    def not_relevant(request: Request, story_id: RowId, caller: Actor, session: DB) -> Done:
        _story(session, story_id)
        rules = _act(lambda: actions.not_relevant(console_of(request), session, caller, story_id))
        return Done(ok=True, story_id=story_id, rules=rules)

    @router.post("/stories/{story_id}/merge", response_model=Done)
    def merge(
        request: Request, story_id: RowId, body: MergeRequest, caller: Actor, session: DB
    ) -> Done:
        _story(session, story_id)
        kept = _act(
            lambda: actions.merge(console_of(request), session, caller, story_id, body.other)
        )
        return Done(ok=True, story_id=kept)

    @router.post("/articles/{article_id}/split", response_model=Done)
    def split(request: Request, article_id: RowId, caller: Actor, session: DB) -> Done:
        new = _act(lambda: actions.split(console_of(request), session, caller, article_id))
        return Done(ok=True, story_id=new)

    return router


def _aware(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def _story(session: Session, story_id: int) -> Story:
    row = session.get(Story, story_id)
    if row is None:
        raise HTTPException(404, f"no story {story_id}")
    return row


def _act(work: Any) -> Any:
    try:
        return work()
    except MonitorError as exc:
        raise HTTPException(409, str(exc)) from exc
