"""/api/v1: the console's data and actions as JSON (OpenAPI at /api/v1/openapi.json).

Callers authenticate with ``Authorization: Bearer <token>`` (web.api_tokens) or the
console's session cookie, which then needs the ``X-CSRF-Token`` header on POST.
"""

from __future__ import annotations

from dataclasses import asdict, replace
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, HTTPException, Path, Query, Request, UploadFile
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from monitor.errors import FeedListError, MonitorError
from monitor.fetch import catalog
from monitor.storage.feeds import feed_health
from monitor.storage.listing import CURSOR_PATTERN, list_stories
from monitor.storage.models import Story
from monitor.web import actions
from monitor.web.auth import Caller
from monitor.web.deliveries import deliveries
from monitor.web.deps import console_of, current_caller, db_session, require_csrf
from monitor.web.evidence import story_detail, story_summary
from monitor.web.filters import cursor, story_filter, watchlist_rules
from monitor.web.mapping import located_places, place_json

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
    story_reason: str | None  # the grouper's figures
    story_why: str  # the same in words; "" when the reason's shape is not known
    pinned: bool
    rules: list[str | None]
    matched: list[str]


class Alert(BaseModel):
    id: int
    story_id: int | None  # None for a test alert
    route: str
    kind: str  # new | update | correction | test
    status: str  # pending (queued) | sent | failed | skipped
    attempts: int
    created_at: datetime
    next_attempt_at: datetime | None
    sent_at: datetime | None
    last_error: str | None
    channel: str | None
    message_ts: str | None
    permalink: str | None  # the Slack message, when the route's workspace_url is set


class Route(BaseModel):
    name: str
    type: str
    min_severity: str
    pending: int
    sent: int
    failed: int
    last_sent_at: datetime | None
    failing: bool  # its newest finished alert failed
    last_error: str | None


class Deliveries(BaseModel):
    routes: list[Route]
    alerts: list[Alert]


class Queued(BaseModel):
    ok: bool
    alert_id: int


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
    origin: str  # config (YAML: remove it there) | console (added at run time)
    operator_paused: bool  # paused from the console


# What monitor.yaml accepts, spelled out for the OpenAPI description (http or https and a
# host name or IPv4 address; an IPv6 feed is added in the YAML).
FEED_URL = r"^[Hh][Tt][Tt][Pp][Ss]?://[A-Za-z0-9.-]+(:[0-9]{1,5})?([/?#][^\x00-\x20\x7f]*)?$"
NO_CONTROL = r"^[^\x00-\x1f]*$"


class NewFeed(BaseModel):
    url: str = Field(max_length=2048, pattern=FEED_URL)
    name: str | None = Field(default=None, max_length=512, pattern=NO_CONTROL)


class FeedPause(BaseModel):
    url: str = Field(min_length=1, max_length=2048, pattern=NO_CONTROL)
    paused: bool = True


class FeedRef(BaseModel):
    url: str = Field(min_length=1, max_length=2048, pattern=NO_CONTROL)


class FeedDone(BaseModel):
    ok: bool
    url: str


class OpmlImport(BaseModel):
    added: list[str]
    listed: list[str]  # listed already (YAML or console): left as they are
    errors: list[str]  # one line per bad entry; the good ones were still added


class MapPlace(BaseModel):
    id: str  # the watchlist entity id of the place
    name: str
    lat: float
    lon: float
    stories: list[int]  # newest first


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
    409: {"description": "refused (no such article, a story into itself, a feed listed already)"},
    401: {"description": "not logged in"},
    403: {"description": "CSRF token missing"},
    404: {"description": "no such story"},
    422: {"description": "bad parameter"},
}


def api_router() -> APIRouter:
    router = APIRouter(responses=ERRORS)

    @router.get("/stories", response_model=StoryList)
    def stories(
        request: Request,
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
        watchlist: str | None = None,
        order: Literal["newest", "severity"] = "newest",
        after: Annotated[str | None, Query(pattern=CURSOR_PATTERN.pattern)] = None,
        limit: Annotated[int, Query(ge=1, le=200)] = 50,
    ) -> dict[str, Any]:
        """Stories, newest first or most severe first; ``watchlist`` keeps those a rule of
        that watchlist (its file name without .yaml) fired on."""
        console = console_of(request)
        filters = story_filter(
            q=q, severity=severity, incident_type=incident_type, entity=entity, place=place,
            rule=rule, source=source, order=order, watchlist=watchlist,
            watchlists=watchlist_rules(console.current_watchlist()),
        )  # fmt: skip
        filters = replace(filters, since=_aware(since), until=_aware(until))
        page = list_stories(session=session, filters=filters, after=cursor(after), limit=limit)
        return {
            "stories": [story_summary(s) for s in page.stories],
            "next": page.next.encode() if page.next else None,
        }

    @router.get("/stories/{story_id}", response_model=StoryDetail)
    def story(request: Request, story_id: RowId, _caller: Reader, session: DB) -> dict[str, Any]:
        return story_detail(
            session=session, story=_story(session, story_id), alerts=console_of(request).alerts
        )

    @router.get("/map", response_model=list[MapPlace])
    def story_map(
        request: Request,
        _caller: Reader,
        session: DB,
        days: Annotated[int, Query(ge=1, le=365)] = 30,
    ) -> list[Any]:
        """Places of the stories of the last ``days`` that the watchlist gives coordinates."""
        console = console_of(request)
        places = located_places(
            session=session, watchlist=console.current_watchlist(), now=console.clock(),
            days=days,
        )  # fmt: skip
        return [place_json(p) for p in places]

    @router.get("/alerts", response_model=Deliveries)
    def alerts(
        request: Request,
        _caller: Reader,
        session: DB,
        status: Annotated[str | None, Query(pattern="^(pending|sent|failed|skipped)$")] = None,
        route: Annotated[str | None, Query(max_length=128)] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
    ) -> dict[str, Any]:
        """Every route's counts and the newest alerts with their delivery state."""
        settings = console_of(request).alerts
        return deliveries(
            session=session, settings=settings, status=status, route=route, limit=limit
        )

    @router.post("/alerts/{alert_id}/retry", response_model=Queued)
    def retry_alert(request: Request, alert_id: RowId, caller: Actor, session: DB) -> Queued:
        """Queue a failed alert again; the dispatcher sends it (once) on its next run."""
        _act(lambda: actions.retry_alert(console_of(request), session, caller, alert_id))
        return Queued(ok=True, alert_id=alert_id)

    @router.post("/routes/{route}/test", response_model=Queued)
    def test_alert(
        request: Request,
        route: Annotated[str, Path(max_length=128)],
        caller: Actor,
        session: DB,
    ) -> Queued:
        """Queue a test alert to a route; the dispatcher sends it on its next run."""
        alert_id = _act(lambda: actions.test_alert(console_of(request), session, caller, route))
        return Queued(ok=True, alert_id=alert_id)

    @router.get("/feeds", response_model=list[FeedState])
    def feeds(_caller: Reader, session: DB) -> list[dict[str, Any]]:
        return [asdict(h) for h in feed_health(session=session)]

    @router.post("/feeds", response_model=FeedDone)
    def add_feed(request: Request, body: NewFeed, caller: Actor, session: DB) -> FeedDone:
        """Add a feed (polled from the next scheduler tick on); stored in the database."""
        try:
            feed = catalog.feed_definition(body.url, body.name)
        except FeedListError as exc:
            raise HTTPException(422, str(exc)) from exc
        url = _act(
            lambda: actions.add_feed(console_of(request), session, caller, feed.url, feed.name)
        )
        return FeedDone(ok=True, url=url)

    @router.post("/feeds/pause", response_model=FeedDone)
    def pause_feed(request: Request, body: FeedPause, caller: Actor, session: DB) -> FeedDone:
        """Pause (paused: true) or resume (paused: false) a feed, YAML-defined ones too."""
        console = console_of(request)
        _act(lambda: actions.pause_feed(console, session, caller, body.url, body.paused))
        return FeedDone(ok=True, url=body.url)

    @router.post("/feeds/remove", response_model=FeedDone)
    def remove_feed(request: Request, body: FeedRef, caller: Actor, session: DB) -> FeedDone:
        """Remove a feed added at run time (a YAML feed is removed from the YAML)."""
        _act(lambda: actions.remove_feed(console_of(request), session, caller, body.url))
        return FeedDone(ok=True, url=body.url)

    @router.post("/feeds/import-opml", response_model=OpmlImport)
    def import_opml(request: Request, file: UploadFile, caller: Actor, session: DB) -> OpmlImport:
        """Add the feeds of an OPML file; bad entries are reported, good ones added."""
        data = file.file.read(catalog.MAX_OPML_BYTES + 1)  # spooled by the server already
        console = console_of(request)
        report = _act(
            lambda: actions.import_opml(console, session, caller, data, file.filename or "")
        )
        return OpmlImport(added=list(report.added), listed=list(report.listed),
                          errors=list(report.errors))  # fmt: skip

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
