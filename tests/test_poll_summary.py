"""`monitor poll --once` says per feed what happened in words, not Python reprs."""

from __future__ import annotations

import http.server
import socket
import socketserver
import threading
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from monitor.cli import app, poll_line

FEED = "http://127.0.0.1:8765/rss.xml"


def polled(status: int | None, new: int, alerts: list[str], error: str | None = None) -> Any:
    return {"feed": FEED, "status": status, "error": error, "new_articles": new, "alerts": alerts}


@pytest.mark.parametrize(
    ("feed", "said"),
    [
        (polled(200, 3, ["new"]), "HTTP 200, 3 new articles; 1 alert queued (new)"),
        (polled(200, 1, []), "HTTP 200, 1 new article"),
        (polled(304, 0, []), "HTTP 304, nothing new"),
        (
            polled(200, 4, ["new", "update", "new"]),
            "HTTP 200, 4 new articles; 3 alerts queued (2 new, 1 update)",
        ),
        (
            polled(None, 0, [], error="refusing to contact 127.0.0.1"),
            "failed: refusing to contact 127.0.0.1",
        ),
    ],
)
def test_each_feed_is_one_plain_line(feed: Any, said: str) -> None:
    line = poll_line(feed)
    assert line == f"{FEED}: {said}"
    assert "[" not in line and "None" not in line


def test_poll_logs_which_configuration_it_read(tmp_path: Path) -> None:
    config = tmp_path / "monitor.yaml"
    config.write_text(
        "feeds: []\nwatchlists: []\nalerts: {routes: {default: {type: console}}}\n"
        f"storage: {{url: 'sqlite:///{tmp_path / 'm.db'}'}}\n"
        "dedup: {semantic: {enabled: false}}\n",
        encoding="utf-8",
    )
    runner = CliRunner()
    assert runner.invoke(app, ["db", "upgrade", "-c", str(config)]).exit_code == 0
    polled = runner.invoke(app, ["poll", "--once", "-c", str(config)])
    assert polled.exit_code == 0, polled.output
    assert "configuration read" in polled.output and f"config='{config}'" in polled.output


def _closed_port() -> int:
    """A port on 127.0.0.1 nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("down", [1, 2], ids=["one-of-two-down", "every-feed-down"])
def test_poll_exits_1_only_when_every_feed_failed(tmp_path: Path, down: int) -> None:
    """cron reads exit codes: one feed down is routine (0); every feed down is the network,
    a proxy or the address guard (1), said on stderr."""
    with socketserver.TCPServer(("127.0.0.1", 0), _Feed) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        up = f"http://127.0.0.1:{server.server_address[1]}/rss.xml"
        dead = f"http://127.0.0.1:{_closed_port()}/rss.xml"
        feeds = [dead, dead.replace("rss", "atom")] if down == 2 else [up, dead]
        config = tmp_path / "monitor.yaml"
        config.write_text(
            "feeds:\n" + "".join(f"  - url: {u}\n" for u in feeds)
            + "watchlists: []\nalerts: {routes: {default: {type: console}}}\n"
            f"storage: {{url: 'sqlite:///{tmp_path / 'm.db'}'}}\n"
            "dedup: {semantic: {enabled: false}}\n"
            "fetch: {allow_private_addresses: true}\n"
            "extract: {fetch_pages: false}\n",
            encoding="utf-8",
        )  # fmt: skip
        runner = CliRunner()
        assert runner.invoke(app, ["db", "upgrade", "-c", str(config)]).exit_code == 0
        polled = runner.invoke(app, ["poll", "--once", "-c", str(config)])
        server.shutdown()
    assert polled.exit_code == (1 if down == 2 else 0), polled.output
    assert ("every feed failed (2 feeds)" in polled.output) == (down == 2)


class _Feed(http.server.BaseHTTPRequestHandler):
    BODY = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
        b"<link>http://127.0.0.1/</link><description>d</description></channel></rss>"
    )

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml")
        self.send_header("Content-Length", str(len(self.BODY)))
        self.end_headers()
        self.wfile.write(self.BODY)

    def log_message(self, format: str, *args: Any) -> None:
        pass
