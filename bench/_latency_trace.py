"""`monitor` with a per-entry timing trace, for bench.latency and bench.hostile_feeds only.

    python -m bench._latency_trace run      # as `monitor run`; trace to $MONITOR_LATENCY_TRACE

Wraps a few stage functions (nothing in monitor/ knows about it) and appends one JSON line
per stage event: (wall time, stage, key). Keys are entry URLs, feed URLs or alert ids;
bench.latency joins them with its own timings (when an entry appeared, when Slack saw it).
The wrappers add microseconds per event, against seconds measured.
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

_lock = threading.Lock()
_out: Any = None


def note(stage: str, key: str, **extra: Any) -> None:
    line = json.dumps({"t": time.time(), "stage": stage, "key": key, **extra})
    with _lock:
        _out.write(line + "\n")
        _out.flush()


def _wrap_async(
    owner: Any,
    name: str,
    before: str | None,
    after: str,
    key: Callable[..., str],
    extra: Callable[[Any], dict[str, Any]] | None = None,
) -> None:
    inner = getattr(owner, name)

    @functools.wraps(inner)
    async def traced(*args: Any, **kwargs: Any) -> Any:
        k = key(*args, **kwargs)
        if before:
            note(before, k)
        result = await inner(*args, **kwargs)
        note(after, k, **(extra(result) if extra else {}))
        return result

    setattr(owner, name, traced)


def install(path: str) -> None:
    global _out
    _out = open(path, "a", encoding="utf-8")  # noqa: SIM115 (lives as long as the process)

    from monitor import pipeline
    from monitor.alert.dispatcher import Dispatcher
    from monitor.extract.extractor import Extractor
    from monitor.fetch import poller

    # poll start / feed fetched and parsed, with the entries it handed out
    _wrap_async(poller, "_attempt", "poll_start", "feed_fetched",
                key=lambda feed, *a, **k: feed.url,
                extra=lambda p: {"entries": [e.url for e in p.entries]})  # fmt: skip
    _wrap_async(
        Extractor, "_fetch", None, "page_fetched", key=lambda self, entry, *a, **k: entry.url
    )
    _wrap_async(
        Extractor, "article_for", None, "extracted", key=lambda self, entry, *a, **k: entry.url
    )

    embed = pipeline.start_embedding

    def start_embedding(stages: Any, article: Any) -> Any:
        future = embed(stages, article)
        future.add_done_callback(lambda f: note("embedded", article.url or ""))
        return future

    pipeline.start_embedding = start_embedding
    _trace_loop()

    process = pipeline._process_entry

    def process_entry(prepared: Any, *args: Any, **kwargs: Any) -> Any:
        url = prepared.entry.url or ""
        note("process_start", url)
        outcome = process(prepared, *args, **kwargs)
        kind = outcome.decision.kind if outcome and outcome.decision else None
        note("processed", url, alert=kind)  # committed: its alert is queued
        return outcome

    pipeline._process_entry = process_entry

    run_once = Dispatcher.run_once

    def traced_run_once(self: Dispatcher) -> Any:
        note("dispatch_run", "")
        return run_once(self)

    Dispatcher.run_once = traced_run_once  # type: ignore[method-assign]


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
    install(os.environ["MONITOR_LATENCY_TRACE"])
    from monitor.cli import main as cli

    cli()


if __name__ == "__main__":
    main()
