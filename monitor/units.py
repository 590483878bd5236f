"""Small value types shared by configuration models (durations, byte sizes), and how a
count is written with its noun."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, PlainSerializer

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?\s*$")
_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, None: 1}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(b|kb|kib|mb|mib|gb|gib)?\s*$", re.I)
_BYTES = {"b": 1, "kb": 1000, "kib": 1024, "mb": 10**6, "mib": 2**20, "gb": 10**9, "gib": 2**30}


def parse_duration(value: Any) -> timedelta:
    """'90s', '15m', '2h', '3d', '1w' or a number of seconds."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if value < 0:
            raise ValueError(f"{value!r} is negative; a duration is 0 or more")
        return timedelta(seconds=value)
    m = _DURATION.match(str(value))
    if not m:
        raise ValueError(f"{value!r} is not a duration; use e.g. 90s, 15m, 2h, 3d or seconds")
    return timedelta(seconds=float(m.group(1)) * _SECONDS[m.group(2)])


def parse_size(value: Any) -> int:
    """'10MiB', '512kb' or a number of bytes."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    m = _SIZE.match(str(value))
    if not m:
        raise ValueError(f"{value!r} is not a size; use e.g. 10MiB, 512KiB or bytes")
    return int(float(m.group(1)) * _BYTES[(m.group(2) or "b").lower()])


def _positive(value: timedelta) -> timedelta:
    if value <= timedelta(0):
        raise ValueError(f"must be more than 0s, got {value.total_seconds():g}s")
    return value


Duration = Annotated[
    timedelta,
    BeforeValidator(parse_duration),
    PlainSerializer(lambda d: f"{int(d.total_seconds())}s", return_type=str),
]
# Timeouts, intervals and periods: zero would time out at once, spin, or divide by zero.
PositiveDuration = Annotated[Duration, AfterValidator(_positive)]
ByteSize = Annotated[int, BeforeValidator(parse_size)]


def format_duration(value: timedelta) -> str:
    """The largest whole unit that says ``value`` exactly: 14d, 36h, 90s."""
    seconds = value.total_seconds()
    for unit in ("w", "d", "h", "m"):
        if seconds and seconds % _SECONDS[unit] == 0:
            return f"{seconds / _SECONDS[unit]:g}{unit}"
    return f"{seconds:g}s"


def counted(n: float, noun: str, plural: str | None = None) -> str:
    """``n`` with its noun in the number it agrees with: 1 source, 2 sources, 0.5 days.

    Every count an operator reads goes through here, so none says "1 sources"; ``plural``
    is for nouns that do not take an s (entry, entries)."""
    number = f"{n:g}" if isinstance(n, float) else str(n)
    return f"{number} {noun if n == 1 else (plural or noun + 's')}"
