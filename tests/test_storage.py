"""Schema and migrations, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from monitor.storage.base import Base
from monitor.storage.db import current_revision, head_revision, table_names
from monitor.storage.fulltext import not_fulltext
from monitor.storage.models import Story


def test_upgrade_creates_every_table_at_head(engine: Engine) -> None:
    assert current_revision(engine) == head_revision(engine)
    for table in ("feeds", "entries", "articles", "stories", "alerts", "story_messages"):
        assert table in table_names(engine)


def test_migration_matches_models(engine: Engine) -> None:
    """Fails when a model changed without `make migration`."""
    with engine.connect() as conn:
        # The full-text index is raw DDL in the migration, outside the models.
        context = MigrationContext.configure(conn, opts={"include_object": not_fulltext})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


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
