"""Engine and session set-up, and schema migration through Alembic."""

from __future__ import annotations

import ast
import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from monitor.errors import StorageError
from monitor.resources import migrations_dir

# The schemes monitor is built and tested for, with the one driver each is used through.
SUPPORTED_SCHEMES = {
    "sqlite": "sqlite",
    "sqlite+pysqlite": "sqlite",
    "postgresql": "postgresql",
    "postgres": "postgresql",
    "postgresql+psycopg": "postgresql",
}


def default_sqlite_url() -> str:
    return "sqlite:///" + str(Path("monitor.db").resolve())


def check_database_url(url: str) -> None:
    """ValueError unless ``url`` names a database monitor supports (checked with the config,
    so a MySQL URL is reported by check-config and not as a missing driver at start-up)."""
    scheme, sep, _ = url.partition("://")
    if not sep:
        raise ValueError(
            f"{redact(url)!r} is not a database URL; use sqlite:///path/monitor.db "
            "or postgresql://user@host/db"
        )
    if scheme.lower() not in SUPPORTED_SCHEMES:
        raise ValueError(
            f"unsupported database {scheme!r}: monitor supports sqlite (sqlite:///path) "
            "and postgresql (postgresql://user@host/db, through psycopg 3)"
        )


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets WAL and foreign keys, Postgres uses psycopg 3."""
    try:
        check_database_url(url)
    except ValueError as exc:
        raise StorageError(str(exc)) from exc
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    kwargs: dict[str, Any] = {"future": True}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
    else:
        kwargs["pool_pre_ping"] = True
    try:
        engine = create_engine(url, **kwargs)
    except (SQLAlchemyError, ImportError, ValueError) as exc:
        raise StorageError(f"cannot use database URL {redact(url)}: {exc}") from exc
    if url.startswith("sqlite"):
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    # WAL lets the dispatcher read while the poller writes.
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def redact(url: str) -> str:
    """The URL with any password replaced, safe to log."""
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    creds, host = rest.rsplit("@", 1)
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}"


# What SQLite says when the process may not create or write the file (or its directory):
# the usual cause is a bind-mounted host directory owned by another user.
_ACCESS_ERRORS = ("unable to open database file", "readonly database", "disk i/o error")


def access_hint(url: str, message: str) -> str:
    """For a SQLite permission failure, which directory must be writable by whom; else ""."""
    if not url.startswith("sqlite") or not any(e in message.lower() for e in _ACCESS_ERRORS):
        return ""
    path = url.split(":///", 1)[-1]
    if not path or path == ":memory:":
        return ""
    folder = Path(path).parent
    who = f"uid {os.getuid()} (gid {os.getgid()})" if hasattr(os, "getuid") else "this user"
    return (
        f"; the directory {folder} must exist and be writable by {who}, the user monitor "
        "runs as (in a container: chown the host directory to that uid, or use a named volume)"
    )


def _failure(what: str, url: str, exc: BaseException) -> StorageError:
    cause = getattr(exc, "orig", None) or exc
    return StorageError(f"{what} {redact(url)}: {cause}{access_hint(url, str(cause))}")


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error."""
    session = factory()
    try:
        yield session
        session.commit()
    except SQLAlchemyError as exc:
        session.rollback()
        cause = getattr(exc, "orig", None) or exc
        url = str(factory.kw["bind"].url) if factory.kw.get("bind") is not None else ""
        hint = access_hint(url, str(cause))
        raise StorageError(f"database error: {exc.__class__.__name__}: {cause}{hint}") from exc
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def _alembic_config(engine: Engine) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the schema to ``revision``; the one way monitor changes a schema."""
    from alembic import command

    try:
        _require_known_revision(stored_revision(engine))
        command.upgrade(_alembic_config(engine), revision)
    except SQLAlchemyError as exc:
        raise _failure("migration failed on", str(engine.url), exc) from exc


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision(engine: Engine) -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_alembic_config(engine)).get_current_head()


def require_current_schema(engine: Engine) -> None:
    """Fail fast with a clear message when `monitor db upgrade` has not been run.

    Without Alembic: importing it (and reading its scripts) kept ~15 MB in every
    long-running process (`monitor run`, the console) for one comparison at start."""
    try:
        current = stored_revision(engine)
    except SQLAlchemyError as exc:
        raise _failure("cannot reach database", str(engine.url), exc) from exc
    _require_known_revision(current)
    head = migrations_head()
    if current is None:
        # A first run lands here: "schema is at nothing" read as a fault, not a step.
        raise StorageError(
            f"the database {engine.url.render_as_string(hide_password=True)} has no "
            "tables yet: run `monitor db upgrade` (with the same --config/--db) to create them"
        )
    if current != head:
        raise StorageError(
            f"database schema is at {current}, code expects {head}: run `monitor db upgrade`"
        )


def stored_revision(engine: Engine) -> str | None:
    """The revision Alembic recorded in the database (its ``alembic_version`` table)."""
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        rows = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    if len(rows) > 1:
        raise StorageError(f"the database records {len(rows)} schema revisions: {rows}")
    return rows[0] if rows else None


def _require_known_revision(current: str | None) -> None:
    """Until the first release the schema is one migration regenerated from the models, its
    id a fingerprint of its content: a database made by another build records an id no
    script here knows, and no migration leads from it (Alembic would only say it cannot
    locate the revision)."""
    if current is not None and current not in migration_revisions():
        raise StorageError(
            f"the database was made by another build of monitor (schema {current}, unknown "
            f"to this one, which expects {migrations_head()}); before the first release "
            "schemas are not migrated between builds: move the database away and let "
            "`monitor db upgrade` create a new one, or run the build that made it"
        )


def schema_fingerprint(script: str) -> str:
    """The revision id of the regenerated initial migration: a hash of what it creates
    (its text from `def upgrade` on), so a changed schema can never reuse an old id."""
    body = script[script.index("def upgrade") :]
    return "0001_" + hashlib.sha256(body.encode("utf-8")).hexdigest()[:12]


def migration_revisions() -> set[str]:
    return set(_revision_graph())


def migrations_head() -> str | None:
    """The newest migration script: the revision no other script names as its
    ``down_revision``, read from the scripts' assignments as Alembic reads them."""
    revisions = _revision_graph()
    heads = set(revisions) - {down for downs in revisions.values() for down in downs}
    if len(heads) > 1:
        raise StorageError(f"the migrations have {len(heads)} heads: {sorted(heads)}")
    return heads.pop() if heads else None


def _revision_graph() -> dict[str, tuple[str, ...]]:
    """Each migration script's revision and the revisions it follows."""
    revisions: dict[str, tuple[str, ...]] = {}
    for script in sorted(migrations_dir().joinpath("versions").glob("*.py")):
        names = _assigned(ast.parse(script.read_text(encoding="utf-8")))
        if isinstance(names.get("revision"), str):
            down = names.get("down_revision")
            revisions[names["revision"]] = (down,) if isinstance(down, str) else tuple(down or ())
    return revisions


def _assigned(module: ast.Module) -> dict[str, Any]:
    """Module-level ``name = <literal>`` and ``name: type = <literal>`` assignments."""
    out: dict[str, Any] = {}
    for node in module.body:
        if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name):
                    try:
                        out[target.id] = ast.literal_eval(node.value)
                    except ValueError:
                        continue
    return out


def table_names(engine: Engine) -> list[str]:
    return sorted(inspect(engine).get_table_names())


def vacuum(engine: Engine) -> None:
    """Give the space of deleted content back: SQLite rewrites the file; PostgreSQL marks
    it reusable (only VACUUM FULL, which locks the tables, shrinks its files)."""
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM")
    except SQLAlchemyError as exc:
        raise StorageError(f"VACUUM failed on {redact(str(engine.url))}: {exc}") from exc
