"""Fixtures for the alert stage: a fake Slack server and a migrated SQLite database."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fakeslack import FakeSlack
from sqlalchemy.orm import Session, sessionmaker

from monitor.storage.db import session_factory


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


@pytest.fixture
def db(sqlite_engine: Any) -> sessionmaker[Session]:
    return session_factory(sqlite_engine)
