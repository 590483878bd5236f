"""A hook on the pipeline's stages, for whoever wants to time them (bench/_latency_trace.py).

The pipeline tells an injected ``StageObserver`` when a named stage starts and ends for a
key (a feed's URL, an entry's URL); it reads no clock for it and nothing it returns depends
on the observer, which times the events itself. The default observer does nothing.

    poll       a feed's poll: its download and parse (key: the feed URL; ended with
               ``entries``, the URLs of the entries it handed out)
    page       an entry's page downloaded (key: the entry URL; ended only when it was)
    extract    an entry made an article: page text or the feed's (key: the entry URL)
    embed      an article's sentence embedding (key: its URL); may end on a worker thread
    process    an article classified, grouped, stored and its alert queued, in one
               transaction (key: the entry URL; ended with ``alert``, the alert's kind)

Events come from the event loop and from worker threads: an observer that keeps state
guards it.
"""

from __future__ import annotations

from typing import Final, Protocol

POLL: Final = "poll"
PAGE: Final = "page"
EXTRACT: Final = "extract"
EMBED: Final = "embed"
PROCESS: Final = "process"


class StageObserver(Protocol):
    def started(self, stage: str, key: str) -> None: ...

    def ended(self, stage: str, key: str, **detail: object) -> None: ...


class _Unobserved:
    """The default: nothing is told anything."""

    def started(self, stage: str, key: str) -> None:
        pass

    def ended(self, stage: str, key: str, **detail: object) -> None:
        pass


UNOBSERVED: Final[StageObserver] = _Unobserved()
