"""/status: every feed's and alert route's health, from the database while it answers and
from memory while it does not. An outage is exactly when an operator asks, so the answer
is then a 503 that says the database is unreachable and what the process last knew."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from monitor.errors import StorageError

Body = dict[str, Any]


class StatusBoard:
    def __init__(
        self,
        *,
        read: Callable[[], Body],  # from the database; raises StorageError when unreachable
        memory: Callable[[], Body],  # what the process knows without it (pauses, job failures)
        clock: Callable[[], datetime],
    ) -> None:
        self._read = read
        self._memory = memory
        self._clock = clock
        self._last: Body | None = None

    def answer(self) -> tuple[int, Body]:
        """(HTTP status, JSON body): 200 with the database's view, else 503 with memory's."""
        try:
            body = self._read()
        except StorageError as exc:
            return 503, {
                "database": "unreachable",
                "error": str(exc),
                "last_known": self._last,  # the last answer the database gave, and when
                **self._memory(),
            }
        self._last = {"at": self._clock(), **body}
        return 200, {"database": "ok", **body, **self._memory()}
