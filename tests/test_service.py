"""`monitor run` as users run it: a real process, real HTTP on 127.0.0.1, signals."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from monitor.demo.site import DemoSite, load_articles
from monitor.resources import shipped_config_dir
from monitor.storage.db import make_engine, session_factory
from monitor.storage.models import ArticleRow, Story

sys.path.insert(0, str(Path(__file__).parent / "alert"))  # the fake Slack server
from fakeslack import FakeSlack

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def wait_for(predicate: Callable[[], object], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.3)
    raise AssertionError("condition not reached in time")


def service_config(
    tmp_path: Path, site: DemoSite, port: int, alerts: str, *watchlists: Path
) -> Path:
    """monitor.yaml polling ``site``'s feeds, with the shipped watchlists (and
    ``watchlists``) and ``alerts`` under `alerts:` (indented two spaces)."""
    shipped = shipped_config_dir()
    feeds = "".join(f"  - url: {u}\n    name: {n}\n" for u, n in site.feed_urls())
    files = [shipped / "taxonomy.yaml", shipped / "watchlists" / "*.yaml", *watchlists]
    cfg = tmp_path / "monitor.yaml"
    cfg.write_text(
        f"feeds:\n{feeds}watchlists:\n" + "".join(f"  - {f}\n" for f in files)
        + "fetch:\n  allow_private_addresses: true\n"
        f"alerts:\n  max_age: 21d\n  {alerts}web:\n  listen: 127.0.0.1:{port}\n",
        encoding="utf-8",
    )  # fmt: skip
    return cfg


@contextmanager
def running_monitor(
    env: dict[str, str], log_path: Path, engine: Engine
) -> Iterator[subprocess.Popen[bytes]]:
    """`monitor run` on a freshly migrated database, its output in ``log_path``; killed
    on the way out if the test did not stop it."""
    monitor = [sys.executable, "-m", "monitor"]
    subprocess.run([*monitor, "db", "upgrade"], env=env, check=True, capture_output=True)
    with log_path.open("wb") as log_file:  # a file, not a pipe: a full pipe would block it
        proc = subprocess.Popen(
            [*monitor, "run"], env=env, stdout=log_file, stderr=subprocess.STDOUT
        )
        try:
            yield proc
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            engine.dispose()


def stored_articles(engine: Engine) -> int:
    with session_factory(engine)() as s:
        return int(s.scalar(select(func.count(ArticleRow.id))) or 0)


def test_run_polls_reloads_on_sighup_and_stops_on_sigterm(
    tmp_path: Path, wall_now: datetime
) -> None:
    watchlist = tmp_path / "extra.yaml"
    watchlist.write_text("entities: []\n", encoding="utf-8")
    port = free_port()
    db_url = f"sqlite:///{tmp_path / 'monitor.db'}"
    engine = make_engine(db_url)
    with DemoSite(load_articles(wall_now)) as site:
        cfg = service_config(
            tmp_path, site, port, "routes:\n    default: {type: console}\n", watchlist
        )
        env = {**os.environ, "MONITOR_CONFIG": str(cfg), "MONITOR_DATABASE_URL": db_url}
        log_path = tmp_path / "service.log"
        with running_monitor(env, log_path, engine) as proc:
            wait_for(lambda: _get_ok(f"http://127.0.0.1:{port}/healthz"))
            status, body = get(f"http://127.0.0.1:{port}/readyz")
            assert (status, json.loads(body)["ready"]) == (200, True)
            sessions = session_factory(engine)
            wait_for(lambda: stored_articles(engine) == 4)
            with sessions() as s:
                assert s.scalar(select(func.count(Story.id))) == 3
            # A broken watchlist edit is rejected; the service keeps running.
            watchlist.write_text("entities: [unclosed\n", encoding="utf-8")
            proc.send_signal(signal.SIGHUP)
            time.sleep(1.0)
            assert proc.poll() is None
            assert _get_ok(f"http://127.0.0.1:{port}/healthz")
            status, body = get(f"http://127.0.0.1:{port}/status")
            feeds = json.loads(body)["feeds"]
            assert status == 200 and len(feeds) == 2
            assert all(f["last_status"] == 200 and f["entries_seen"] == 2 for f in feeds)
            assert json.loads(body)["routes"]["default"]["status"] == "ok"
            status, metrics = get(f"http://127.0.0.1:{port}/metrics")
            assert 'monitor_articles_total{outcome="processed"} 4.0' in metrics
            polls = re.search(r'^monitor_feed_polls_total\{result="ok"\} (\S+)$', metrics, re.M)
            assert polls and float(polls.group(1)) >= 2  # both feeds, at least once each
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=30) == 0
    log = log_path.read_text(encoding="utf-8")
    assert "watchlist reload rejected" in log
    assert "Traceback" not in log


def test_run_keeps_polling_with_a_rejected_slack_token_and_says_what_to_fix(
    tmp_path: Path, wall_now: datetime
) -> None:
    """A revoked token is a Slack outage for one route: the service starts, polls and
    stores, /status shows the route paused, and the log says what to fix; once the pause is
    over and Slack takes the token again, the alerts kept pending go out."""
    port = free_port()
    db_url = f"sqlite:///{tmp_path / 'monitor.db'}"
    engine = make_engine(db_url)
    with DemoSite(load_articles(wall_now)) as site, FakeSlack(token="xoxb-new") as slack:
        cfg = service_config(
            tmp_path, site, port,
            "dispatch: {permanent_error_pause: 3s}\n"
            "  routes:\n    default:\n      type: slack\n      token: ${SLACK_BOT_TOKEN}\n"
            f"      channel: {slack.channel}\n      api_url: {slack.api_url}\n",
        )  # fmt: skip
        env = {**os.environ, "MONITOR_CONFIG": str(cfg), "MONITOR_DATABASE_URL": db_url,
               "SLACK_BOT_TOKEN": "xoxb-revoked"}  # fmt: skip
        log_path = tmp_path / "service.log"
        with running_monitor(env, log_path, engine) as proc:
            wait_for(lambda: proc.poll() is not None or _get_ok(f"http://127.0.0.1:{port}/healthz"))
            assert proc.poll() is None, log_path.read_text(encoding="utf-8")
            wait_for(lambda: stored_articles(engine) == 4)  # polling and storing go on
            status, body = get(f"http://127.0.0.1:{port}/status")
            route = json.loads(body)["routes"]["default"]
            assert status == 200 and route["status"] == "paused", body
            assert "invalid_auth" in route["detail"] and "SLACK_BOT_TOKEN" in route["detail"]
            assert "invalid_auth" in json.loads(body)["paused_routes"]["default"]
            status, body = get(f"http://127.0.0.1:{port}/readyz")  # polling works: ready
            assert (status, json.loads(body)["ready"]) == (200, True)
            # The token works again (a Slack-side blip ends, say): the kept alerts go out.
            slack.token = "xoxb-revoked"
            wait_for(lambda: len(slack.top_level()) == 2)  # story 1 with its update, story 3
            status, body = get(f"http://127.0.0.1:{port}/status")
            assert json.loads(body)["routes"]["default"]["status"] == "ok"
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=30) == 0
    log = log_path.read_text(encoding="utf-8")
    [said] = [line for line in log.splitlines() if "paused until" in line and "auth.test" in line]
    assert "ERROR" in said and "invalid_auth" in said and "SLACK_BOT_TOKEN" in said
    assert "kept pending" in said
    assert "Traceback" not in log


def _get_ok(url: str) -> bool:
    try:
        return get(url)[0] == 200
    except OSError:
        return False
