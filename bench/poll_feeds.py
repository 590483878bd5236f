"""Poll 2,000 local feeds (90% answer 304, 10% have new entries): monitor vs `reader`.

Each contender runs in its own process against a fresh feed server (another process):
one warm-up round stores every entry and validator, the server then publishes new
items in every tenth feed, and the measured round polls all feeds once more. Settings
are fixed (no adaptive scheduling, no jitter); both use the same number of workers.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from bench import _feed_server
from bench._report import sized, update_section

COMMAND = "python -m bench.poll_feeds"


def _usage() -> tuple[float, float]:
    """(CPU seconds of this process, all threads; peak RSS in MiB)."""
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024


def _measure(round_: Any) -> dict[str, Any]:
    cpu0, wall0 = _usage()[0], time.perf_counter()
    counts = round_()
    wall, (cpu1, rss) = time.perf_counter() - wall0, _usage()
    return {"wall": wall, "cpu": cpu1 - cpu0, "rss_mib": rss, **counts}


def publish(base: str) -> None:
    """New items in every tenth feed. With the standard library: an HTTP client imported
    here would count in the peak memory of either contender."""
    with urllib.request.urlopen(f"{base}/publish", timeout=30) as answer:
        answer.read()


def run_monitor(base: str, count: int, workers: int, tmp: Path) -> dict[str, Any]:
    from monitor.fetch.http import Fetcher
    from monitor.fetch.poller import poll_feeds
    from monitor.fetch.settings import FeedConfig, FetchSettings
    from monitor.storage.db import make_engine, require_current_schema, session_factory, transaction
    from monitor.storage.feeds import mark_entry_seen, sync_feeds

    url = f"sqlite:///{tmp / 'monitor.db'}"
    # As deployed: `monitor db upgrade` migrates in a process of its own, and the poller
    # (`monitor run`) only checks the schema before it starts.
    subprocess.run([sys.executable, "-m", "monitor", "db", "upgrade", "--db", url], check=True,
                   stdout=subprocess.DEVNULL)  # fmt: skip
    engine = make_engine(url)
    require_current_schema(engine)
    sessions = session_factory(engine)
    settings = FetchSettings(allow_private_addresses=True, adaptive=False, jitter=0,
                             concurrency=workers, per_host=workers)  # fmt: skip
    feeds = [FeedConfig(url=f"{base}/feed/{i}.xml") for i in range(count)]
    from datetime import UTC, datetime

    with transaction(sessions) as session:
        sync_feeds(session=session, feeds=feeds, now=datetime.now(UTC))

    async def cycle(fetcher: Fetcher) -> dict[str, int]:
        now = datetime.now(UTC)
        statuses: list[int | None] = []
        new = errors = 0
        # As the pipeline's poll_cycle does: one batch, each poll handled as it completes,
        # its new entries marked seen once processed (and then let go).
        async for poll in poll_feeds(
            feeds, fetcher=fetcher, sessions=sessions, settings=settings, now=now
        ):
            statuses.append(poll.status)
            new, errors = new + len(poll.entries), errors + bool(poll.error)
            if poll.entries:
                with transaction(sessions) as session:
                    for entry in poll.entries:
                        mark_entry_seen(
                            session=session, feed_url=poll.feed_url, entry=entry, now=now
                        )
        return _counts(statuses, new, errors)

    async def main() -> dict[str, Any]:
        async with Fetcher(settings) as fetcher:
            await cycle(fetcher)
            publish(base)
            loop = asyncio.get_running_loop()
            start_cpu, start = _usage()[0], time.perf_counter()
            profile = os.environ.get("POLL_PROFILE")
            if profile:
                import cProfile

                prof = cProfile.Profile()
                prof.enable()
            counts = await cycle(fetcher)
            if profile:
                prof.disable()
                prof.dump_stats(profile)
            del loop
            cpu, rss = _usage()
            return {"wall": time.perf_counter() - start, "cpu": cpu - start_cpu,
                    "rss_mib": rss, **counts}  # fmt: skip

    return asyncio.run(main())


def run_reader(base: str, count: int, workers: int, tmp: Path) -> dict[str, Any]:
    from reader import make_reader

    reader = make_reader(str(tmp / "reader.sqlite"))
    for i in range(count):
        reader.add_feed(f"{base}/feed/{i}.xml")

    def cycle() -> dict[str, int]:
        results = list(reader.update_feeds_iter(workers=workers, scheduled=False))
        errors = sum(1 for r in results if isinstance(r.value, Exception))
        new = sum(r.updated_feed.new for r in results if r.updated_feed is not None)
        changed = sum(1 for r in results if r.value is not None and not r.error)
        return {"not_modified": count - changed - errors, "ok": changed, "new_entries": new,
                "errors": errors}  # fmt: skip

    cycle()
    publish(base)
    result = _measure(cycle)
    reader.close()
    return result


def _counts(statuses: list[int | None], new: int, errors: int) -> dict[str, int]:
    return {"not_modified": statuses.count(304), "ok": statuses.count(200), "new_entries": new,
            "errors": errors}  # fmt: skip


def contender(name: str, count: int, workers: int) -> dict[str, Any]:
    """Run one contender in a fresh process against a fresh server."""
    server, base = _feed_server.start(count)
    try:
        out = subprocess.run(
            [sys.executable, "-m", "bench.poll_feeds", "--contender", name, "--base", base,
             "--feeds", str(count), "--workers", str(workers)],
            check=True, capture_output=True, text=True, cwd=Path(__file__).parent.parent,
        )  # fmt: skip
    finally:
        server.terminate()
        server.join()
    return json.loads(out.stdout.strip().splitlines()[-1])


# What each contender must agree on for the timings to compare like with like.
WORK = ("not_modified", "ok", "new_entries", "errors")


class DifferentWork(Exception):
    """The contenders did not do the same work, so their speeds are not comparable."""


def check_same_work(results: dict[str, dict[str, Any]]) -> None:
    """Raise DifferentWork naming each count on which the contenders disagree."""
    differences = []
    for key in WORK:
        values = {name: r[key] for name, r in results.items()}
        if len(set(values.values())) > 1:
            differences.append(f"{key}: " + ", ".join(f"{n} {v}" for n, v in values.items()))
    if differences:
        raise DifferentWork("contenders did different work: " + "; ".join(differences))


def report(results: dict[str, dict[str, Any]], count: int, workers: int) -> str:
    rows = ["| poller | feeds/s | wall s | CPU s | peak RSS MiB | 304 | 200 | new | errors |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]  # fmt: skip
    for name, r in results.items():
        rows.append(
            f"| {name} | {count / r['wall']:,.0f} | {r['wall']:.2f} | {r['cpu']:.2f} | "
            f"{r['rss_mib']:.0f} | {r['not_modified']} | {r['ok']} | {r['new_entries']} | "
            f"{r['errors']} |"
        )
    m, r = results["monitor"], results["reader"]
    ratio = (
        f"monitor vs reader: **{r['wall'] / m['wall']:.1f}x** the feeds/s, "
        f"**{m['cpu'] / r['cpu']:.2f}x** the CPU seconds, **{m['rss_mib'] / r['rss_mib']:.2f}x** "
        "the peak memory."
    )
    intro = (
        f"{count} feeds on a local server (separate process); after a warm-up round, every "
        f"tenth feed publishes 2 new items and the measured round polls all of them once. "
        f"Both use {workers} workers (monitor: `concurrency`/`per_host` {workers}, asyncio; "
        f"reader {_reader_version()}: `update_feeds(workers={workers})`, threads), SQLite "
        "storage, each in its own process (CPU = user+sys of that process during the round, "
        "peak RSS = whole process)."
    )
    # Other work on a shared machine stretches wall time far more than CPU seconds.
    busy = os.getloadavg()[0]
    load = f"Load average (1 min) when the run ended: {busy:.1f} on {os.cpu_count()} CPUs."
    return "\n".join([intro, "", *rows, "", ratio, "", load])


def _reader_version() -> str:
    import reader

    return str(reader.__version__)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--feeds", type=int, default=sized(2000, 40))
    parser.add_argument("--workers", type=int, default=32)
    parser.add_argument("--contender", choices=["monitor", "reader"])
    parser.add_argument("--base")
    args = parser.parse_args(argv)
    if args.contender:  # child process: run and print one JSON line
        run = run_monitor if args.contender == "monitor" else run_reader
        with tempfile.TemporaryDirectory() as tmp:
            print(json.dumps(run(args.base, args.feeds, args.workers, Path(tmp))))
        return
    results = {name: contender(name, args.feeds, args.workers) for name in ("monitor", "reader")}
    check_same_work(results)  # before the section is written: no figures from unequal work
    update_section("poll", report(results, args.feeds, args.workers), command=COMMAND)


if __name__ == "__main__":
    main()
