"""Swap in edited watchlists without a restart; a bad edit leaves the old ones in force.

The scheduler calls ``reload()`` on SIGHUP and ``reload_if_changed(files)`` on a timer.
Compiling happens before the swap, so classification never sees a half-built watchlist.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

from monitor.classify.classifier import Classifier
from monitor.classify.learned import LearnedTyping
from monitor.classify.settings import MAX_TEXT_CHARS
from monitor.classify.watchlist import Watchlist
from monitor.errors import ClassifyError, ConfigError

_Signature = tuple[tuple[str, int, int], ...]


class ReloadableClassifier:
    def __init__(
        self,
        load: Callable[[], Watchlist],
        *,
        fuzzy: bool = True,
        max_text_chars: int = MAX_TEXT_CHARS,
        learned: LearnedTyping | None = None,
    ) -> None:
        self._load = load
        self._fuzzy = fuzzy
        self._max_text_chars = max_text_chars
        self._learned = learned  # read once: the model file is not a watchlist
        self._current = self._compile(load())
        self._signature: _Signature | None = None

    @property
    def current(self) -> Classifier:
        return self._current

    def reload(self) -> list[str]:
        """[] when the new watchlists are in force, else every error (old ones stay)."""
        try:
            classifier = self._compile(self._load())
        except ConfigError as exc:
            return list(exc.errors)
        except ClassifyError as exc:
            return [str(exc)]
        self._current = classifier
        return []

    def _compile(self, watchlist: Watchlist) -> Classifier:
        return Classifier(
            watchlist,
            fuzzy=self._fuzzy,
            max_text_chars=self._max_text_chars,
            learned=self._learned,
        )

    def reload_if_changed(self, paths: Sequence[Path]) -> list[str]:
        """Reload when any file's size or modification time differs from the last look.

        The first call only records what the files look like.
        """
        signature = _signature(paths)
        previous, self._signature = self._signature, signature
        if previous is None or previous == signature:
            return []
        return self.reload()


def _signature(paths: Sequence[Path]) -> _Signature:
    out = []
    for path in paths:
        try:
            st = os.stat(path)
            out.append((str(path), st.st_mtime_ns, st.st_size))
        except OSError:
            out.append((str(path), -1, -1))  # a deleted file is a change too
    return tuple(out)
