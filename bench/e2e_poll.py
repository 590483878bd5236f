"""End to end through `monitor poll --once`, against a pool of bare trafilatura processes.

The 181 pages of the extraction benchmark (``../shared/data/extraction/html``) are served
by a separate process on ``FEEDS`` ports of 127.0.0.1 (one feed per port, its entries
linking to its share of the pages, so per-host politeness is not what is measured). One
`monitor poll --once` process (fresh SQLite database) fetches the feeds and pages,
extracts, classifies, groups, stores and alerts to a local Slack-compatible server (the
tests' fake). In the same run, a pool of bare trafilatura processes, one per CPU, extracts
the same pages from memory. ``--tiny``: 6 pages over 2 feeds, no report (a smoke test).
"""

from __future__ import annotations

import ctypes
import gzip
import multiprocessing
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from bench._dedup import SHIPPED_CONFIG
from bench._report import SHARED, TINY, update_section

COMMAND = ".venv/bin/python -m bench.e2e_poll"
PAGES = SHARED / "data" / "extraction" / "html"
FEEDS = 8
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "alert"))


def pages(limit: int | None = None) -> list[bytes]:
    files = sorted(PAGES.glob("*.html.gz"))[:limit]
    return [gzip.decompress(p.read_bytes()) for p in files]


def feed_xml(port: int, numbers: list[int], now: datetime) -> bytes:
    items = "".join(
        f"<item><guid isPermaLink='false'>page-{n}</guid><title>Page {n}</title>"
        f"<link>http://127.0.0.1:{port}/p/{n}.html</link>"
        f"<pubDate>{format_datetime(now - timedelta(minutes=n), usegmt=True)}</pubDate>"
        "<description>A page of the extraction benchmark.</description></item>"
        for n in numbers
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Feed {port}</title><link>http://127.0.0.1:{port}/</link>{items}"
        "</channel></rss>"
    ).encode()


def serve(html: list[bytes], feeds: int, ready: multiprocessing.Queue[list[int]]) -> None:
    """The feeds and pages, one feed per port (run in its own process)."""
    now = datetime.now(UTC)
    servers = []
    for k in range(feeds):
        numbers = list(range(k, len(html), feeds))
        server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
        servers.append((server, numbers))
    bodies: dict[tuple[int, str], bytes] = {}
    for server, numbers in servers:
        port = server.server_address[1]
        bodies[(port, "/feed.xml")] = feed_xml(port, numbers, now)
        for n in numbers:
            bodies[(port, f"/p/{n}.html")] = html[n]

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            address = self.server.server_address  # an IPv4 (host, port) pair
            port = int(address[1]) if isinstance(address, tuple) else 0
            body = bodies.get((port, self.path))
            self.send_response(200 if body is not None else 404)
            kind = "application/rss+xml" if self.path.endswith(".xml") else "text/html"
            self.send_header("Content-Type", f"{kind}; charset=utf-8")
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

    for server, _ in servers:
        server.RequestHandlerClass = Handler
        threading.Thread(target=server.serve_forever, daemon=True).start()
    ready.put([s.server_address[1] for s, _ in servers])
    threading.Event().wait()  # until terminated


def _extract(html: bytes) -> float:
    """CPU seconds to extract one page."""
    import trafilatura

    start = time.process_time()
    trafilatura.extract(html)
    return time.process_time() - start


def bare_pool(html: list[bytes]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) for one trafilatura process per CPU to extract every
    page from memory."""
    with multiprocessing.get_context("spawn").Pool(os.cpu_count() or 1) as pool:
        pool.map(_extract, html[:2])  # start the workers and import trafilatura first
        start = time.perf_counter()
        cpu = sum(pool.map(_extract, html, chunksize=1))
        return time.perf_counter() - start, cpu


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _adopt_orphans() -> None:
    """Become the reaper of the poll's orphans: its extraction workers are children of a
    fork server that outlives the poll by a moment, and only a reaped process's CPU
    counts in RUSAGE_CHILDREN (Linux; elsewhere the workers' CPU goes uncounted)."""
    if sys.platform == "linux":
        ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER


def _reap_orphans(keep: int | None, settle: float = 10.0) -> None:
    """Wait for the poll's orphans (its fork server, shutting down) and reap them; the
    child ``keep`` (the page server) is left running."""
    deadline = time.monotonic() + settle
    while time.monotonic() < deadline and set(_children()) - {keep}:
        pid, _ = os.waitpid(-1, os.WNOHANG)
        if pid == 0:
            time.sleep(0.05)


def _children() -> list[int]:
    tasks = Path("/proc/self/task")
    if not tasks.exists():
        return []
    return [int(p) for t in tasks.iterdir() for p in (t / "children").read_text().split()]


def write_config(path: Path, ports: list[int], slack: object) -> Path:
    config_dir = SHIPPED_CONFIG.parent
    feeds = "".join(f"  - url: http://127.0.0.1:{p}/feed.xml\n    name: feed {p}\n" for p in ports)
    path.write_text(
        f"feeds:\n{feeds}"
        f"watchlists:\n  - {config_dir / 'taxonomy.yaml'}\n  - {config_dir / 'watchlists'}/*.yaml\n"
        "fetch:\n  allow_private_addresses: true\n"
        "alerts:\n  routes:\n    default:\n      type: slack\n"
        f"      token: {slack.token}\n      channel: {slack.channel}\n"  # type: ignore[attr-defined]
        f"      api_url: {slack.api_url}\n",  # type: ignore[attr-defined]
        encoding="utf-8",
    )
    return path


def poll_once(
    html: list[bytes], feeds: int, *, keep_db: Path | None = None
) -> tuple[float, float, float, int, int, float]:
    """(wall seconds, CPU seconds of all its processes, CPU seconds of its main process,
    articles stored, Slack messages, peak RSS MiB) of one poll --once; its SQLite database
    copied to ``keep_db`` if given (`bench.e2e_dump`)."""
    from fakeslack import FakeSlack

    ready: multiprocessing.Queue[list[int]] = multiprocessing.Queue()
    server = multiprocessing.get_context("fork").Process(
        target=serve, args=(html, feeds, ready), daemon=True
    )
    server.start()
    try:
        ports = ready.get(timeout=60)
        with FakeSlack() as slack, tempfile.TemporaryDirectory() as tmp:
            config = write_config(Path(tmp) / "monitor.yaml", ports, slack)
            db = f"sqlite:///{Path(tmp) / 'monitor.db'}"
            base = [sys.executable, "-m", "monitor"]
            subprocess.run([*base, "db", "upgrade", "--db", db, "-c", str(config)],
                           check=True, capture_output=True)  # fmt: skip
            _adopt_orphans()
            cpu_before, start = _children_cpu(), time.perf_counter()
            poll = [*base, "poll", "--once", "--db", db, "-c", str(config)]
            proc = subprocess.Popen(poll, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            _, status, usage = os.wait4(proc.pid, 0)
            wall = time.perf_counter() - start
            if os.waitstatus_to_exitcode(status) != 0:
                raise RuntimeError(f"monitor poll --once failed ({status})")
            _reap_orphans(keep=server.pid)
            cpu = _children_cpu() - cpu_before
            import sqlite3

            with sqlite3.connect(Path(tmp) / "monitor.db") as conn:
                stored = conn.execute("SELECT count(*) FROM articles").fetchone()[0]
            if keep_db is not None:
                shutil.copyfile(Path(tmp) / "monitor.db", keep_db)
            messages = len(slack.top_level())
            main_cpu = usage.ru_utime + usage.ru_stime
            return wall, cpu, main_cpu, stored, messages, usage.ru_maxrss / 1024
    finally:
        server.terminate()
        server.join()


def main() -> None:
    if not PAGES.exists():
        print(f"skipped: {PAGES} not present")
        return
    tiny = "--tiny" in sys.argv or TINY
    html = pages(6 if tiny else None)
    feeds = 2 if tiny else FEEDS
    load = os.getloadavg()[0]
    wall, cpu, main_cpu, stored, messages, peak = poll_once(html, feeds)
    bare, bare_cpu = bare_pool(html)
    ours, theirs = stored / wall, len(html) / bare
    result = (
        f"| `monitor poll --once` ({feeds} feeds) | {stored} | {wall:.1f} | {cpu:.1f} "
        f"| {ours:.1f} | {peak:.0f} MiB |\n"
        f"| bare trafilatura, {os.cpu_count()} processes | {len(html)} | {bare:.1f} "
        f"| {bare_cpu:.1f} | {theirs:.1f} | - |"
    )
    if tiny:
        print(result)
        return
    md = (
        "## e2e-poll: fetch, extract, classify, group, store, alert vs bare trafilatura\n\n"
        f"{len(html)} pages of the extraction benchmark served from memory on {feeds} ports of "
        "127.0.0.1 (one feed each); one `monitor poll --once` process, fresh SQLite, alerts "
        f"to a local Slack-compatible server ({messages} messages: these pages are general "
        "news). Same run: a pool of bare `trafilatura.extract` processes, one per CPU, on "
        "the same pages in memory (warmed up).\n\n"
        "| path | articles | wall s | CPU s | articles/s | peak RSS |\n|---|---|---|---|---|---|\n"
        f"{result}\n\n"
        f"**poll --once / bare pool: {ours / theirs:.2f}x the articles/s** (target ≥ 0.5). "
        "The poll's wall time includes its start-up (imports, model and watchlist loading). "
        "CPU s: of every process of the poll (start-up included), and of the bare pool's "
        f"extractions alone; per CPU second the poll does {bare_cpu / cpu:.2f}x the bare "
        "pool's work (on a loaded machine the ratio of speeds also depends on how much of "
        "the CPUs each gets). "
        f"Of the poll's CPU, {main_cpu:.1f} s in its main process (start-up, event loop, "
        f"embeddings, the processing thread) and {cpu - main_cpu:.1f} s in its fork server "
        "and extraction workers (extraction, classification ahead). "
        f"Load average when the run started: {load:.1f} on {os.cpu_count()} CPUs."
    )
    update_section("e2e-poll", md, command=COMMAND)


if __name__ == "__main__":
    main()
