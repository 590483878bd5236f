"""`monitor feeds [--json]` (every feed with its health) and `monitor feeds export-opml`."""

from __future__ import annotations

import json
from dataclasses import asdict, replace
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from monitor.config import CONFIG_HELP, Config, load_config
from monitor.errors import MonitorError
from monitor.fetch.opml import export_opml
from monitor.storage.db import make_engine, require_current_schema, session_factory
from monitor.storage.feeds import CONSOLE, FeedHealth, feed_health

feeds_app = typer.Typer(
    help="Configured feeds and their health.", invoke_without_command=True, no_args_is_help=False
)

ConfigOpt = Annotated[str | None, typer.Option("--config", "-c", help=CONFIG_HELP)]
DbOpt = Annotated[str | None, typer.Option("--db", help="Database URL (overrides config).")]


@feeds_app.callback()
def feeds(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    config: ConfigOpt = None,
    db: DbOpt = None,
) -> None:
    """Every feed: URL, state, last status, last success, errors, next poll, entries seen."""
    if ctx.invoked_subcommand is not None:
        return
    cfg = _config(config)
    rows = _health(cfg, db)
    if as_json:
        typer.echo(json.dumps([_jsonable(h) for h in rows], indent=2, ensure_ascii=False))
    else:
        typer.echo(render_table(rows))


@feeds_app.command("export-opml")
def export(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
    ] = None,
    config: ConfigOpt = None,
) -> None:
    """The configured feed list (OPML files included) as OPML 2.0."""
    document = export_opml(_config(config).settings.feeds)
    if output is None:
        typer.echo(document, nl=False)
    else:
        output.write_text(document, encoding="utf-8")


def _config(path: str | None) -> Config:
    try:
        return load_config(path)
    except MonitorError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc


def _health(cfg: Config, db: str | None) -> list[FeedHealth]:
    """Stored health of every configured feed (never polled ones too), then console-added
    ones, then removed ones."""
    try:
        engine = make_engine(cfg.database_url(db))
        require_current_schema(engine)
        with session_factory(engine)() as session:
            stored = {h.configured_url: h for h in feed_health(session=session)}
        engine.dispose()
    except MonitorError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    rows = []
    for feed in cfg.settings.feeds:
        health = stored.pop(feed.url, None) or _never_polled(feed.url)
        if feed.paused:
            health = replace(health, state="paused")
        rows.append(replace(health, title=feed.name or health.title))
    # Feeds added from the console are listed as their rows say; others left the YAML.
    rest = [h if h.origin == CONSOLE else replace(h, state="removed") for h in stored.values()]
    return rows + sorted(rest, key=lambda h: h.state == "removed")


def _never_polled(url: str) -> FeedHealth:
    return FeedHealth(configured_url=url, url=url, title=None, state="new", last_status=None,
                      last_success_at=None, consecutive_errors=0, last_error=None,
                      last_warning=None, next_poll_at=None, entries_seen=0)  # fmt: skip


def _jsonable(health: FeedHealth) -> dict[str, Any]:
    data = asdict(health)
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in data.items()}


def render_table(rows: list[FeedHealth]) -> str:
    if not rows:
        return "no feeds configured (add them under `feeds:` or `opml:` in monitor.yaml)"
    lines = []
    for h in rows:
        moved = f"  (now {h.url})" if h.url != h.configured_url else ""
        title = f"  {h.title}" if h.title else ""
        lines.append(f"{h.state.upper():8} {h.configured_url}{moved}{title}")
        lines.append(
            f"         status {h.last_status or '-'} · last success {_when(h.last_success_at)}"
            f" · errors {h.consecutive_errors} · next poll {_when(h.next_poll_at)}"
            f" · entries seen {h.entries_seen}"
        )
        for label, text in (("error", h.last_error), ("warning", h.last_warning)):
            if text and (label == "warning" or h.consecutive_errors or h.state == "gone"):
                lines.append(f"         {label}: {text}")
    return "\n".join(lines)


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "-"
