"""Fixtures of the extract stage's tests."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest


@pytest.fixture
def thread_executor() -> Iterator[ThreadPoolExecutor]:
    """Extraction in threads: the pool's code path without process start-up."""
    with ThreadPoolExecutor(max_workers=2) as executor:
        yield executor
