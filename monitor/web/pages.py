"""The console's HTML pages; forms post to the same actions the API runs."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from monitor.errors import MonitorError
from monitor.storage.audit import recent_actions
from monitor.storage.feeds import feed_health
from monitor.storage.listing import list_stories
from monitor.storage.models import Story
from monitor.web import actions
from monitor.web.auth import Access, Caller
from monitor.web.deps import console_of, csrf_token, current_caller, db_session, require_csrf
from monitor.web.evidence import story_detail, story_summary
from monitor.web.filters import cursor, story_filter

DB = Annotated[Session, Depends(db_session)]
Csrf = Annotated[str | None, Form()]
FILTERS = ("q", "severity", "incident_type", "entity", "place", "rule", "source", "since", "until")


class LoginNeeded(Exception):
    pass


def page_caller(request: Request) -> Caller:
    caller = current_caller(request)
    if caller is None:
        raise LoginNeeded
    return caller


def action_caller(request: Request) -> Caller:
    """Actions never redirect to a login page: without a login they are refused."""
    caller = current_caller(request)
    if caller is None:
        raise HTTPException(401, "log in first")
    return caller


Viewer = Annotated[Caller, Depends(page_caller)]
Actor = Annotated[Caller, Depends(action_caller)]


def render(request: Request, name: str, caller: Caller | None, **context: Any) -> HTMLResponse:
    console = console_of(request)
    response: HTMLResponse = request.app.state.templates.TemplateResponse(
        request,
        name,
        {
            "caller": caller,
            "csrf": csrf_token(request),
            "open_console": not console.settings.login_required,
            "listen": console.settings.listen,
            **context,
        },
    )
    return response


def pages_router() -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/login")
    def login_page(request: Request) -> HTMLResponse:
        return render(request, "login.html", None, error=None)

    @router.post("/login", response_model=None)
    def login(
        request: Request,
        username: Annotated[str, Form()],
        password: Annotated[str, Form()],
        csrf: Csrf = None,
    ) -> Response:
        require_csrf(request, csrf)
        access: Access = request.app.state.access
        caller = access.login(username, password)
        if caller is None:
            return render(request, "login.html", None, error="wrong user name or password")
        request.session.clear()
        request.session["user"] = caller.name
        return RedirectResponse("/", status_code=303)

    @router.post("/logout")
    def logout(request: Request, csrf: Csrf = None) -> RedirectResponse:
        require_csrf(request, csrf)
        request.session.clear()
        return RedirectResponse("/login", status_code=303)

    @router.get("/")
    def stories(request: Request, caller: Viewer, session: DB) -> HTMLResponse:
        params = {k: request.query_params.get(k, "") for k in FILTERS}
        page = list_stories(
            session=session,
            filters=story_filter(**params),
            after=cursor(request.query_params.get("after")),
        )
        more = None
        if page.next:
            more = {**{k: v for k, v in params.items() if v}, "after": page.next.encode()}
        return render(
            request, "stories.html", caller,
            stories=[story_summary(s) for s in page.stories], params=params, more=more,
        )  # fmt: skip

    @router.get("/stories/{story_id}")
    def story(request: Request, story_id: int, caller: Viewer, session: DB) -> HTMLResponse:
        row = session.get(Story, story_id)
        if row is None:
            raise HTTPException(404, f"no story {story_id}")
        return render(request, "story.html", caller, story=story_detail(session=session, story=row))

    @router.get("/feeds")
    def feeds(request: Request, caller: Viewer, session: DB) -> HTMLResponse:
        return render(request, "feeds.html", caller, feeds=feed_health(session=session))

    @router.get("/audit")
    def audit(request: Request, caller: Viewer, session: DB) -> HTMLResponse:
        return render(request, "audit.html", caller, entries=recent_actions(session=session))

    @router.post("/stories/{story_id}/mute")
    def mute(
        request: Request, story_id: int, caller: Actor, session: DB,
        csrf: Csrf = None, undo: Annotated[bool, Form()] = False,
    ) -> RedirectResponse:  # fmt: skip
        require_csrf(request, csrf)
        _act(lambda: actions.mute(console_of(request), session, caller, story_id, not undo))
        return RedirectResponse(f"/stories/{story_id}", status_code=303)

    @router.post("/stories/{story_id}/not-relevant")
    def not_relevant(
        request: Request, story_id: int, caller: Actor, session: DB, csrf: Csrf = None
    ) -> RedirectResponse:
        require_csrf(request, csrf)
        _act(lambda: actions.not_relevant(console_of(request), session, caller, story_id))
        return RedirectResponse(f"/stories/{story_id}", status_code=303)

    @router.post("/stories/{story_id}/merge")
    def merge(
        request: Request, story_id: int, other: Annotated[int, Form()], caller: Actor,
        session: DB, csrf: Csrf = None,
    ) -> RedirectResponse:  # fmt: skip
        require_csrf(request, csrf)
        _act(lambda: actions.merge(console_of(request), session, caller, story_id, other))
        return RedirectResponse(f"/stories/{story_id}", status_code=303)

    @router.post("/articles/{article_id}/split")
    def split(
        request: Request, article_id: int, caller: Actor, session: DB, csrf: Csrf = None,
        back: Annotated[int | None, Form()] = None,
    ) -> RedirectResponse:  # fmt: skip
        require_csrf(request, csrf)
        new = _act(lambda: actions.split(console_of(request), session, caller, article_id))
        return RedirectResponse(f"/stories/{back or new}", status_code=303)

    return router


def _act(work: Any) -> Any:
    """A refused correction (no such story, merging into itself) is a 409 saying why."""
    try:
        return work()
    except MonitorError as exc:
        raise HTTPException(409, str(exc)) from exc
