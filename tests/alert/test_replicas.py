"""Two `monitor run` replicas on one PostgreSQL database share the work without doubling it:
every article is stored once, every story alerts once, and Slack sees one message."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from fakeslack import FakeSlack
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from monitor.demo.site import DemoSite, load_articles
from monitor.resources import shipped_config_dir
from monitor.storage.db import make_engine, session_factory
from monitor.storage.models import AlertRow, ArticleRow

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


@pytest.fixture
def pg_engine(pg_url: str) -> Iterator[Engine]:
    engine = make_engine(pg_url)
    yield engine
    engine.dispose()  # also when the test fails: a leaked connection fails a later test


def test_two_replicas_share_feeds_and_alerts(
    tmp_path: Path, pg_url: str, pg_engine: Engine, slack: FakeSlack, wall_now: datetime
) -> None:
    engine = pg_engine
    config_dir = shipped_config_dir()
    with DemoSite(load_articles(wall_now)) as site:
        feeds = "".join(f"  - url: {u}\n    name: {n}\n" for u, n in site.feed_urls())
        cfg = tmp_path / "monitor.yaml"
        cfg.write_text(
            f"feeds:\n{feeds}watchlists:\n  - {config_dir / 'taxonomy.yaml'}\n"
            f"  - {config_dir / 'watchlists'}/*.yaml\n"
            "fetch:\n  allow_private_addresses: true\ndedup:\n  window: 14d\n"
            "alerts:\n  max_age: 21d\n  routes:\n    default:\n      type: slack\n"
            f"      token: {slack.token}\n      channel: {slack.channel}\n"
            f"      api_url: {slack.api_url}\nweb:\n  enabled: false\n",
            encoding="utf-8",
        )
        env = {**os.environ, "MONITOR_CONFIG": str(cfg), "MONITOR_DATABASE_URL": pg_url}
        monitor = [sys.executable, "-m", "monitor"]
        subprocess.run([*monitor, "db", "upgrade"], env=env, check=True, capture_output=True)
        logs = [(tmp_path / f"replica{i}.log").open("wb") for i in range(2)]
        procs = [
            subprocess.Popen([*monitor, "run"], env=env, stdout=log, stderr=subprocess.STDOUT)
            for log in logs
        ]
        sessions = session_factory(engine)
        try:
            deadline = time.monotonic() + 150
            while time.monotonic() < deadline:
                with sessions() as s:
                    stored = s.scalar(select(func.count(ArticleRow.id)))
                    unsent = s.scalar(
                        select(func.count(AlertRow.id)).where(AlertRow.status != "sent")
                    )
                if stored == 4 and unsent == 0 and slack.top_level():
                    break
                time.sleep(0.5)
            time.sleep(2)  # give a double send the chance to show itself
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                proc.wait(timeout=30)
            for log in logs:
                log.close()
    with sessions() as s:
        assert s.scalar(select(func.count(ArticleRow.id))) == 4
    # Two alerted stories (the strikes, reported by both outlets; the week-later barrage),
    # each posted once. The second outlet's report is in the first story's message: one
    # thread reply when it arrived after the message went out, none when the message
    # already carried both sources (both polled before the first dispatch).
    with sessions() as s:
        outbox = [(a.story_id, a.kind, a.status, a.last_error) for a in s.scalars(select(AlertRow))]
    logs_text = "\n".join((tmp_path / f"replica{i}.log").read_text() for i in range(2))
    messages = slack.top_level()
    replies = [r for m in messages for r in slack.replies(m["ts"])]
    assert len(messages) == 2 and len(replies) <= 1, (outbox, logs_text[-3000:])
    strikes = [m for m in messages if "Sources (2)" in str(m["blocks"])]
    assert len(strikes) == 1, messages
    assert all(p.returncode == 0 for p in procs)
