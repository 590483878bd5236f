"""The web server (`web.listen`): the console's ASGI app under uvicorn, in a thread of its
own with its own event loop, so a slow page never holds up the pipeline's loop.

The socket is bound here, before the thread starts, so a port in use is a ListenError in
one line at start-up and not a log line from inside uvicorn.
"""

from __future__ import annotations

import asyncio
import socket
import threading

import uvicorn

from monitor.errors import ListenError
from monitor.web.app import Console, create_app
from monitor.web.settings import WebSettings


class WebServer:
    def __init__(self, console: Console) -> None:
        self._socket = _bind(console.settings)
        config = uvicorn.Config(
            create_app(console), log_level="warning", access_log=False, lifespan="off",
            # The client address is the connecting peer: web.proxy_login trusts a header by
            # who sent it, which X-Forwarded-For rewriting would let anyone pretend to be.
            proxy_headers=False,
        )  # fmt: skip
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._serve, name="web", daemon=True)

    @property
    def port(self) -> int:
        return int(self._socket.getsockname()[1])

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        self._socket.close()

    def _serve(self) -> None:
        asyncio.run(self._server.serve(sockets=[self._socket]))


def _bind(settings: WebSettings) -> socket.socket:
    """The listening socket; ListenError in one line when the address cannot be had."""
    host, port = settings.address
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        family, _, _, _, address = infos[0]
        sock = socket.socket(family, socket.SOCK_STREAM)
    except OSError as exc:  # a host name that does not resolve
        reason = exc.strerror or str(exc)
        raise ListenError(f"cannot listen on {settings.listen} (web.listen): {reason}") from exc
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError as exc:  # in use, or not ours to bind
        sock.close()
        reason = exc.strerror or str(exc)
        raise ListenError(f"cannot listen on {settings.listen} (web.listen): {reason}") from exc
    sock.set_inheritable(True)
    return sock
