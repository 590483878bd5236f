"""The health server: where it listens, and what it answers."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from monitor.errors import ListenError
from monitor.storage.db import session_factory
from monitor.web.server import HealthServer
from monitor.web.settings import WebSettings


def test_a_port_in_use_is_a_listen_error_naming_the_setting(sqlite_engine: Engine) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        settings = WebSettings(listen=f"127.0.0.1:{port}")
        with pytest.raises(ListenError, match=rf"127\.0\.0\.1:{port} \(web\.listen\): .*in use"):
            HealthServer(settings, session_factory(sqlite_engine))


def test_ipv6_listen_address_binds(sqlite_engine: Engine) -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6 on this machine")
    try:
        server = HealthServer(WebSettings(listen="[::1]:0"), session_factory(sqlite_engine))
    except ListenError as exc:  # IPv6 switched off in this container
        pytest.skip(str(exc))
    server.start()
    try:
        with urllib.request.urlopen(f"http://[::1]:{server.port}/healthz", timeout=5) as resp:
            assert resp.status == 200
    finally:
        server.stop()


def test_run_with_the_port_in_use_says_so_in_one_line_and_exits_1(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'monitor.db'}"
    cfg = tmp_path / "monitor.yaml"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        cfg.write_text(
            f"dedup: {{semantic: {{enabled: false}}}}\nweb:\n  listen: 127.0.0.1:{port}\n",
            encoding="utf-8",
        )
        env = {**os.environ, "MONITOR_CONFIG": str(cfg), "MONITOR_DATABASE_URL": db_url}
        monitor = [sys.executable, "-m", "monitor"]
        subprocess.run([*monitor, "db", "upgrade"], env=env, check=True, capture_output=True)
        run = subprocess.run(
            [*monitor, "run"], env=env, capture_output=True, text=True, timeout=120
        )
    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    assert f"cannot listen on 127.0.0.1:{port} (web.listen): Address already in use" in (
        run.stderr.splitlines()
    )
