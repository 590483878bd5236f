"""What the replica fault tests drive: `monitor run` processes on one PostgreSQL schema,
a feed site on 127.0.0.1 whose entries are released step by step (and whose article pages
can be held mid-request), and a TCP proxy in front of PostgreSQL that can be cut.

Only what production runs is exercised: the CLI in subprocesses, real HTTP, real Slack
Web API calls (to FakeSlack), real PostgreSQL connections.
"""

from __future__ import annotations

import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from email.utils import format_datetime
from functools import partial
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit, urlunsplit

from fakeslack import FakeSlack
from sqlalchemy import func
from sqlalchemy import select as sql_select
from sqlalchemy.engine import Engine

from monitor.demo.site import DemoArticle, render_page
from monitor.resources import shipped_config_dir
from monitor.storage.db import session_factory
from monitor.storage.models import AlertRow, ArticleRow, Entry, Feed

MONITOR = [sys.executable, "-m", "monitor"]


def wait_for(what: str, predicate: Callable[[], object], timeout: float = 60.0) -> None:
    """Poll ``predicate`` until true; the timeout only bounds a hung test (no timing claim)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"not reached in {timeout:.0f} s: {what}")


class FeedSite:
    """Each outlet's RSS feed lists only the articles released so far; an article page
    in ``hold`` answers its first request only once ``let_go()`` is called."""

    def __init__(self, articles: list[DemoArticle]) -> None:
        self.articles = articles
        self.released: set[str] = set()
        self.hold: set[str] = set()  # article slugs whose first page request waits
        self.held = threading.Event()  # a held request is waiting
        self._go = threading.Event()
        self.page_requests: Counter[str] = Counter()
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                status, ctype, body = site.respond(self.path)
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", ctype)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:  # the poller was killed while we held its request
                    pass

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def outlets(self) -> dict[str, str]:
        return {a.outlet: a.outlet_name for a in self.articles}

    def feed_urls(self) -> list[tuple[str, str]]:
        return [(f"{self.base}/{slug}/feed.xml", name) for slug, name in self.outlets().items()]

    def release(self, *slugs: str) -> None:
        self.released.update(slugs)

    def let_go(self) -> None:
        self._go.set()

    def respond(self, path: str) -> tuple[int, str, bytes]:
        for a in self.articles:
            if path == a.path and a.slug in self.released:
                self.page_requests[a.slug] += 1
                if a.slug in self.hold and self.page_requests[a.slug] == 1:
                    self.held.set()
                    self._go.wait(60)
                return 200, "text/html; charset=utf-8", render_page(a, self.base)
        for slug, name in self.outlets().items():
            if path == f"/{slug}/feed.xml":
                return 200, "application/rss+xml", self._feed(slug, name)
        return 404, "text/plain", b"not found"

    def _feed(self, outlet: str, name: str) -> bytes:
        shown = [a for a in self.articles if a.outlet == outlet and a.slug in self.released]
        items = "".join(
            f"<item><title>{escape(a.title)}</title><link>{self.base}{a.path}</link>"
            f'<guid isPermaLink="false">{outlet}-{a.slug}</guid>'
            f"<pubDate>{format_datetime(a.published)}</pubDate>"
            f"<description>{escape(a.paragraphs[0])}</description></item>"
            for a in sorted(shown, key=lambda a: a.published)
        )
        return (
            '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>{escape(name)}</title><link>{self.base}/{outlet}/</link>"
            f"<description>Test feed</description>{items}</channel></rss>"
        ).encode()

    def close(self) -> None:
        self._go.set()
        self._server.shutdown()
        self._server.server_close()


class CuttableProxy:
    """A TCP proxy on 127.0.0.1 in front of PostgreSQL: ``cut()`` resets every open
    connection and refuses new ones (as a restarting server or a dropped network path
    does), ``restore()`` lets them through again. The shared server itself is never touched."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._up = threading.Event()
        self._up.set()
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self, url: str) -> str:
        """``url`` with its host and port replaced by the proxy's."""
        parts = urlsplit(url)
        user = parts.netloc.rsplit("@", 1)[0] + "@" if "@" in parts.netloc else ""
        return urlunsplit(parts._replace(netloc=f"{user}127.0.0.1:{self.port}"))

    def cut(self) -> None:
        self._up.clear()
        with self._lock:
            doomed, self._open = self._open, set()
        for sock in doomed:
            _reset(sock)

    def restore(self) -> None:
        self._up.set()

    def close(self) -> None:
        self._closed = True
        self.cut()
        self._listener.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if not self._up.is_set():
                _reset(client)
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                _reset(client)
                continue
            with self._lock:
                self._open.update((client, upstream))
            threading.Thread(target=self._pipe, args=(client, upstream), daemon=True).start()

    def _pipe(self, a: socket.socket, b: socket.socket) -> None:
        peers = {a: b, b: a}
        try:
            while True:
                ready, _, _ = select.select([a, b], [], [], 1.0)
                for sock in ready:
                    data = sock.recv(65536)
                    if not data:
                        raise OSError("closed")
                    peers[sock].sendall(data)
        except (OSError, ValueError):
            pass
        finally:
            with self._lock:
                self._open.discard(a)
                self._open.discard(b)
            _reset(a)
            _reset(b)


def _reset(sock: socket.socket) -> None:
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        sock.close()
    except OSError:
        pass


class Cluster:
    """`monitor run` replicas sharing one database, each with its own log file."""

    def __init__(self, tmp: Path, db_url: str, site: FeedSite, slack: FakeSlack) -> None:
        self.tmp = tmp
        self.site = site
        self.slack = slack
        self.config = self._write_config()
        self.env = {
            **os.environ,
            "MONITOR_CONFIG": str(self.config),
            "MONITOR_DATABASE_URL": db_url,
        }
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self._logs: list[IO[bytes]] = []

    def _write_config(self) -> Path:
        config_dir = shipped_config_dir()
        feeds = "".join(f"  - url: {u}\n    name: {n}\n" for u, n in self.site.feed_urls())
        path = self.tmp / "monitor.yaml"
        # Short feed intervals and leases so a test sees several cycles and a dead
        # replica's leases run out within seconds (production: minutes).
        path.write_text(
            f"feeds:\n{feeds}watchlists:\n  - {config_dir / 'taxonomy.yaml'}\n"
            f"  - {config_dir / 'watchlists'}/*.yaml\n"
            "fetch:\n  allow_private_addresses: true\n  interval: 1s\n  min_interval: 1s\n"
            "  adaptive: false\n  jitter: 0\n  deadline: 2s\n"
            "dedup:\n  window: 14d\n"
            "alerts:\n  max_age: 21d\n"
            "  dispatch:\n    lease: 3s\n    retry_base: 1s\n    retry_max: 2s\n"
            "    channel_interval: 0.1s\n    request_timeout: 5s\n"
            "  routes:\n    default:\n      type: slack\n"
            f"      token: {self.slack.token}\n      channel: {self.slack.channel}\n"
            f"      api_url: {self.slack.api_url}\nweb:\n  enabled: false\n",
            encoding="utf-8",
        )
        return path

    def migrate(self) -> None:
        subprocess.run([*MONITOR, "db", "upgrade"], env=self.env, check=True, capture_output=True)

    def start(self, name: str) -> subprocess.Popen[bytes]:
        log = (self.tmp / f"{name}.log").open("ab")  # a file: a full pipe would block it
        self._logs.append(log)
        proc = subprocess.Popen([*MONITOR, "run"], env=self.env, stdout=log, stderr=log)
        self.procs[name] = proc
        return proc

    def wait_running(self, *names: str) -> None:
        """Until each replica has started its scheduler (a SIGTERM before that kills it)."""
        for name in names:
            log = self.tmp / f"{name}.log"
            wait_for(f"{name} running", partial(_logged, log, "monitor running"))

    def kill(self, name: str) -> None:
        """kill -9: no handler, no finally block, no commit runs."""
        proc = self.procs[name]
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)

    def name_of(self, pid: int) -> str:
        return next(name for name, proc in self.procs.items() if proc.pid == pid)

    @property
    def running(self) -> set[str]:
        return {name for name, p in self.procs.items() if p.poll() is None}

    def stop(self) -> dict[str, int]:
        """SIGTERM every replica still running; the exit codes of those it stopped."""
        running = {name: proc for name, proc in self.procs.items() if proc.poll() is None}
        for proc in running.values():
            proc.terminate()
        codes = {}
        for name, proc in running.items():
            try:
                codes[name] = proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                codes[name] = proc.wait()
        for log in self._logs:
            log.close()
        return codes

    def logged(self, text: str) -> bool:
        """Whether any replica's log holds ``text``."""
        return any(text in p.read_text(errors="replace") for p in self.tmp.glob("*.log"))

    def logs(self) -> str:
        return "\n".join(
            f"--- {p.name}\n{p.read_text(errors='replace')[-4000:]}"
            for p in sorted(self.tmp.glob("*.log"))
        )


class Outbox:
    """What the shared database holds, read as an operator would."""

    def __init__(self, engine: Engine) -> None:
        self.sessions = session_factory(engine)

    def articles(self) -> Counter[str]:
        """Stored articles by canonical URL (a count above 1 is a duplicate)."""
        with self.sessions() as s:
            return Counter(s.scalars(sql_select(ArticleRow.url)))

    def entries(self) -> Counter[tuple[int, str]]:
        with self.sessions() as s:
            rows = s.execute(sql_select(Entry.feed_id, Entry.entry_key))
            return Counter((feed_id, key) for feed_id, key in rows)

    def alerts(self) -> list[AlertRow]:
        with self.sessions() as s:
            rows = list(s.scalars(sql_select(AlertRow).order_by(AlertRow.id)))
            s.expunge_all()
            return rows

    def unsent(self) -> int:
        with self.sessions() as s:
            query = sql_select(func.count(AlertRow.id)).where(AlertRow.status != "sent")
            return int(s.scalar(query) or 0)

    def lease_owner(self, feed_url: str) -> str | None:
        with self.sessions() as s:
            query = sql_select(Feed.lease_owner).where(Feed.configured_url == feed_url)
            return s.scalar(query)


def per_story(slack: FakeSlack) -> Counter[int]:
    """How many top-level Slack messages each story got."""
    return Counter(m["metadata"]["event_payload"]["story_id"] for m in slack.top_level())


def pid_of_peer(port: int, pids: list[int]) -> int | None:
    """Which of ``pids`` owns the local TCP port ``port`` (the caller FakeSlack saw)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table, encoding="ascii") as f:
            for line in f.readlines()[1:]:
                cols = line.split()
                if int(cols[1].rsplit(":", 1)[1], 16) == port:
                    inodes.add(cols[9])
    for pid in pids:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if target.startswith("socket:[") and target[8:-1] in inodes:
                return pid
    return None


def _logged(log: Path, text: str) -> bool:
    return text in log.read_text()
