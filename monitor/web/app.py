"""The console and its JSON API (FastAPI), plus /healthz, /readyz, /metrics and /status.

Pages and /api/v1 call the same queries (monitor.storage.listing, monitor.web.evidence)
and the same corrections as the CLI (monitor.dedup.corrections); every action is written
to the audit log with who did it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector
from starlette.middleware.sessions import SessionMiddleware

from monitor.errors import MonitorError
from monitor.storage.db import require_current_schema
from monitor.web.api import api_router
from monitor.web.auth import Access
from monitor.web.deps import Console
from monitor.web.pages import LoginNeeded, pages_router
from monitor.web.scrape import ScrapeCollector
from monitor.web.times import time_element

log = logging.getLogger(__name__)
HERE = Path(__file__).parent


def create_app(console: Console) -> FastAPI:
    access = Access(console.settings)
    app = FastAPI(
        title="monitor",
        version="1",
        description="Stories, their evidence and alerts; operator corrections.",
        docs_url="/api/v1/docs",
        openapi_url="/api/v1/openapi.json",
        redoc_url=None,
    )
    app.state.console = console
    app.state.access = access
    app.state.templates = Jinja2Templates(directory=HERE / "templates")
    app.state.templates.env.filters["instant"] = time_element
    app.add_middleware(
        SessionMiddleware,
        secret_key=access.secret_key,
        session_cookie="monitor_session",
        same_site="strict",
        https_only=False,
    )
    app.include_router(_health_router(console))
    if console.settings.console:
        app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
        app.include_router(pages_router())
        app.add_exception_handler(LoginNeeded, _to_login)
        app.include_router(api_router(), prefix="/api/v1")
    return app


def _health_router(console: Console) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/healthz")
    def healthz() -> dict[str, bool]:
        return {"ok": True}

    @router.get("/readyz")
    def readyz() -> JSONResponse:
        try:
            require_current_schema(console.sessions.kw["bind"])
        except MonitorError as exc:
            return JSONResponse({"ready": False, "reason": str(exc)}, status_code=503)
        return JSONResponse({"ready": True})

    @router.get("/status")
    def status() -> Response:
        """Never an empty reply: a failure while answering is a 500 that says what failed."""
        if console.status is None:
            return _json(404, {"error": "no status here"})
        try:
            code, body = console.status()
        except Exception as exc:
            log.exception("/status failed")
            return _json(500, {"error": f"{exc.__class__.__name__}: {exc}"})
        return _json(code, body)

    scraped = ScrapeCollector(
        sessions=console.sessions, clock=console.clock, routes=console.alerts.routes,
        paused=console.paused,
    )  # fmt: skip

    @router.get("/metrics")
    def metrics() -> Response:
        # This app's own collector, not the global registry's: two apps in one process
        # (tests) would otherwise register the same names twice.
        both = _Registries(REGISTRY, scraped)
        return Response(generate_latest(both), media_type=CONTENT_TYPE_LATEST)

    return router


class _Registries:
    """What generate_latest reads: the process's metrics, then those read at scrape time."""

    def __init__(self, *collectors: Collector) -> None:
        self._collectors = collectors

    def collect(self) -> Iterator[Metric]:
        for collector in self._collectors:
            yield from collector.collect()


async def _to_login(_request: object, _exc: Exception) -> Response:
    return RedirectResponse("/login", status_code=303)


def _json(status: int, body: Any) -> Response:
    return Response(
        json.dumps(body, default=json_value), status_code=status, media_type="application/json"
    )


def json_value(value: Any) -> str:
    """Datetimes as ISO-8601 (with the T), anything else as its string."""
    return value.isoformat() if isinstance(value, datetime) else str(value)
