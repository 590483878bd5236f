"""`monitor articles show ID` and `monitor articles list`: the stored evidence, readable."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Annotated, Any

import typer
from sqlalchemy.orm import Session

from monitor.classify.explain import truncation_note
from monitor.config import CONFIG_HELP, load_config
from monitor.errors import ConfigError, MonitorError
from monitor.storage.articles import get_article, recent_articles
from monitor.storage.db import make_engine, require_current_schema, session_factory
from monitor.storage.models import ArticleRow
from monitor.types import content_hash
from monitor.units import counted

articles_app = typer.Typer(help="Stored articles: text, metadata and where the text came from.")

ConfigOpt = Annotated[str | None, typer.Option("--config", "-c", help=CONFIG_HELP)]
DbOpt = Annotated[str | None, typer.Option("--db", help="Database URL (overrides config).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


@articles_app.command("show")
def show(
    article_id: Annotated[int, typer.Argument(metavar="ID", help="Article id.")],
    as_json: JsonOpt = False,
    config: ConfigOpt = None,
    db: DbOpt = None,
) -> None:
    """An article's stored text, metadata, text source (page or feed) and why, and its hash."""
    with _session(config, db) as session:
        row = get_article(session=session, article_id=article_id)
        if row is None:
            typer.echo(f"error: no article with id {article_id}", err=True)
            raise typer.Exit(1)
        data = _describe(row, with_text=True)
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False) if as_json else _render(data))


@articles_app.command("list")
def list_(
    feed: Annotated[str | None, typer.Option("--feed", help="Only this feed's articles.")] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="How many.")] = 20,
    as_json: JsonOpt = False,
    config: ConfigOpt = None,
    db: DbOpt = None,
) -> None:
    """Recent articles, newest first."""
    with _session(config, db) as session:
        rows = [
            _describe(r, with_text=False)
            for r in recent_articles(session=session, feed_url=feed, limit=limit)
        ]
    if as_json:
        typer.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    if not rows:
        typer.echo("no articles" + (f" from {feed}" if feed else ""), err=True)
        return
    typer.echo(_table(_LIST_HEADER, [_list_row(r) for r in rows]))


# "text from": the article page, or the feed's own text when the page gave none (see show).
_LIST_HEADER = ("ID", "PROCESSED (UTC)", "OUTLET", "STORY", "TEXT FROM", "CHARS", "TITLE")
_RIGHT = {"ID", "STORY", "CHARS"}  # numbers line up on their last digit


def _list_row(r: dict[str, Any]) -> tuple[str, ...]:
    return (
        str(r["id"]),
        (r["processed_at"] or "-")[:16].replace("T", " "),
        _clip(r["source"] or r["site_name"] or "-", 20),
        str(r["story_id"]) if r["story_id"] is not None else "-",
        r["text_source"],
        f"{r['text_chars']:,}",
        _clip(r["title"] or "(no title)", 70),
    )


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    """Columns as wide as their widest cell, two spaces apart; the last one unpadded."""
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]

    def line(row: tuple[str, ...]) -> str:
        cells = [
            cell.rjust(w) if name in _RIGHT else cell.ljust(w)
            for cell, w, name in zip(row, widths, header, strict=True)
        ]
        return "  ".join(cells).rstrip()

    return "\n".join(line(row) for row in (header, *rows))


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


@contextmanager
def _session(config: str | None, db: str | None) -> Iterator[Session]:
    try:
        # With --db the configuration is not needed: evidence stays readable even while a
        # watchlist is being fixed.
        engine = make_engine(db or load_config(config).database_url())
        require_current_schema(engine)
    except MonitorError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2 if isinstance(exc, ConfigError) else 1) from exc
    try:
        with session_factory(engine)() as session:
            yield session
    finally:
        engine.dispose()


def _describe(row: ArticleRow, *, with_text: bool) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": row.id,
        "key": row.key,
        "title": row.title,
        "url": row.url,
        "canonical_url": row.canonical_url,
        "feed_url": row.feed_url,
        "source": row.source,
        "site_name": row.site_name,
        "author": row.author,
        "language": row.language,
        "published_at": _iso(row.published_at),
        "published_raw": row.published_raw,
        "processed_at": _iso(row.processed_at),
        "text_source": row.text_source,
        "text_source_reason": row.text_source_reason,
        "text_hash": row.text_hash,
        # Evidence check: does the stored text still hash to what was recorded? (None: the
        # text was pruned by retention, the hash alone records what it was.)
        "hash_verified": None
        if row.text_pruned_at
        else row.text_hash == content_hash(row.title, row.text),
        "text_pruned_at": _iso(row.text_pruned_at),
        "text_chars": len(row.text),
        "text_truncated": row.text_truncated,
        "analysed_chars": (row.classification or {}).get("analysed_chars"),
        "story_id": row.story_id,
        "severity": row.severity,
        "raw_html_chars": len(row.raw_html) if row.raw_html is not None else None,
    }
    if with_text:
        data["text"] = row.text
    return data


def _render(d: dict[str, Any]) -> str:
    source = d["text_source"] + (f" ({d['text_source_reason']})" if d["text_source_reason"] else "")
    fields = [
        ("Title", d["title"]),
        ("URL", d["url"]),
        ("Canonical", d["canonical_url"]),
        ("Feed", d["feed_url"]),
        ("Outlet", d["source"] or d["site_name"]),
        ("Author", d["author"]),
        ("Language", d["language"]),
        ("Published", _published(d)),
        ("Processed", d["processed_at"]),
        ("Story", d["story_id"]),
        ("Text from", source),
        ("Hash", f"{d['text_hash']} ({_hash_state(d)})"),
        ("Raw HTML", counted(d["raw_html_chars"], "char") if d["raw_html_chars"] else "not kept"),
        ("Truncated", truncation_note(d["analysed_chars"], d["text_chars"])),
    ]
    head = [f"Article {d['id']}  ({d['key']})"]
    head += [f"  {name + ':':<11} {value}" for name, value in fields if value is not None]
    return "\n".join([*head, "", d["text"]])


def _hash_state(d: dict[str, Any]) -> str:
    if d["hash_verified"] is None:
        return f"text pruned {d['text_pruned_at']}"
    return "verified" if d["hash_verified"] else "DOES NOT MATCH"


def _published(d: dict[str, Any]) -> str | None:
    if d["published_raw"] is None:
        return d["published_at"]
    return f"{d['published_at']} (first seen; the source said {d['published_raw']})"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
