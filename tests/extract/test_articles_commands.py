"""`monitor articles show|list`: the stored evidence as text and JSON."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from sqlalchemy import update
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from monitor.cli import app
from monitor.storage.articles import insert_article
from monitor.storage.db import session_factory, transaction
from monitor.storage.models import ArticleRow
from monitor.types import Article

runner = CliRunner()


@pytest.fixture
def db(sqlite_engine: Engine, now: datetime) -> str:
    articles = [
        Article(
            key="feed:1",
            url="http://127.0.0.1:8001/1",
            title="Rockets hit a base",
            text="Two rockets hit the base.\nNobody was hurt.",
            published=now,
            canonical_url="http://127.0.0.1:8001/news/1",
            text_source="page",
            feed_url="http://127.0.0.1:8001/feed",
            language="en",
        ),
        Article(
            key="feed:2",
            url="http://127.0.0.1:8002/2",
            title="Airstrike near the border",
            text="Jets struck a depot.",
            published=None,
            text_source="feed",
            text_source_reason="page answered HTTP 402 (paywall)",
            feed_url="http://127.0.0.1:8002/feed",
        ),
    ]
    with transaction(session_factory(sqlite_engine)) as s:
        for a in articles:
            insert_article(session=s, article=a, classification={}, now=now)
    return str(sqlite_engine.url)


def test_show_text(db: str) -> None:
    result = runner.invoke(app, ["articles", "show", "2", "--db", db])
    assert result.exit_code == 0, result.output
    assert "Text from:  feed (page answered HTTP 402 (paywall))" in result.output
    assert "(verified)" in result.output
    assert result.output.rstrip().endswith("Jets struck a depot.")


def test_show_json(db: str) -> None:
    result = runner.invoke(app, ["articles", "show", "1", "--json", "--db", db])
    data = json.loads(result.output)
    assert data["text"] == "Two rockets hit the base.\nNobody was hurt."
    assert data["text_source"] == "page" and data["text_source_reason"] is None
    assert data["canonical_url"] == "http://127.0.0.1:8001/news/1"
    assert len(data["text_hash"]) == 64 and data["hash_verified"] is True


def test_show_flags_text_changed_after_hashing(db: str, sqlite_engine: Engine) -> None:
    with transaction(session_factory(sqlite_engine)) as s:
        s.execute(update(ArticleRow).where(ArticleRow.id == 1).values(text="edited later"))
    result = runner.invoke(app, ["articles", "show", "1", "--db", db])
    assert "DOES NOT MATCH" in result.output


def test_show_unknown_id(db: str) -> None:
    result = runner.invoke(app, ["articles", "show", "42", "--db", db])
    assert result.exit_code == 1 and "no article with id 42" in result.output


def test_list(db: str) -> None:
    result = runner.invoke(app, ["articles", "list", "--db", db])
    assert result.exit_code == 0
    header, *lines = result.output.splitlines()
    # A header names each column, and every row's cells sit under it.
    assert header.split() == ["ID", "PROCESSED", "(UTC)", "OUTLET", "STORY", "TEXT", "FROM",
                              "CHARS", "TITLE"]  # fmt: skip
    assert "Airstrike near the border" in lines[0] and "Rockets hit a base" in lines[1]
    newest = lines[0]
    assert newest[header.index("TEXT FROM") :].startswith("feed ")
    assert newest[header.index("TITLE") :] == "Airstrike near the border"
    assert newest[: header.index("PROCESSED")].strip() == "2"
    chars = len("Two rockets hit the base.\nNobody was hurt.")
    end = header.index("CHARS") + len("CHARS")
    assert lines[1][:end].endswith(f" {chars}")  # numbers right-aligned under their header


def test_list_json_by_feed(db: str) -> None:
    args = ["articles", "list", "--json", "--feed", "http://127.0.0.1:8001/feed", "--db", db]
    rows = json.loads(runner.invoke(app, args).output)
    assert [r["key"] for r in rows] == ["feed:1"]
    assert "text" not in rows[0] and rows[0]["text_chars"] == len(
        "Two rockets hit the base.\nNobody was hurt."
    )


def test_unmigrated_database_is_a_clear_error(tmp_path: object) -> None:
    result = runner.invoke(app, ["articles", "list", "--db", f"sqlite:///{tmp_path}/empty.db"])
    assert result.exit_code == 1 and "monitor db upgrade" in result.output
