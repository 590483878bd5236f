"""Structured logging: one line per event, `key=value` pairs with consistent keys
(feed_url, entry_url, story_id, alert_id). Secrets never reach a log line: URLs with
credentials are redacted by the code that logs them."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import time
from collections.abc import Callable
from typing import Literal

from pydantic import BaseModel, ConfigDict

from monitor.units import counted

_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}


def utc_time(record: logging.LogRecord) -> str:
    """When ``record`` was made, in UTC with milliseconds and its zone said (``Z``): a log
    shipper or an operator comparing replicas on hosts in other zones reads it as meant;
    the server's local time without an offset is ambiguous."""
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
    return f"{stamp}.{int(record.msecs):03d}Z"


class KeyValueFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        when = utc_time(record)
        base = f"{when} {record.levelname} {record.name}: {record.getMessage()}"
        extras = {k: v for k, v in record.__dict__.items() if k not in _STANDARD}
        if extras:
            base += " " + " ".join(f"{k}={v!r}" for k, v in sorted(extras.items()))
        if record.exc_info:
            base += "\n" + self.formatException(record.exc_info)
        return base


class JsonFormatter(logging.Formatter):
    """One JSON object per line, for log shippers: time, level, logger, event, the keys."""

    def format(self, record: logging.LogRecord) -> str:
        data = {
            "time": utc_time(record),
            "level": record.levelname,
            "logger": record.name,
            "event": record.getMessage(),
        }
        data.update({k: v for k, v in record.__dict__.items() if k not in _STANDARD})
        if record.exc_info:
            data["traceback"] = self.formatException(record.exc_info)
        return json.dumps(data, default=str, ensure_ascii=False)


class LogSettings(BaseModel):
    """`log:` in monitor.yaml."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    level: Literal["debug", "info", "warning", "error"] = "info"
    format: Literal["text", "json"] = "text"


def configure(settings: LogSettings | None = None, *, verbose: bool = False) -> None:
    settings = settings or LogSettings()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if settings.format == "json" else KeyValueFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose else getattr(logging, settings.level.upper()))
    for noisy in ("httpx", "httpcore", "apscheduler", "trafilatura", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    executor = logging.getLogger("apscheduler.executors.default")
    if not any(isinstance(f, _NotCancelled) for f in executor.filters):
        executor.addFilter(_NotCancelled())


class _NotCancelled(logging.Filter):
    """A job still running when SIGTERM stops the loop is cancelled: the scheduler says so
    in its own line ("stopping: ..."), so apscheduler's "Error running job" traceback for
    the CancelledError is noise that reads like a crash."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[0] if record.exc_info else None
        return not (exc is not None and issubclass(exc, asyncio.CancelledError))


class RepeatedError:
    """One recurring job's failures, logged without a flood: the first with its traceback,
    then "still failing (N times)" at most once per ``every`` seconds, and one line when it
    works again. A database outage must not print a traceback every scheduler tick."""

    def __init__(
        self,
        logger: logging.Logger,
        what: str,
        *,
        every: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.what = what
        self.count = 0  # failures in a row
        self.last_error: str | None = None
        self._logger = logger
        self._every = every
        self._clock = clock
        self._logged_at = 0.0

    def failed(self, exc: BaseException) -> None:
        self.count += 1
        self.last_error = f"{exc.__class__.__name__}: {exc}"
        now = self._clock()
        if self.count == 1:
            self._logger.error("%s failed: %s", self.what, self.last_error, exc_info=exc)
        elif now - self._logged_at >= self._every:
            self._logger.error(
                "%s still failing (%s): %s", self.what, counted(self.count, "time"), self.last_error
            )
        else:
            return
        self._logged_at = now

    def succeeded(self) -> None:
        if self.count:
            self._logger.info("%s works again after %s", self.what, counted(self.count, "failure"))
        self.count = 0
        self.last_error = None

    def state(self) -> dict[str, object]:
        return {"failing": self.count > 0, "failures": self.count, "last_error": self.last_error}
