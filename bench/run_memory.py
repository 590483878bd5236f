"""Memory and start-up of `monitor run` watching many feeds (issue 15: 5,000 feeds).

A separate process serves FEEDS synthetic RSS feeds on 127.0.0.1 (bench/_feed_server.py,
one item each, its words drawn at random, so the first cycle stores one article and
mostly one story per feed); `monitor run` watches all of them with SQLite storage, the
shipped watchlists and a local Slack-compatible server.
The item links point at hosts that are never contacted (`extract.fetch_pages: false`): the
poller, classifier, grouper and store are what is measured, not page extraction.

Reported: seconds from start until the service logs that it runs, until every feed was
polled once and until every article was stored, the peak resident memory (VmHWM) of the
`monitor run` process and of its extraction workers, and the main process's resident
memory once the first cycle settled.

    .venv/bin/python -m bench.run_memory          # 5,000 feeds
    MONITOR_BENCH_TINY=1 .venv/bin/python -m bench.run_memory   # 50 feeds, nothing written
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import _feed_server
from bench._report import sized, update_section
from monitor.resources import shipped_config_dir

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "alert"))
from fakeslack import FakeSlack

COMMAND = ".venv/bin/python -m bench.run_memory"
FEEDS = sized(5000, 50)
TIMEOUT = sized(1800.0, 180.0)


def config_text(base: str, count: int, slack: FakeSlack) -> str:
    feeds = "".join(f"  - url: {base}/feed/{i}.xml\n    name: Feed {i}\n" for i in range(count))
    shipped = shipped_config_dir()
    return f"""feeds:
{feeds}watchlists:
  - {shipped / "taxonomy.yaml"}
  - {shipped / "watchlists" / "*.yaml"}
fetch:
  allow_private_addresses: true
  interval: 30m
extract:
  fetch_pages: false
web:
  enabled: false
alerts:
  routes:
    default:
      type: slack
      token: {slack.token}
      channel: {slack.channel}
      api_url: {slack.api_url}
"""


def status_kib(pid: int, field: str) -> int:
    """A VmRSS/VmHWM line of /proc/PID/status in KiB (0 once the process is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


def children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except FileNotFoundError:
            continue
    return found + [g for c in found for g in children(c)]


def progress(db: Path) -> tuple[int, int]:
    """(feeds polled at least once, articles stored)."""
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as conn:
            polled = conn.execute(
                "SELECT count(*) FROM feeds WHERE last_success_at IS NOT NULL"
            ).fetchone()[0]
            stored = conn.execute("SELECT count(*) FROM articles").fetchone()[0]
            return polled, stored
    except sqlite3.Error:  # not created yet, or busy
        return 0, 0


def measure(count: int) -> dict[str, float]:
    server, base = _feed_server.start(count, items=1, varied=True)
    try:
        with tempfile.TemporaryDirectory(prefix="monitor-runmem-") as tmp, FakeSlack() as slack:
            config = Path(tmp) / "monitor.yaml"
            config.write_text(config_text(base, count, slack), encoding="utf-8")
            db = Path(tmp) / "monitor.db"
            env = {**os.environ, "MONITOR_CONFIG": str(config),
                   "MONITOR_DATABASE_URL": f"sqlite:///{db}"}  # fmt: skip
            monitor = str(Path(sys.executable).parent / "monitor")
            subprocess.run([monitor, "db", "upgrade"], env=env, check=True, capture_output=True)
            with open(Path(tmp) / "run.log", "w") as log:
                start = time.monotonic()
                proc = subprocess.Popen([monitor, "run"], env=env, stdout=log, stderr=log)
                try:
                    return _watch(proc, db, Path(tmp) / "run.log", count, start)
                finally:
                    proc.send_signal(signal.SIGTERM)
                    proc.wait(timeout=120)
                    if keep := os.environ.get("BENCH_RUNMEM_LOG"):
                        Path(keep).write_text((Path(tmp) / "run.log").read_text())
    finally:
        server.terminate()
        server.join()


def _watch(
    proc: subprocess.Popen[bytes], db: Path, log: Path, count: int, start: float
) -> dict[str, float]:
    polled_at = stored_at = running_at = 0.0
    workers: dict[int, int] = {}
    loads: list[float] = []
    while time.monotonic() - start < TIMEOUT:
        if proc.poll() is not None:
            raise RuntimeError(f"monitor run exited with {proc.returncode}")
        for child in children(proc.pid):
            workers[child] = max(workers.get(child, 0), status_kib(child, "VmHWM"))
        loads.append(os.getloadavg()[0])
        polled, stored = progress(db)
        now = time.monotonic() - start
        running_at = running_at or (now if "monitor running" in log.read_text() else 0.0)
        polled_at = polled_at or (now if polled >= count else 0.0)
        stored_at = stored_at or (now if stored >= count else 0.0)
        if polled_at and stored_at:
            break
        time.sleep(0.5)
    else:
        raise RuntimeError(f"first cycle not done in {TIMEOUT:.0f}s: {progress(db)} of {count}")
    time.sleep(5)  # let the last alerts go out before reading the settled size
    return {
        "running_s": running_at,
        "polled_s": polled_at,
        "stored_s": stored_at,
        "main_peak_mib": status_kib(proc.pid, "VmHWM") / 1024,
        "main_settled_mib": status_kib(proc.pid, "VmRSS") / 1024,
        "workers_peak_mib": sum(workers.values()) / 1024,
        "workers": len(workers),
        "load": sum(loads) / len(loads),
    }


def main() -> None:
    r = measure(FEEDS)
    md = (
        f"## run-memory: `monitor run` watching {FEEDS:,} feeds\n\n"
        f"{FEEDS:,} synthetic RSS feeds (one item each) on a local server; `monitor run` with "
        "SQLite, the shipped watchlists, alerts to a local Slack-compatible server, page "
        "fetching off (the poller, classifier, grouper and store are measured). Peak = the "
        "kernel's VmHWM of the process.\n\n"
        "| measure | value |\n|---|---|\n"
        f'| start-up ("monitor running" logged) | {r["running_s"]:.0f} s |\n'
        f"| every feed polled once | {r['polled_s']:.0f} s |\n"
        f"| every article stored | {r['stored_s']:.0f} s |\n"
        f"| `monitor run` peak RSS | {r['main_peak_mib']:.0f} MiB |\n"
        f"| `monitor run` RSS after the first cycle | {r['main_settled_mib']:.0f} MiB |\n"
        f"| child processes' peak RSS ({r['workers']:.0f}, summed) "
        f"| {r['workers_peak_mib']:.0f} MiB |\n\n"
        f"Mean 1-minute load average during the run: {r['load']:.1f} on {os.cpu_count()} CPUs "
        "(a shared machine: the times stretch with it, the memory figures do not)."
    )
    update_section("run-memory", md, command=COMMAND)


if __name__ == "__main__":
    main()
