"""The process pool extraction runs in, so CPU-bound parsing never stalls the event loop."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from functools import partial

from monitor.extract.html import Extracted, extract_html

WARM_UP_PAGE = (
    b"<html><body><article><p>Warming up the extraction workers.</p></article></body></html>"
)


def default_workers() -> int:
    """One process per CPU this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def make_pool(workers: int | None) -> ProcessPoolExecutor:
    # forkserver: forking a process that runs threads (the event loop's resolver, the
    # database pool) can deadlock a child; spawn where forkserver does not exist.
    method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    return ProcessPoolExecutor(
        max_workers=workers or default_workers(),
        mp_context=multiprocessing.get_context(method),
    )


class ExtractionPool:
    """Runs `extract_html` off the event loop; owns (and can rebuild) its pool unless injected."""

    def __init__(self, workers: int | None, executor: Executor | None = None) -> None:
        self._workers = workers
        self._executor = executor
        self._owned = executor is None

    async def extract(
        self, html: bytes, *, url: str | None, favor: str, timeout: float
    ) -> Extracted | None:
        """Raises TimeoutError, BrokenProcessPool or whatever extraction raised."""
        executor = self._get()
        job = partial(extract_html, html, url=url, favor=favor)
        try:
            return await asyncio.wait_for(
                asyncio.get_running_loop().run_in_executor(executor, job), timeout
            )
        except BrokenProcessPool:
            # A worker died (out of memory, a crash in lxml): the next page gets a new pool.
            self._discard(executor)
            raise
        except TimeoutError:
            # wait_for only abandons the future; the worker would keep chewing on the page
            # and, a few such pages later, every extraction would time out. Start afresh.
            self._discard(executor, kill=True)
            raise

    async def warm_up(self) -> None:
        """Start every worker now (each imports trafilatura, a second or two), so the first
        articles of a run do not wait for it."""
        executor = self._get()
        loop = asyncio.get_running_loop()
        job = partial(extract_html, WARM_UP_PAGE, url=None)
        await asyncio.gather(
            *(
                loop.run_in_executor(executor, job)
                for _ in range(self._workers or default_workers())
            )
        )

    def _get(self) -> Executor:
        if self._executor is None:
            self._executor = make_pool(self._workers)
        return self._executor

    def _discard(self, executor: Executor, *, kill: bool = False) -> None:
        if self._owned and self._executor is executor:
            self._executor = None
            # Python 3.11 has no public way to stop a busy worker; terminate it directly.
            workers = list(getattr(executor, "_processes", {}).values()) if kill else []
            executor.shutdown(wait=False, cancel_futures=True)
            for process in workers:
                process.terminate()

    def close(self) -> None:
        if self._owned and self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
