"""`monitor run` with a per-entry timing trace, for bench.latency and bench.hostile_feeds only.

    python -m bench._latency_trace run      # as `monitor run`; trace to $MONITOR_LATENCY_TRACE

Runs the service with a stage observer (monitor/observe.py, the pipeline's public hook) that
appends one JSON line per stage event: (wall time, stage, key). Keys are entry or feed URLs;
bench.latency joins them with its own timings (when an entry appeared, when Slack saw it),
taken in other processes, hence wall time here. The event loop's health is traced by
wrapping a few functions (below). An event costs microseconds, against seconds measured.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from monitor import observe

_lock = threading.Lock()
_out: Any = None


def note(stage: str, key: str, **extra: Any) -> None:
    line = json.dumps({"t": time.time(), "stage": stage, "key": key, **extra})
    with _lock:
        _out.write(line + "\n")
        _out.flush()


# The trace's event names (bench.latency.STAGES reads them) for the observer's events.
STARTED = {observe.POLL: "poll_start", observe.PROCESS: "process_start"}
ENDED = {
    observe.POLL: "feed_fetched",  # with the entries it handed out
    observe.PAGE: "page_fetched",
    observe.EXTRACT: "extracted",
    observe.EMBED: "embedded",
    observe.PROCESS: "processed",  # committed: its alert (kind in ``alert``) is queued
}


class Trace:
    """The stage observer: each event the trace names becomes a line of it."""

    def started(self, stage: str, key: str) -> None:
        if stage in STARTED:
            note(STARTED[stage], key)

    def ended(self, stage: str, key: str, **detail: object) -> None:
        if stage in ENDED:
            note(ENDED[stage], key, **detail)


def install(path: str) -> None:
    global _out
    _out = open(path, "a", encoding="utf-8")  # noqa: SIM115 (lives as long as the process)
    _trace_loop()


# The event loop's health: a heartbeat every HEARTBEAT s notes how late it woke
# ("loop_lag"), and every database transaction, feed parse and backlog write notes its
# duration and thread ("blocking"), so a late heartbeat can be put down to a call that
# held the loop or to the loop waiting for the CPU (or the GIL) while it was free.
HEARTBEAT = 0.1


def _trace_loop() -> None:
    from monitor import scheduler
    from monitor.fetch import poller

    serve = scheduler.Service.serve

    async def traced_serve(self: Any) -> None:
        if os.environ.get("BENCH_TRACE_SLOW"):  # asyncio's own log of callbacks over 0.1 s
            loop = asyncio.get_running_loop()
            loop.set_debug(True)
            loop.slow_callback_duration = 0.1
        beat = asyncio.create_task(_heartbeat())
        try:
            await serve(self)
        finally:
            beat.cancel()

    scheduler.Service.serve = traced_serve  # type: ignore[method-assign]
    for module in (poller, scheduler):
        module.transaction = _timed_transaction(module.transaction)  # type: ignore[attr-defined]
    # _parse, not parse_feed: a big body goes to the parser process, which needs the real one
    for name in ("_parse", "store_backlog", "take_backlog", "seen_entries"):
        if hasattr(poller, name):
            setattr(poller, name, _timed(getattr(poller, name), name))


async def _heartbeat() -> None:
    loop = asyncio.get_running_loop()
    while True:
        due = loop.time() + HEARTBEAT
        await asyncio.sleep(HEARTBEAT)
        note("loop_lag", "", lag=round(loop.time() - due, 4))


def _where() -> str:
    """The monitor function that opened the transaction (two frames up: contextmanager)."""
    frame = sys._getframe(3)
    return f"{frame.f_code.co_name}"


def _timed_transaction(inner: Callable[..., Any]) -> Callable[..., Any]:
    @contextlib.contextmanager
    def timed(*args: Any, **kwargs: Any) -> Iterator[Any]:
        where, start = _where(), time.perf_counter()
        try:
            with inner(*args, **kwargs) as session:
                yield session
        finally:
            _blocking(f"db {where}", start)

    return timed


def _timed(inner: Callable[..., Any], name: str) -> Callable[..., Any]:
    @functools.wraps(inner)
    def timed(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return inner(*args, **kwargs)
        finally:
            _blocking(name, start)

    return timed


def _blocking(what: str, start: float) -> None:
    thread = threading.current_thread().name
    note("blocking", "", what=what, thread=thread, took=round(time.perf_counter() - start, 4))


def main() -> None:
    """`monitor run` (configuration and database from the environment), traced."""
    if sys.argv[1:] != ["run"]:
        sys.exit("usage: python -m bench._latency_trace run")
    install(os.environ["MONITOR_LATENCY_TRACE"])
    from monitor.cli import get_config, setup_logging
    from monitor.scheduler import run_forever

    config = get_config(None, sends=True)
    setup_logging(config)
    run_forever(config, config.database_url(), observer=Trace())


if __name__ == "__main__":
    main()
