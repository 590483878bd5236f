"""Local HTTP servers that misbehave on purpose, and feed documents written for these tests."""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

Route = Callable[["Handler"], None]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    routes: ClassVar[dict[str, Route]] = {}
    hits: ClassVar[list[tuple[str, dict[str, str]]]] = []

    def do_GET(self) -> None:
        self.hits.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
        route = self.routes.get(self.path.split("?", 1)[0])
        if route is None:
            self.reply(404, b"not here", "text/plain")
        else:
            route(self)

    def reply(self, status: int, body: bytes = b"", ctype: str = "application/rss+xml",
              headers: dict[str, str] | None = None) -> None:  # fmt: skip
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def reset(self) -> None:
        """Abort the connection with a TCP RST instead of answering."""
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.connection.close()

    def drip(self, interval: float, count: int) -> None:
        """Headers, then one byte every ``interval`` seconds: alive, never finished."""
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml")
        self.send_header("Content-Length", str(count + 1000))
        self.end_headers()
        try:
            for _ in range(count):
                self.wfile.write(b" ")
                self.wfile.flush()
                time.sleep(interval)
        except OSError:
            pass  # the client gave up, as it should
        self.close_connection = True

    def finish(self) -> None:
        with contextlib.suppress(OSError):
            super().finish()

    def log_message(self, format: str, *args: object) -> None:
        pass


class Server:
    def __init__(self, routes: dict[str, Route]) -> None:
        # A class per server: its routes and hits are class attributes the handlers share.
        handler: type[Handler] = type("H", (Handler,), {"routes": routes, "hits": []})
        self.handler = handler
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.httpd.block_on_close = False
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def url(self, path: str) -> str:
        return self.base + path

    @property
    def hits(self) -> list[tuple[str, dict[str, str]]]:
        return self.handler.hits

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def serve() -> Iterator[Callable[[dict[str, Route]], Server]]:
    """serve(routes) -> a running Server on 127.0.0.1 (one host per server)."""
    servers: list[Server] = []

    def start(routes: dict[str, Route]) -> Server:
        servers.append(Server(routes))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def rss(items: list[tuple[str, str, str]], *, title: str = "Test Wire") -> bytes:
    """An RSS 2.0 feed of (guid, title, pubDate) items, newest first as publishers do."""
    body = "".join(
        f"<item><guid isPermaLink='false'>{g}</guid><title>{t}</title>"
        f"<link>http://127.0.0.1/{g}?utm_source=rss</link><pubDate>{d}</pubDate>"
        f"<description>Report {t} in our own words.</description></item>"
        for g, t, d in items
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{title}</title><link>http://127.0.0.1/</link>{body}</channel></rss>"
    ).encode()


TWO_ITEMS = [
    ("id-2", "Second report", "Thu, 12 Mar 2020 21:00:00 GMT"),
    ("id-1", "First report", "Thu, 12 Mar 2020 20:00:00 GMT"),
]
