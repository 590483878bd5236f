"""The process pool extraction runs in, so CPU-bound parsing never stalls the event loop."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import weakref
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import UTC, datetime
from functools import partial
from typing import TypeVar

from monitor.extract.html import Extracted, extract_html

T = TypeVar("T")
# The modules of the other jobs the pipeline gives the workers (`ExtractionPool.run`):
# imported once by the fork server, not by each worker on its first job (~0.2 s of CPU).
OTHER_JOBS = ("monitor.classify.ahead",)
# Imported by the fork server for its side effect: the libraries' first-use caches.
_PRELOAD_CACHES = "monitor.extract.preload"

WARM_UP_PAGE = (
    b"<html><body><article><p>Warming up the extraction workers.</p></article></body></html>"
)
# The warm-up page has no date, so any ceiling for one will do; a fixed one, not the clock.
_WARM_UP_NOW = datetime(2000, 1, 1, tzinfo=UTC)


def default_workers() -> int:
    """One process per CPU this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def make_pool(workers: int | None) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(max_workers=workers or default_workers(), mp_context=_context())


def _context() -> multiprocessing.context.BaseContext:
    """forkserver: forking a process that runs threads (the event loop's resolver, the
    database pool) can deadlock a child; spawn where forkserver does not exist.

    The fork server imports the extraction code (trafilatura, lxml: ~1 s of CPU) once, and
    each worker is forked from it ready to extract: without it every worker imported it
    anew, as does each replacement after a timeout. The server is not forked from this
    process, so nothing of ours (threads, sockets, the model) is copied into it."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([extract_html.__module__, _PRELOAD_CACHES, *OTHER_JOBS])
    return context


class ExtractionPool:
    """Runs `extract_html` off the event loop; owns (and can rebuild) its pool unless injected.

    At most one page per worker is handed to the pool at a time, and a page's timeout starts
    when it is handed over: time spent waiting behind other pages is not the page's fault
    (counting it made every page of a busy poll time out, and each timeout restarted the pool
    under the pages that were fine).
    """

    def __init__(
        self,
        workers: int | None,
        executor: Executor | None = None,
        *,
        factory: Callable[[int | None], Executor] = make_pool,
    ) -> None:
        self._workers = workers
        self._executor = executor
        self._owned = executor is None
        self._factory = factory
        # Pools stopped because one of their pages overran: the other pages they were
        # running are innocent and get one more try on the new pool.
        self._killed: weakref.WeakSet[Executor] = weakref.WeakSet()
        # Per event loop: one slot per worker for pages, and as many for other jobs.
        self._slots: tuple[asyncio.AbstractEventLoop, dict[str, asyncio.Semaphore]] | None = None

    async def extract(
        self, html: bytes, *, url: str | None, favor: str, timeout: float, now: datetime
    ) -> Extracted | None:
        """``now``: when the page was asked for (see `extract_html`).
        Raises TimeoutError, BrokenProcessPool or whatever extraction raised."""
        job = partial(extract_html, html, url=url, now=now, favor=favor)
        async with self._slot("page"):
            executor = self._get()
            try:
                return await self._run(executor, job, timeout)
            except BrokenProcessPool:
                if executor not in self._killed:
                    raise
            return await self._run(self._get(), job, timeout)

    async def run(self, job: Callable[[], T], *, timeout: float) -> T:
        """Run another pure, picklable job on the workers (an extracted article's
        classification). Such jobs have slots of their own, one per worker: they wait
        behind no queued page (whoever waits for them is further along than the pages
        are), and a page waits behind at most one of them per worker. As for a page, the
        ``timeout`` starts when the job is handed over.
        Raises TimeoutError, BrokenProcessPool or whatever the job raised."""
        async with self._slot("job"):
            return await self._run(self._get(), job, timeout)

    async def _run(self, executor: Executor, job: Callable[[], T], timeout: float) -> T:
        future = asyncio.get_running_loop().run_in_executor(executor, job)
        try:
            return await asyncio.wait_for(future, timeout)
        except BrokenProcessPool:
            # A worker died (out of memory, a crash in lxml): the next page gets a new pool.
            self._discard(executor)
            raise
        except TimeoutError:
            # wait_for only abandons the future; the worker would keep chewing on the page
            # and, a few such pages later, every extraction would time out. Start afresh.
            self._discard(executor, kill=True)
            raise
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise  # this task was cancelled: let it unwind
            # The pool cancelled the job (it was shut down under it); for the caller that
            # is a lost worker, not a reason to tear down the whole poll.
            raise BrokenProcessPool("the extraction pool was shut down under this page") from None

    def _slot(self, kind: str) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        if self._slots is None or self._slots[0] is not loop:
            n = self._workers or default_workers()
            self._slots = (loop, {"page": asyncio.Semaphore(n), "job": asyncio.Semaphore(n)})
        return self._slots[1][kind]

    async def warm_up(self) -> None:
        """Start every worker now (the first start imports trafilatura, a second or two),
        so the first articles of a run do not wait for it."""
        await asyncio.gather(*(asyncio.wrap_future(f) for f in self.start()))

    def start(self) -> list[Future[Extracted | None]]:
        """Start every worker without waiting for them (no event loop needed): they start
        while the caller goes on with its own start-up (model, watchlists, feeds)."""
        executor = self._get()
        job = partial(extract_html, WARM_UP_PAGE, url=None, now=_WARM_UP_NOW)
        return [executor.submit(job) for _ in range(self._workers or default_workers())]

    def _get(self) -> Executor:
        if self._executor is None:
            self._executor = self._factory(self._workers)
        return self._executor

    def _discard(self, executor: Executor, *, kill: bool = False) -> None:
        if self._owned and self._executor is executor:
            self._executor = None
            if kill:
                self._killed.add(executor)
            # Python 3.11 has no public way to stop a busy worker; terminate it directly.
            workers = list(getattr(executor, "_processes", {}).values()) if kill else []
            executor.shutdown(wait=False, cancel_futures=True)
            for process in workers:
                process.terminate()

    def close(self) -> None:
        if self._owned and self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
