"""Watchlist files -> a validated, compiled Watchlist. (Minimal contract; issue 5 fills it in.)"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from monitor.errors import ConfigError


@dataclass(frozen=True)
class Rule:
    id: str
    source: str  # "file:line", for error messages
    routes: tuple[str, ...]


@dataclass(frozen=True)
class Watchlist:
    rules: tuple[Rule, ...] = ()


def load_watchlists(paths: Sequence[Path]) -> Watchlist:
    if paths:
        raise ConfigError("watchlist loading is not implemented yet (issue 5)")
    return Watchlist()
