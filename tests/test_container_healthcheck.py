"""The image's HEALTHCHECK asks the port monitor actually listens on."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

DOCKERFILE = Path(__file__).resolve().parents[1] / "Dockerfile"


def healthcheck_command() -> str:
    match = re.search(r"^HEALTHCHECK .*? CMD (.+)$", DOCKERFILE.read_text(), re.MULTILINE)
    assert match, "the Dockerfile declares a HEALTHCHECK"
    # the image's python3 is the virtualenv's; here, the interpreter running the tests
    return match.group(1).replace("python3 ", f"{sys.executable} ", 1)


@pytest.mark.parametrize("listen", ["127.0.0.1:{port}", "0.0.0.0:{port}", ":{port}"])
def test_the_healthcheck_follows_monitor_listen(listen: str) -> None:
    """Two replicas with --network host need two ports: a replica moved off 8080 with
    MONITOR_LISTEN must still be checked, on its own port (not reported unhealthy, nor
    healthy because another process answers on 8080)."""
    asked: list[str] = []

    class Health(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            asked.append(self.path)
            self.send_response(200 if self.path == "/healthz" else 404)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Health)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        env = {**os.environ, "MONITOR_LISTEN": listen.format(port=server.server_address[1])}
        done = subprocess.run(["/bin/sh", "-c", healthcheck_command()], env=env, timeout=30)
    finally:
        server.shutdown()
        server.server_close()
    assert done.returncode == 0
    assert asked == ["/healthz"]
