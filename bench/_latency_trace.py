"""`monitor` with a per-entry timing trace, for bench.latency and bench.hostile_feeds only.

    python -m bench._latency_trace run      # as `monitor run`; trace to $MONITOR_LATENCY_TRACE

Wraps a few stage functions (nothing in monitor/ knows about it) and appends one JSON line
per stage event: (wall time, stage, key). Keys are entry URLs, feed URLs or alert ids;
bench.latency joins them with its own timings (when an entry appeared, when Slack saw it).
The wrappers add microseconds per event, against seconds measured.
"""

from __future__ import annotations

import functools
import json
import os
import threading
import time
from collections.abc import Callable
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
    _wrap_async(Extractor, "_fetch", None, "page_fetched", key=lambda self, entry: entry.url)
    _wrap_async(Extractor, "article_for", None, "extracted", key=lambda self, entry: entry.url)

    embed = pipeline.start_embedding

    def start_embedding(stages: Any, article: Any) -> Any:
        future = embed(stages, article)
        future.add_done_callback(lambda f: note("embedded", article.url or ""))
        return future

    pipeline.start_embedding = start_embedding  # type: ignore[assignment]

    process = pipeline._process_entry

    def process_entry(entry: Any, *args: Any, **kwargs: Any) -> Any:
        note("process_start", entry.url or "")
        outcome = process(entry, *args, **kwargs)
        kind = outcome.decision.kind if outcome and outcome.decision else None
        note("processed", entry.url or "", alert=kind)  # committed: its alert is queued
        return outcome

    pipeline._process_entry = process_entry  # type: ignore[assignment]

    run_once = Dispatcher.run_once

    def traced_run_once(self: Dispatcher) -> Any:
        note("dispatch_run", "")
        return run_once(self)

    Dispatcher.run_once = traced_run_once  # type: ignore[method-assign]


def main() -> None:
    install(os.environ["MONITOR_LATENCY_TRACE"])
    from monitor.cli import main as cli

    cli()


if __name__ == "__main__":
    main()
