"""Full-text search over article titles and text: SQLite FTS5, PostgreSQL tsvector.

Both index words as they are (no stemming, case-folded), so a query finds the same
articles on either backend. The index is kept in sync by the database itself (FTS5
triggers; a generated tsvector column), whatever code writes the articles. The DDL is
raw SQL run by the initial migration (autogenerate cannot describe it).
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Select, column, func, literal_column, select, table, text
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from monitor.storage.models import ArticleRow

_SQLITE_DDL = (
    "CREATE VIRTUAL TABLE articles_fts USING fts5("
    "title, text, content='articles', content_rowid='id', tokenize='unicode61')",
    "CREATE TRIGGER articles_fts_insert AFTER INSERT ON articles BEGIN "
    "INSERT INTO articles_fts(rowid, title, text) VALUES (new.id, new.title, new.text); END",
    "CREATE TRIGGER articles_fts_delete AFTER DELETE ON articles BEGIN "
    "INSERT INTO articles_fts(articles_fts, rowid, title, text) "
    "VALUES ('delete', old.id, old.title, old.text); END",
    "CREATE TRIGGER articles_fts_update AFTER UPDATE OF title, text ON articles BEGIN "
    "INSERT INTO articles_fts(articles_fts, rowid, title, text) "
    "VALUES ('delete', old.id, old.title, old.text); "
    "INSERT INTO articles_fts(rowid, title, text) VALUES (new.id, new.title, new.text); END",
)
_POSTGRES_DDL = (
    "ALTER TABLE articles ADD COLUMN search_vector tsvector GENERATED ALWAYS AS "
    "(to_tsvector('simple', coalesce(title, '') || ' ' || coalesce(text, ''))) STORED",
    "CREATE INDEX ix_articles_search_vector ON articles USING gin (search_vector)",
)
_WORD = re.compile(r"\w+", re.UNICODE)


def create_index(conn: Connection) -> None:
    """Called by the initial migration after the tables exist."""
    ddl = _POSTGRES_DDL if conn.dialect.name == "postgresql" else _SQLITE_DDL
    for statement in ddl:
        conn.execute(text(statement))


def drop_index(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(text("ALTER TABLE articles DROP COLUMN IF EXISTS search_vector"))
        return
    for name in ("insert", "delete", "update"):
        conn.execute(text(f"DROP TRIGGER IF EXISTS articles_fts_{name}"))
    conn.execute(text("DROP TABLE IF EXISTS articles_fts"))


def query_words(query: str) -> list[str]:
    """The words of a search box query; every one must occur (punctuation is ignored)."""
    return _WORD.findall(query.casefold())[:20]


def matching_articles(dialect: str, words: list[str]) -> Select[Any]:
    """SELECT the ids of articles whose title or text holds every word."""
    if dialect == "postgresql":
        vector: ColumnElement[Any] = literal_column("articles.search_vector")
        tsquery = func.to_tsquery("simple", " & ".join(words))
        return select(ArticleRow.id).where(vector.bool_op("@@")(tsquery))
    fts = table("articles_fts", column("rowid"))
    match = " ".join(f'"{w}"' for w in words)  # quoted: words, never FTS5 syntax
    return select(fts.c.rowid).where(literal_column("articles_fts").op("MATCH")(match))


def not_fulltext(obj: Any, name: str | None, type_: str, reflected: bool, _other: Any) -> bool:
    """Alembic's include_object: the search index is not in the models (see create_index),
    so autogenerate and model comparisons leave it alone."""
    if name is None:
        return True
    return not (name.startswith("articles_fts") or name in ("search_vector",
                "ix_articles_search_vector"))  # fmt: skip
