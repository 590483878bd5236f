"""The console's HTML pages; forms post to the same actions the API runs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from monitor.errors import MonitorError
from monitor.fetch import catalog
from monitor.storage.audit import recent_actions
from monitor.storage.feeds import feed_health
from monitor.storage.listing import list_stories
from monitor.storage.models import Story
from monitor.types import SEVERITIES
from monitor.units import counted
from monitor.web import actions
from monitor.web.auth import Access, Caller
from monitor.web.deliveries import STATUSES, deliveries
from monitor.web.deps import console_of, csrf_token, current_caller, db_session, require_csrf
from monitor.web.evidence import story_detail, story_summary
from monitor.web.filters import cursor, story_filter, watchlist_rules
from monitor.web.mapping import located_places, svg_map

DB = Annotated[Session, Depends(db_session)]
Csrf = Annotated[str | None, Form()]
FILTERS = (
    "q", "severity", "incident_type", "entity", "place", "rule", "source", "since", "until",
    "order", "watchlist",
)  # fmt: skip


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
            "proxy_login": console.settings.proxy_login,
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
        watchlists = watchlist_rules(console_of(request).current_watchlist())
        page = list_stories(
            session=session,
            filters=story_filter(**params, watchlists=watchlists),
            after=cursor(request.query_params.get("after")),
        )
        more = None
        if page.next:
            more = {**{k: v for k, v in params.items() if v}, "after": page.next.encode()}
        return render(
            request, "stories.html", caller,
            stories=[story_summary(s) for s in page.stories], params=params, more=more,
            watchlists=list(watchlists), severities=SEVERITIES[::-1],
        )  # fmt: skip

    @router.get("/stories/{story_id}")
    def story(request: Request, story_id: int, caller: Viewer, session: DB) -> HTMLResponse:
        row = session.get(Story, story_id)
        if row is None:
            raise HTTPException(404, f"no story {story_id}")
        detail = story_detail(session=session, story=row, alerts=console_of(request).alerts)
        return render(request, "story.html", caller, story=detail)

    @router.get("/feeds")
    def feeds(request: Request, caller: Viewer, session: DB) -> HTMLResponse:
        notes = request.session.pop("notes", [])
        return render(
            request, "feeds.html", caller, feeds=feed_health(session=session), notes=notes
        )

    @router.post("/feeds/add")
    def add_feed(
        request: Request, url: Annotated[str, Form()], caller: Actor, session: DB,
        csrf: Csrf = None, name: Annotated[str, Form()] = "",
    ) -> RedirectResponse:  # fmt: skip
        require_csrf(request, csrf)
        console = console_of(request)
        return _noted(
            request,
            "/feeds",
            lambda: f"added {actions.add_feed(console, session, caller, url, name)}",
        )

    @router.post("/feeds/pause")
    def pause_feed(
        request: Request, url: Annotated[str, Form()], caller: Actor, session: DB,
        csrf: Csrf = None, resume: Annotated[bool, Form()] = False,
    ) -> RedirectResponse:  # fmt: skip
        require_csrf(request, csrf)
        console = console_of(request)

        def work() -> str:
            actions.pause_feed(console, session, caller, url, not resume)
            return f"{'resumed' if resume else 'paused'} {url}"

        return _noted(request, "/feeds", work)

    @router.post("/feeds/remove")
    def remove_feed(
        request: Request, url: Annotated[str, Form()], caller: Actor, session: DB,
        csrf: Csrf = None,
    ) -> RedirectResponse:  # fmt: skip
        require_csrf(request, csrf)
        console = console_of(request)

        def work() -> str:
            actions.remove_feed(console, session, caller, url)
            return f"removed {url}"

        return _noted(request, "/feeds", work)

    @router.post("/feeds/import-opml")
    def import_opml(
        request: Request, file: UploadFile, caller: Actor, session: DB, csrf: Csrf = None
    ) -> RedirectResponse:
        require_csrf(request, csrf)
        console = console_of(request)
        data = file.file.read(catalog.MAX_OPML_BYTES + 1)

        def work() -> list[str]:
            report = actions.import_opml(console, session, caller, data, file.filename or "")
            return [
                f"OPML: {counted(len(report.added), 'feed')} added, "
                f"{len(report.listed)} listed already",
                *report.errors,
            ]

        return _noted(request, "/feeds", work)

    @router.get("/map")
    def story_map(request: Request, caller: Viewer, session: DB) -> HTMLResponse:
        console = console_of(request)
        days = 30
        places = located_places(
            session=session, watchlist=console.current_watchlist(), now=console.clock(),
            days=days,
        )  # fmt: skip
        return render(request, "map.html", caller, map=svg_map(places), days=days)

    @router.get("/alerts")
    def alerts(request: Request, caller: Viewer, session: DB) -> HTMLResponse:
        status = request.query_params.get("status") or None
        route = request.query_params.get("route") or None
        data = deliveries(
            session=session, settings=console_of(request).alerts,
            status=status if status in STATUSES else None, route=route, limit=200,
        )  # fmt: skip
        notes = request.session.pop("notes", [])
        return render(
            request, "alerts.html", caller, **data, notes=notes, status=status, route=route,
            statuses=STATUSES,
        )  # fmt: skip

    @router.post("/alerts/{alert_id}/retry")
    def retry_alert(
        request: Request, alert_id: int, caller: Actor, session: DB, csrf: Csrf = None
    ) -> RedirectResponse:
        require_csrf(request, csrf)
        console = console_of(request)

        def work() -> str:
            actions.retry_alert(console, session, caller, alert_id)
            return f"alert {alert_id} queued again"

        return _noted(request, "/alerts", work)

    @router.post("/routes/{route}/test")
    def test_alert(
        request: Request, route: str, caller: Actor, session: DB, csrf: Csrf = None
    ) -> RedirectResponse:
        require_csrf(request, csrf)
        console = console_of(request)

        def work() -> str:
            alert_id = actions.test_alert(console, session, caller, route)
            return f"test alert {alert_id} queued for route {route}"

        return _noted(request, "/alerts", work)

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


def _noted(request: Request, back: str, work: Callable[[], str | list[str]]) -> RedirectResponse:
    """Run an action; what it did, or why it was refused, is shown on the page it came from."""
    try:
        done = work()
    except MonitorError as exc:
        done = f"refused: {exc}"
    notes = [done] if isinstance(done, str) else done
    # The notes ride in the session cookie: kept short so the cookie stays small.
    shown = [n[:300] for n in notes[:12]]
    if len(notes) > len(shown):
        shown.append(f"... and {len(notes) - len(shown)} more")
    request.session["notes"] = shown
    return RedirectResponse(back, status_code=303)


def _act(work: Any) -> Any:
    """A refused correction (no such story, merging into itself) is a 409 saying why."""
    try:
        return work()
    except MonitorError as exc:
        raise HTTPException(409, str(exc)) from exc
