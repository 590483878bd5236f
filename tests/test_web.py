"""The health server: where it listens, and what it answers."""

from __future__ import annotations

import json
import logging
import os
import shutil
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from monitor.config import load_config
from monitor.errors import ListenError
from monitor.logs import RepeatedError
from monitor.runtime import open_runtime, utcnow
from monitor.scheduler import Service
from monitor.storage.db import session_factory, transaction
from monitor.storage.feeds import sync_feeds
from monitor.web.deps import Console
from monitor.web.server import WebServer
from monitor.web.settings import WebSettings


def test_a_port_in_use_is_a_listen_error_naming_the_setting(sqlite_engine: Engine) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        settings = WebSettings(listen=f"127.0.0.1:{port}")
        with pytest.raises(ListenError, match=rf"127\.0\.0\.1:{port} \(web\.listen\): .*in use"):
            WebServer(Console(settings, session_factory(sqlite_engine), clock=utcnow))


def test_ipv6_listen_address_binds(sqlite_engine: Engine) -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6 on this machine")
    try:
        console = Console(WebSettings(listen="[::1]:0"), session_factory(sqlite_engine), utcnow)
        server = WebServer(console)
    except ListenError as exc:  # IPv6 switched off in this container
        pytest.skip(str(exc))
    server.start()
    try:
        with urllib.request.urlopen(f"http://[::1]:{server.port}/healthz", timeout=5) as resp:
            assert resp.status == 200
    finally:
        server.stop()


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_run_with_the_port_in_use_says_so_in_one_log_line_and_exits_1(
    tmp_path: Path, log_format: str
) -> None:
    db_url = f"sqlite:///{tmp_path / 'monitor.db'}"
    cfg = tmp_path / "monitor.yaml"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        cfg.write_text(
            f"dedup: {{semantic: {{enabled: false}}}}\nweb:\n  listen: 127.0.0.1:{port}\n"
            f"log: {{format: {log_format}}}\n",
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
    said = f"cannot listen on 127.0.0.1:{port} (web.listen): Address already in use"
    last = run.stderr.splitlines()[-1]
    # In the configured log format, like every line before it: a JSON log shipper gets
    # the reason the process stopped as one object, not a line of plain text.
    if log_format == "json":
        assert json.loads(last) | {"time": None} == {
            "time": None,
            "level": "CRITICAL",
            "logger": "monitor",
            "event": said,
        }
    else:
        assert last.endswith(f" CRITICAL monitor: {said}")


def get_json(url: str) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Service]:
    (tmp_path / "db").mkdir()
    cfg = tmp_path / "monitor.yaml"
    cfg.write_text(
        "feeds:\n  - url: http://127.0.0.1:8001/feed\n"
        "alerts:\n  routes:\n    default: {type: console}\n"
        "dedup: {semantic: {enabled: false}}\n",
        encoding="utf-8",
    )
    rt = open_runtime(load_config(cfg), f"sqlite:///{tmp_path / 'db' / 'm.db'}", migrate=True)
    with transaction(rt.sessions) as session:
        sync_feeds(session=session, feeds=rt.config.settings.feeds, now=rt.clock())
    yield Service(rt)
    rt.close()


def lose_the_database(service: Service, tmp_path: Path) -> None:
    """The disk goes: pooled connections closed, the database's directory gone."""
    service.rt.engine.dispose()
    shutil.rmtree(tmp_path / "db")


def test_status_answers_503_from_memory_while_the_database_is_unreachable(
    service: Service, tmp_path: Path
) -> None:
    server = WebServer(replace(service.console(), settings=WebSettings(listen="127.0.0.1:0")))
    server.start()
    base = f"http://127.0.0.1:{server.port}"
    try:
        status, body = get_json(f"{base}/status")
        assert status == 200 and body["database"] == "ok"
        assert [f["configured_url"] for f in body["feeds"]] == ["http://127.0.0.1:8001/feed"]
        lose_the_database(service, tmp_path)
        service.dispatch()  # a scheduler job meets the outage
        status, body = get_json(f"{base}/status")
        assert status == 503
        assert body["database"] == "unreachable" and "unable to open database" in body["error"]
        # What the process knew: the last answer, and which jobs are failing.
        assert [f["configured_url"] for f in body["last_known"]["feeds"]] == [
            "http://127.0.0.1:8001/feed"
        ]
        assert body["last_known"]["at"]
        assert body["jobs"]["dispatch"]["failing"] is True
        assert body["jobs"]["dispatch"]["failures"] == 1
        assert get_json(f"{base}/readyz")[0] == 503
        assert get_json(f"{base}/healthz")[0] == 200  # the process itself is alive
    finally:
        server.stop()


def test_a_failing_job_logs_one_traceback_then_a_count(
    service: Service, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    lose_the_database(service, tmp_path)
    with caplog.at_level(logging.INFO, logger="monitor.scheduler"):
        for _ in range(27):  # a minute of 5-second dispatch ticks, and then some
            service.dispatch()
    records = [r for r in caplog.records if r.name == "monitor.scheduler"]
    assert len(records) == 1
    assert records[0].exc_info is not None
    assert records[0].getMessage().startswith("dispatch failed: OperationalError")


def test_repeated_errors_are_counted_then_reported_once_a_minute(
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = [0.0]
    errors = RepeatedError(logging.getLogger("t"), "poll", every=60, clock=lambda: now[0])
    with caplog.at_level(logging.INFO, logger="t"):
        for second in range(0, 150, 15):  # ten failing ticks, 15 s apart
            now[0] = float(second)
            errors.failed(RuntimeError("database is down"))
        errors.succeeded()
    assert [r.getMessage() for r in caplog.records] == [
        "poll failed: RuntimeError: database is down",
        "poll still failing (5 times): RuntimeError: database is down",
        "poll still failing (9 times): RuntimeError: database is down",
        "poll works again after 10 failures",
    ]
    assert [r.exc_info is not None for r in caplog.records] == [True, False, False, False]
    assert errors.state() == {"failing": False, "failures": 0, "last_error": None}
