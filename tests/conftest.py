"""Shared fixtures: a migrated database on SQLite and on PostgreSQL, a fixed clock.

``MONITOR_TEST_NOW=2026-03-03T23:30:00+00:00`` runs every test with the clock frozen at
that instant (ticking on from there): no result may depend on the day or hour the suite
runs. CI runs the suite once that way, with ``TZ`` and ``PYTHONHASHSEED`` changed too.
"""

from __future__ import annotations

import importlib
import logging
import os
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

import pytest
import time_machine
from localsite import Site
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from monitor.demo.site import DemoArticle
from monitor.storage.db import make_engine, session_factory, upgrade

PG_ADMIN_URL = os.environ.get(
    "MONITOR_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
SHARED = Path(__file__).resolve().parents[2] / "shared"
FROZEN_NOW = os.environ.get("MONITOR_TEST_NOW")


@pytest.fixture(autouse=True)
def _clock_frozen_when_asked() -> Iterator[None]:
    if not FROZEN_NOW:
        yield
        return
    with time_machine.travel(datetime.fromisoformat(FROZEN_NOW), tick=True):
        yield


@pytest.fixture(autouse=True)
def _logging_left_enabled(request: pytest.FixtureRequest) -> Iterator[None]:
    """A test that silences logging process-wide (``logging.disable``) hides every later
    test's log lines, which then pass or fail by run order: the fuzz harness did so once.
    Such a leak fails the test that made it. (The CLI's own `logs.configure` sets the root
    level and handler on purpose; that is not checked here.)"""
    disabled = logging.root.manager.disable
    yield
    leaked = logging.root.manager.disable
    if leaked != disabled:
        logging.disable(disabled)
        pytest.fail(f"{request.node.nodeid} left logging.disable({leaked}) set")


@pytest.fixture
def wall_now() -> datetime:
    """The real time, for tests whose articles a `monitor` subprocess (on the real clock)
    reads: the test's own clock may be frozen elsewhere (MONITOR_TEST_NOW)."""
    if time_machine.escape_hatch.is_travelling():
        return time_machine.escape_hatch.datetime.datetime.now(UTC)
    return datetime.now(UTC)


def _postgres_available() -> str | None:
    """None when the server answers, else the reason it does not."""
    try:
        eng = create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
        with eng.connect() as conn:
            conn.execute(text("select 1"))
        eng.dispose()
        return None
    except Exception as exc:  # any failure to connect means: skip (or fail in CI)
        return f"PostgreSQL at 127.0.0.1:5432 not reachable: {exc.__class__.__name__}"


@pytest.fixture(scope="session")
def pg_schema_url() -> Iterator[str]:
    """A fresh schema in the `test` database for this test run; dropped afterwards."""
    reason = _postgres_available()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason} (mandatory in CI)")
        pytest.skip(reason)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in PG_ADMIN_URL else "?"
    yield f"{PG_ADMIN_URL}{sep}options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def pg_url(pg_schema_url: str) -> str:
    """The run's PostgreSQL schema, emptied for this test."""
    eng = make_engine(pg_schema_url)
    with eng.begin() as conn:
        schema = conn.execute(text("select current_schema()")).scalar_one()
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    eng.dispose()
    return pg_schema_url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database URL, once per backend, with an empty schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'monitor.db'}"
        return
    yield request.getfixturevalue("pg_url")


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """A migrated engine on each backend."""
    eng = make_engine(db_url)
    upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return session_factory(engine)


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    """A migrated SQLite engine, for tests that need a database but not both backends."""
    eng = make_engine(f"sqlite:///{tmp_path / 'monitor.db'}")
    upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def now() -> datetime:
    return datetime(2020, 3, 12, 22, 0, tzinfo=UTC)


@pytest.fixture
def shared_dir() -> Path:
    """../shared when present (development and CI); tests using it skip otherwise."""
    if not SHARED.is_dir():
        pytest.skip("../shared is not present (a user's clone has none)")
    return SHARED


@pytest.fixture
def bench_module(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], ModuleType]:
    """bench_module("poll_feeds") -> bench.poll_feeds (bench/ is not an installed package)."""
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[1]))
    return lambda name: importlib.import_module(f"bench.{name}")


@pytest.fixture
def site() -> Iterator[Site]:
    """A feed site on 127.0.0.1: put pages in ``site.pages``."""
    s = Site()
    yield s
    s.close()


@pytest.fixture
def seed_articles(shared_dir: Path) -> list[DemoArticle]:
    """The two seed reports of one event (shared/seeds), as the demo site serves them."""
    second = (shared_dir / "seeds" / "second-outlet-2020-03-12.txt").read_text(encoding="utf-8")
    wapo = (shared_dir / "seeds" / "washington-post-2020-03-13.txt").read_text(encoding="utf-8")
    wapo_lines = wapo.splitlines()
    return [
        DemoArticle(
            outlet="second",
            outlet_name="Second Outlet",
            slug="taji",
            title=second.splitlines()[0][:160],
            author="Staff",
            published=datetime(2020, 3, 12, 22, tzinfo=UTC),
            paragraphs=tuple(p for p in second.splitlines()[1:] if p.strip()),
        ),
        DemoArticle(
            outlet="wapo",
            outlet_name="The Washington Post",
            slug="strikes",
            title=wapo_lines[2],
            author="Staff",
            published=datetime(2020, 3, 13, 6, tzinfo=UTC),
            paragraphs=tuple(p for p in wapo_lines[3:] if p.strip()),
        ),
    ]
