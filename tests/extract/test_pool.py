"""The extraction pool under load: queueing is not a page's fault, and one page's timeout
does not cost the other pages their text."""

from __future__ import annotations

import asyncio
import multiprocessing
import subprocess
import sys
import time
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import UTC, datetime
from functools import partial
from typing import Any

import pytest
from extract_fakes import NOW, fixture_html

from monitor.extract.html import Extracted
from monitor.extract.pool import ExtractionPool

PAGE = fixture_html("news_article")
HANG = b"<html><body><p>never finishes</p></body></html>"


class SlowExecutor(ThreadPoolExecutor):
    """Two threads; every job takes at least `delay` seconds, like a busy worker."""

    def __init__(self, delay: float) -> None:
        super().__init__(max_workers=2)
        self.delay = delay

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        def slow() -> Any:
            time.sleep(self.delay)
            return fn(*args, **kwargs)

        return super().submit(slow)


def test_time_queued_behind_other_pages_does_not_count_against_the_timeout() -> None:
    """12 pages of 0.2 s on two workers take 1.2 s in all; each page alone is well within
    its 1 s timeout, so none may time out however long it waited for a worker."""
    executor = SlowExecutor(0.2)
    pool = ExtractionPool(2, executor)

    async def main() -> list[Any]:
        jobs = (
            pool.extract(PAGE, url=None, favor="balanced", timeout=1.0, now=NOW) for _ in range(12)
        )
        return await asyncio.gather(*jobs, return_exceptions=True)

    try:
        results = asyncio.run(main())
    finally:
        executor.shutdown()
    assert [type(r).__name__ for r in results if not hasattr(r, "text")] == []


def test_other_jobs_do_not_wait_behind_the_pages_queued_for_a_worker() -> None:
    """A classification made ahead is awaited by an article further along than any page
    still waiting for a worker: six pages of 0.2 s on two workers, then a job; the job
    waits behind the two pages handed over, not behind all six."""
    executor = SlowExecutor(0.2)
    pool = ExtractionPool(2, executor)
    done: list[str] = []

    async def page(n: int) -> None:
        await pool.extract(PAGE, url=None, favor="balanced", timeout=30, now=NOW)
        done.append(f"page {n}")

    async def job() -> None:
        await asyncio.sleep(0.05)  # asked for after every page
        assert await pool.run(partial(len, "classified"), timeout=30) == 10
        done.append("job")

    async def main() -> None:
        await asyncio.gather(*(page(n) for n in range(6)), job())

    try:
        asyncio.run(main())
    finally:
        executor.shutdown()
    assert len(done) == 7 and done.index("job") < 4, done


class StallingExecutor(Executor):
    """The first pool stalls every job (as a worker stuck on a hostile page would); being
    shut down breaks or cancels what it was running, as ProcessPoolExecutor does when its
    workers are terminated. Later pools run their jobs at once."""

    created: list[StallingExecutor]

    def __init__(self, stall: bool, on_shutdown: str) -> None:
        self.stall = stall
        self.on_shutdown = on_shutdown
        self.pending: list[Future[Any]] = []

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        if self.stall:
            self.pending.append(future)
        else:
            future.set_result(fn(*args, **kwargs))
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        for future in self.pending:
            if future.done():
                continue
            if self.on_shutdown == "cancel":
                future.cancel()
            else:
                future.set_exception(BrokenProcessPool("a worker was terminated"))


@pytest.mark.parametrize("on_shutdown", ["break", "cancel"])
def test_a_timeout_restarts_the_pool_and_the_other_pages_get_another_try(
    on_shutdown: str,
) -> None:
    made: list[StallingExecutor] = []

    def factory(workers: int | None) -> Executor:
        made.append(StallingExecutor(stall=not made, on_shutdown=on_shutdown))
        return made[-1]

    pool = ExtractionPool(2, factory=factory)

    async def later_page() -> Any:
        await asyncio.sleep(0.1)  # handed over after the hostile page, so it times out first
        return await pool.extract(PAGE, url=None, favor="balanced", timeout=5.0, now=NOW)

    async def main() -> tuple[object, Extracted | BaseException | None]:
        hostile = pool.extract(HANG, url=None, favor="balanced", timeout=0.3, now=NOW)
        return await asyncio.gather(hostile, later_page(), return_exceptions=True)

    hostile, later = asyncio.run(main())
    assert isinstance(hostile, TimeoutError)
    assert isinstance(later, Extracted) and later.text, later
    assert len(made) == 2  # the stalled pool was replaced once, not per page


def test_a_crashed_worker_is_not_retried() -> None:
    """A pool that broke by itself (a worker died on this page) is not a bystander case."""
    made: list[StallingExecutor] = []

    def factory(workers: int | None) -> Executor:
        made.append(StallingExecutor(stall=True, on_shutdown="break"))
        return made[-1]

    pool = ExtractionPool(2, factory=factory)

    async def main() -> Any:
        job = asyncio.ensure_future(
            pool.extract(PAGE, url=None, favor="balanced", timeout=5, now=NOW)
        )
        await asyncio.sleep(0.05)
        made[0].shutdown()  # the worker dies on its own
        return await asyncio.gather(job, return_exceptions=True)

    (outcome,) = asyncio.run(main())
    assert isinstance(outcome, BrokenProcessPool)
    assert len(made) == 1


class CountingExecutor(ThreadPoolExecutor):
    def __init__(self) -> None:
        super().__init__(max_workers=2)
        self.submitted = 0

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        self.submitted += 1
        return super().submit(fn, *args, **kwargs)


def test_start_sets_every_worker_going_without_an_event_loop() -> None:
    """`poll --once` starts the workers before it has an event loop (while the model and
    the watchlists load): one warm-up page per worker, each extracted."""
    executor = CountingExecutor()
    pool = ExtractionPool(3, factory=lambda workers: executor)
    try:
        warm = [f.result(timeout=30) for f in pool.start()]
    finally:
        executor.shutdown()
    assert executor.submitted == 3
    assert all(page is not None and page.text for page in warm)


@pytest.mark.skipif(
    "forkserver" not in multiprocessing.get_all_start_methods(), reason="no fork server here"
)
def test_workers_are_forked_with_the_extraction_code_already_imported() -> None:
    """Each worker would otherwise import trafilatura itself (~1 s of CPU, again after every
    restart). The job is a builtin, so unpickling it imports nothing of ours. Asked in a
    fresh interpreter: the fork server is one per process and keeps the preload of whoever
    started it, and in this one the feed parser's process (no preload) may have been first,
    as it is when tests/fetch runs before this test."""
    code = (
        "from monitor.extract.pool import make_pool\n"
        "executor = make_pool(1)\n"
        "try:\n"
        "    print(executor.submit(eval, \"'trafilatura' in __import__('sys').modules\")"
        ".result(timeout=120))\n"
        "finally:\n"
        "    executor.shutdown()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=240, check=False
    )
    assert done.stdout.strip() == "True", done.stderr


def _dated(day: str) -> bytes:
    return (
        f"<html><head><meta name='date' content='{day}'></head><body><article>"
        "<p>The ferry across the river did not run on Tuesday, and the bridge stayed shut.</p>"
        "</article></body></html>"
    ).encode()


def test_the_pipelines_now_travels_with_the_page_into_the_worker_process() -> None:
    """The worker runs on the real clock, which must not decide which dates are believable:
    a day after the given now is not the page's date, one before it is, whatever the year."""
    pool = ExtractionPool(1)  # a real process, as the pipeline runs extraction

    async def main() -> list[Any]:
        return [
            await pool.extract(_dated("2001-04-01"), url=None, favor="balanced", timeout=60,
                               now=datetime(2001, 3, 31, 8, tzinfo=UTC)),
            await pool.extract(_dated("2090-03-30"), url=None, favor="balanced", timeout=60,
                               now=datetime(2090, 3, 31, 8, tzinfo=UTC)),
        ]  # fmt: skip

    try:
        future, past = asyncio.run(main())
    finally:
        pool.close()
    assert future is not None and future.text and future.published is None
    assert past is not None and past.published == datetime(2090, 3, 30, tzinfo=UTC)
