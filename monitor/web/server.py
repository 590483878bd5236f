"""Liveness, readiness and metrics over HTTP (`web.listen`), in a background thread.

/healthz  the process is up
/readyz   the database answers and its schema is current (503 otherwise, with the reason)
/metrics  Prometheus text format
/status   every feed's and alert route's health (JSON); 503 with what is known from memory
          while the database is unreachable
"""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Callable
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy.orm import Session, sessionmaker

from monitor.errors import ListenError, MonitorError
from monitor.storage.db import require_current_schema
from monitor.web.settings import WebSettings

log = logging.getLogger(__name__)


class _Server6(ThreadingHTTPServer):
    address_family = socket.AF_INET6


class HealthServer:
    def __init__(
        self,
        settings: WebSettings,
        sessions: sessionmaker[Session],
        *,
        status: Callable[[], tuple[int, dict[str, Any]]] | None = None,
    ) -> None:
        self._sessions = sessions
        self._status = status
        self._server = _bind(settings, self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def readiness(self) -> tuple[int, dict[str, Any]]:
        engine = self._sessions.kw["bind"]
        try:
            require_current_schema(engine)
        except MonitorError as exc:
            return 503, {"ready": False, "reason": str(exc)}
        return 200, {"ready": True}

    def status(self) -> tuple[int, dict[str, Any]]:
        """Never an empty reply: a failure while answering is a 500 that says what failed."""
        if self._status is None:
            return 404, {"error": "no status here"}
        try:
            return self._status()
        except Exception as exc:
            log.exception("/status failed")
            return 500, {"error": f"{exc.__class__.__name__}: {exc}"}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path == "/healthz":
                    self._send(200, "application/json", b'{"ok": true}')
                elif self.path == "/readyz":
                    status, body = server.readiness()
                    self._send(status, "application/json", json.dumps(body).encode())
                elif self.path == "/status":
                    status, body = server.status()
                    status_json = json.dumps(body, default=_json_value).encode()
                    self._send(status, "application/json", status_json)
                elif self.path == "/metrics":
                    self._send(200, CONTENT_TYPE_LATEST, generate_latest())
                else:
                    self._send(404, "text/plain", b"not found")

            def _send(self, status: int, ctype: str, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        return Handler


def _bind(settings: WebSettings, handler: type[BaseHTTPRequestHandler]) -> ThreadingHTTPServer:
    """The listening server; ListenError in one line when the address cannot be had."""
    host, port = settings.address
    server_class = _Server6 if ":" in host else ThreadingHTTPServer
    try:
        return server_class((host, port), handler)
    except OSError as exc:  # in use, not ours to bind, or a host name that does not resolve
        reason = exc.strerror or str(exc)
        raise ListenError(f"cannot listen on {settings.listen} (web.listen): {reason}") from exc


def _json_value(value: Any) -> str:
    """Datetimes as ISO-8601 (with the T), anything else as its string."""
    return value.isoformat() if isinstance(value, datetime) else str(value)
