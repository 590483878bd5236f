"""Structured logs: one line per event with consistent keys, as JSON when asked, and no
secret in any line."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fakeslack import FakeSlack

from monitor.config import load_config
from monitor.demo.site import DemoSite, load_articles
from monitor.logs import JsonFormatter, KeyValueFormatter, LogSettings, configure
from monitor.resources import shipped_config_dir
from monitor.runtime import open_runtime, poll_once


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_a_poll_logs_each_event_once_as_json_without_secrets(
    tmp_path: Path, slack: FakeSlack, capsys: pytest.CaptureFixture[str], restore_logging: None
) -> None:
    shipped = shipped_config_dir()
    with DemoSite(load_articles(datetime.now(UTC))) as site:
        feeds = "".join(f"  - url: {u}\n    name: {n}\n" for u, n in site.feed_urls())
        path = tmp_path / "monitor.yaml"
        path.write_text(
            f"feeds:\n{feeds}watchlists:\n  - {shipped / 'taxonomy.yaml'}\n"
            f"  - {shipped / 'watchlists'}/*.yaml\nfetch:\n  allow_private_addresses: true\n"
            "dedup:\n  window: 14d\nalerts:\n  max_age: 21d\n  routes:\n    default:\n"
            f"      type: slack\n      token: {slack.token}\n      channel: {slack.channel}\n"
            f"      api_url: {slack.api_url}\nlog:\n  level: info\n  format: json\n",
            encoding="utf-8",
        )
        config = load_config(path)
        configure(config.settings.log)
        rt = open_runtime(config, f"sqlite:///{tmp_path / 'm.db'}", migrate=True)
        try:
            asyncio.run(poll_once(rt))
        finally:
            rt.close()
    err = capsys.readouterr().err
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert lines and len(lines) == len([x for x in err.splitlines() if x.strip()])
    events = [line["event"] for line in lines]
    assert events.count("feed polled") == 2
    assert events.count("story created") == 3 and events.count("story joined") == 1
    assert "alert sent" in events
    for line in lines:
        if line["event"].startswith("story "):
            assert {"article_id", "story_id", "feed_url"} <= set(line)
    assert slack.token not in err


def test_log_settings_are_validated() -> None:
    with pytest.raises(ValueError, match="level"):
        LogSettings(level="loud")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="format"):
        LogSettings(format="xml")  # type: ignore[arg-type]


def test_a_job_cancelled_at_stop_is_no_error_line_but_a_failing_job_still_is(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure(LogSettings())
    executor = logging.getLogger("apscheduler.executors.default")
    for exc in (asyncio.CancelledError(), ValueError("the job broke")):
        try:
            raise exc
        except BaseException:
            executor.exception("Error running job tick")
    err = capsys.readouterr().err
    assert err.count("Error running job") == 1
    assert "ValueError: the job broke" in err and "CancelledError" not in err


@pytest.mark.parametrize("formatter", [JsonFormatter(), KeyValueFormatter()])
def test_log_times_are_utc_and_say_so(formatter: logging.Formatter) -> None:
    """Replicas on hosts in different zones, and a log shipper, read one time scale: UTC
    with its zone marked and milliseconds (events a second apart stay in order)."""
    record = logging.LogRecord("monitor", logging.INFO, __file__, 1, "feed polled", (), None)
    record.created = datetime(2026, 3, 3, 23, 30, 5, 250000, tzinfo=UTC).timestamp()
    record.msecs = 250.0
    line = formatter.format(record)
    stamp = json.loads(line)["time"] if isinstance(formatter, JsonFormatter) else line.split()[0]
    assert stamp == "2026-03-03T23:30:05.250Z"


def test_a_feed_recovered_from_broken_xml_says_so_in_its_poll_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A feed that starts serving broken XML parses to nothing with a warning: its "feed
    polled" line must carry it, or the log reads as a healthy feed with no news."""
    from monitor.fetch.poller import FeedPoll
    from monitor.pipeline import process_poll

    warning = "recovered from: SAXParseException: <unknown>:2:0: not well-formed"
    poll = FeedPoll("http://127.0.0.1:9/feed.xml", (), 200, None, warning=warning)
    with caplog.at_level("INFO", logger="monitor.pipeline"):
        asyncio.run(process_poll(poll, extractor=None, sessions=None, stages=None,  # type: ignore[arg-type]
                                 clock=lambda: datetime(2026, 3, 3, tzinfo=UTC)))  # fmt: skip
    [record] = [r for r in caplog.records if r.getMessage() == "feed polled"]
    assert record.__dict__["warning"] == warning
