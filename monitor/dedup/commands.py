"""`monitor stories`: list recent stories with their sources; merge, split, mute.

Registered in cli.py as ``app.add_typer(stories_app, name="stories")``.
"""

from __future__ import annotations

import getpass
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import typer
from sqlalchemy.orm import Session

from monitor.codec import event_from_dict, event_to_dict
from monitor.config import CONFIG_HELP, Config, load_config
from monitor.dedup import corrections
from monitor.errors import MonitorError
from monitor.storage import stories as db
from monitor.storage.db import make_engine, require_current_schema, session_factory, transaction
from monitor.storage.models import Story
from monitor.units import counted

stories_app = typer.Typer(help="Recent stories and operator corrections.", no_args_is_help=False)
T = TypeVar("T")


ConfigOpt = typer.Option(None, "--config", "-c", help=CONFIG_HELP)
DbOpt = typer.Option(None, "--db", help="Database URL.")


def _run(
    ctx: typer.Context,
    work: Callable[[Session, Config], T],
    config: str | None = None,
    db_url: str | None = None,
) -> T:
    """Run ``work`` in one transaction; options given after a subcommand win over the
    group's (`monitor stories merge 1 2 -c x.yaml` and `monitor stories -c x.yaml merge 1 2`)."""
    opts = {**(ctx.obj or {}), **{k: v for k, v in (("config", config), ("db", db_url)) if v}}
    try:
        cfg = load_config(opts.get("config"))
        url = cfg.database_url(opts.get("db"))
        engine = make_engine(url)
        try:
            require_current_schema(engine)
            with transaction(session_factory(engine)) as session:
                return work(session, cfg)
        finally:
            engine.dispose()
    except MonitorError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc


def story_json(session: Session, story: Story) -> dict[str, Any]:
    rows = db.story_articles(session=session, story_id=story.id)
    return {
        "id": story.id,
        "headline": story.headline,
        "first_seen": story.first_seen.isoformat(),
        "last_seen": story.last_seen.isoformat(),
        "discovered_at": story.discovered_at.isoformat() if story.discovered_at else None,
        "severity": story.severity,
        "muted": story.muted,
        "source_count": story.source_count,
        "incident_types": list(story.incident_types or []),
        "acled_types": list(story.acled_types or []),
        "entities": [e.get("name", e.get("id")) for e in story.entities or []],
        "casualties": {k: v for k, v in (story.casualties or {}).items() if k != "evidence"},
        "event": event_to_dict(event_from_dict(story.event)),
        "sources": [
            {
                "article_id": r.id,
                "outlet": r.source or r.site_name,
                "url": r.canonical_url or r.url,
                "title": r.title,
                "published": (r.published_at or r.processed_at).isoformat(),
                "duplicate_of": r.duplicate_of_key,
                "pinned": r.pinned,
            }
            for r in rows
        ],
    }


def when(iso: str) -> str:
    """An ISO time as the other listings show it (`feeds`, `alerts`): minutes, in UTC."""
    return f"{datetime.fromisoformat(iso).astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def story_counts(item: dict[str, Any]) -> str:
    """Severity and size in words. ``source_count`` counts outlets, while the lines below
    list every report: "1 sources" over two lines read as a wrong count."""
    reports, outlets = len(item["sources"]), item["source_count"]
    sev = item["severity"] or "no rule matched"
    size = counted(reports, "report")
    if outlets != reports:
        size += f" from {counted(outlets, 'outlet')}"
    return f"{sev}, {size}"


def _print_story(item: dict[str, Any]) -> None:
    flags = " [muted]" if item["muted"] else ""
    typer.echo(f"#{item['id']} {item['headline']}  ({story_counts(item)}){flags}")
    typer.echo(f"    {when(item['first_seen'])} .. {when(item['last_seen'])}")
    for src in item["sources"]:
        dup = f" (copy of {src['duplicate_of']})" if src["duplicate_of"] else ""
        typer.echo(
            f"    - [{src['article_id']}] {when(src['published'])} {src['outlet'] or '?'}: "
            f"{src['url'] or src['title']}{dup}"
        )


@stories_app.callback(invoke_without_command=True)
def stories(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="One JSON object per story."),
    days: float = typer.Option(3.0, help="Stories seen within this many days."),
    limit: int = typer.Option(50, help="At most this many stories."),
    config: str | None = ConfigOpt,
    db_url: str | None = DbOpt,
) -> None:
    """List recent stories with their sources (newest first)."""
    ctx.obj = {"config": config, "db": db_url}
    if ctx.invoked_subcommand is not None:
        return
    since = datetime.now(UTC) - timedelta(days=days)

    def listing(session: Session) -> list[dict[str, Any]]:
        found = db.recent_story_list(session=session, since=since, limit=limit)
        return [story_json(session, s) for s in found]

    items = _run(ctx, lambda s, _cfg: listing(s))
    for item in items:
        typer.echo(json.dumps(item, ensure_ascii=False)) if as_json else _print_story(item)
    if not items and not as_json:
        typer.echo(f"no stories in the last {counted(days, 'day')}")


@stories_app.command()
def merge(
    ctx: typer.Context,
    keep: int,
    other: int,
    config: str | None = ConfigOpt,
    db_url: str | None = DbOpt,
) -> None:
    """Merge story OTHER into story KEEP; later articles join KEEP."""
    _run(
        ctx,
        lambda s, cfg: corrections.merge(
            session=s, keep_id=keep, merge_id=other, alerts=cfg.settings.alerts, now=_now()
        ),
        config,
        db_url,
    )
    typer.echo(f"merged story {other} into {keep}")


@stories_app.command()
def split(
    ctx: typer.Context, article_id: int, config: str | None = ConfigOpt, db_url: str | None = DbOpt
) -> None:
    """Move article ARTICLE_ID into a story of its own, pinned there."""
    story = _run(
        ctx,
        lambda s, cfg: (
            corrections.split(
                session=s, article_id=article_id, alerts=cfg.settings.alerts, now=_now()
            ).id
        ),
        config,
        db_url,
    )
    typer.echo(f"article {article_id} is now alone in story {story} (pinned)")


@stories_app.command()
def mute(
    ctx: typer.Context,
    story_id: int,
    undo: bool = typer.Option(False, "--undo", help="Unmute."),
    config: str | None = ConfigOpt,
    db_url: str | None = DbOpt,
) -> None:
    """Stop alerting on story STORY_ID (or resume with --undo)."""
    _run(
        ctx,
        lambda s, cfg: corrections.mute(
            session=s, story_id=story_id, muted=not undo, alerts=cfg.settings.alerts, now=_now()
        ),
        config,
        db_url,
    )
    typer.echo(f"story {story_id} {'unmuted' if undo else 'muted'}")


@stories_app.command("not-relevant")
def not_relevant(
    ctx: typer.Context, story_id: int, config: str | None = ConfigOpt, db_url: str | None = DbOpt
) -> None:
    """Record that story STORY_ID was not relevant, as feedback on each rule that fired."""
    rules = _run(
        ctx,
        lambda s, _cfg: corrections.not_relevant(
            session=s, story_id=story_id, actor=f"cli:{getpass.getuser()}", now=_now()
        ),
        config,
        db_url,
    )
    typer.echo(f"story {story_id}: not relevant, recorded for rules {', '.join(rules) or '-'}")


def _now() -> datetime:
    return datetime.now(UTC)
