"""Schema and migrations, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from monitor.cli import app
from monitor.errors import StorageError
from monitor.resources import migrations_dir
from monitor.storage import db
from monitor.storage.base import Base
from monitor.storage.db import (
    current_revision,
    head_revision,
    migrations_head,
    require_current_schema,
    schema_fingerprint,
    stored_revision,
    table_names,
)
from monitor.storage.fulltext import not_fulltext
from monitor.storage.models import Story


def test_upgrade_creates_every_table_at_head(engine: Engine) -> None:
    assert current_revision(engine) == head_revision(engine)
    for table in ("feeds", "entries", "articles", "stories", "alerts", "story_messages"):
        assert table in table_names(engine)


def test_the_schema_check_reads_revisions_as_alembic_does(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`require_current_schema` compares them without importing Alembic."""
    assert stored_revision(engine) == current_revision(engine) is not None
    assert migrations_head() == head_revision(engine)
    (tmp_path / "versions").mkdir()
    for name, revision, down in (("a", "0001", None), ("b", "0002", "0001"), ("c", "0003", "0002")):
        (tmp_path / "versions" / f"{name}.py").write_text(
            f"revision: str = {revision!r}\ndown_revision: str | None = {down!r}\n"
        )
    monkeypatch.setattr(db, "migrations_dir", lambda: tmp_path)
    assert migrations_head() == "0003"


def test_migration_matches_models(engine: Engine) -> None:
    """Fails when a model changed without `make migration`."""
    with engine.connect() as conn:
        # The full-text index is raw DDL in the migration, outside the models.
        context = MigrationContext.configure(conn, opts={"include_object": not_fulltext})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_the_initial_migration_is_named_by_its_content() -> None:
    """Edited without `make migration`, its id would stay and an older database pass."""
    script = (migrations_dir() / "versions" / "0001_initial.py").read_text(encoding="utf-8")
    assert migrations_head() == schema_fingerprint(script)
    changed = script.replace("def upgrade() -> None:", "def upgrade() -> None:\n    pass", 1)
    assert schema_fingerprint(changed) != schema_fingerprint(script)


def test_a_database_from_another_schema_build_is_named_at_start(engine: Engine) -> None:
    """A database made by a build with another initial schema (same `0001` prefix) is
    refused with what to do, by the start-up check and by `db upgrade` alike."""
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '0001'")
    for check in (require_current_schema, db.upgrade):
        with pytest.raises(StorageError, match=r"made by another build.*move the database away"):
            check(engine)


def test_a_new_database_is_told_to_be_created_not_said_to_be_at_nothing(
    tmp_path: Path,
) -> None:
    fresh = db.make_engine(f"sqlite:///{tmp_path / 'new.db'}")
    try:
        with pytest.raises(StorageError, match=r"has no tables yet: run `monitor db upgrade`"):
            require_current_schema(fresh)
    finally:
        fresh.dispose()


def test_datetimes_come_back_timezone_aware_utc(sessions: sessionmaker[Session]) -> None:
    plus3 = timezone(timedelta(hours=3))
    when = datetime(2020, 3, 13, 9, 0, tzinfo=plus3)
    with sessions.begin() as s:
        s.add(Story(headline="h", first_seen=when, last_seen=when))
    with sessions() as s:
        story = s.scalars(select(Story)).one()
    assert story.first_seen == when
    assert story.first_seen.tzinfo is not None
    assert story.first_seen.utcoffset() == timedelta(0)
    assert story.first_seen.astimezone(UTC).hour == 6


def test_a_database_it_cannot_write_names_the_directory_and_user(tmp_path: Path) -> None:
    """A bind-mounted directory the container user may not write to is the usual cause:
    the operator gets one line saying which directory and which uid, not a traceback."""
    target = tmp_path / "missing" / "monitor.db"  # SQLite cannot create it here either
    result = CliRunner().invoke(
        app, ["db", "upgrade"], env={"MONITOR_DATABASE_URL": f"sqlite:///{target}"}
    )
    assert result.exit_code == 1, result.output
    assert "unable to open database file" in result.output
    assert f"the directory {target.parent} must exist and be writable by uid {os.getuid()}" in (
        result.output
    )
    assert "Traceback" not in result.output
