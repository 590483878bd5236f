"""What every page and API call shares: the injected service parts, the caller, the
database session, the CSRF check."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fastapi import HTTPException, Request
from sqlalchemy.orm import Session, sessionmaker

from monitor.alert.settings import AlertsSettings
from monitor.classify.watchlist import Watchlist
from monitor.storage.db import transaction
from monitor.web.auth import Access, Caller, new_csrf_token, same_token
from monitor.web.settings import ProxyLogin, WebSettings

Status = Callable[[], tuple[int, dict[str, Any]]]


@dataclass(frozen=True)
class Console:
    """What the web app needs from the service: injected, never read from globals."""

    settings: WebSettings
    sessions: sessionmaker[Session]
    clock: Callable[[], datetime]
    alerts: AlertsSettings = field(default_factory=AlertsSettings)
    status: Status | None = None
    # The watchlists in force (they reload while the service runs): for the watchlist
    # filter and the map's coordinates. None: no watchlists (a console over a database).
    watchlist: Callable[[], Watchlist] | None = None
    # Route -> paused in this process, for /metrics (None: no dispatcher here).
    paused: Callable[[], Mapping[str, bool]] | None = None

    def current_watchlist(self) -> Watchlist | None:
        return self.watchlist() if self.watchlist is not None else None


def db_session(request: Request) -> Iterator[Session]:
    with transaction(request.app.state.console.sessions) as session:
        yield session


def console_of(request: Request) -> Console:
    console: Console = request.app.state.console
    return console


def current_caller(request: Request) -> Caller | None:
    access: Access = request.app.state.access
    if not access.login_required:
        return Caller("local", "loopback")
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return access.token(header[7:].strip())
    proxy = console_of(request).settings.proxy_login
    if proxy is not None:
        return _proxy_caller(request, proxy)
    user = request.session.get("user")
    return Caller(str(user), "session") if user else None


def _proxy_caller(request: Request, proxy: ProxyLogin) -> Caller | None:
    """The user the trusted proxy names; 403 for a request that did not come through it
    (its header could be anyone's claim). uvicorn runs without proxy_headers, so the
    client address is the connecting peer, never an X-Forwarded-For value."""
    peer = request.client.host if request.client else None
    if not proxy.trusts(peer):
        raise HTTPException(403, f"requests must come through the login proxy (not {peer})")
    user = request.headers.get(proxy.header, "").strip()
    return Caller(user[:128], "proxy") if user else None


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = new_csrf_token()
    return str(token)


def require_csrf(request: Request, given: str | None) -> None:
    """403 unless the form or header carries the session's CSRF token (token callers,
    who send no cookie, need none)."""
    caller = current_caller(request)
    if caller is not None and caller.via == "token":
        return
    if not same_token(given, request.session.get("csrf")):
        raise HTTPException(403, "missing or wrong CSRF token: reload the page")
