"""`monitor test-alert ROUTE`, `monitor alerts [--json]` and `monitor alerts retry`."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer

from monitor.config import CONFIG_HELP, Config, load_config
from monitor.errors import ConfigError, MonitorError
from monitor.storage import alerts as q
from monitor.storage.db import make_engine, require_current_schema, session_factory
from monitor.storage.models import AlertRow
from monitor.units import counted

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

ConfigOpt = Annotated[str | None, typer.Option("--config", "-c", help=CONFIG_HELP)]
DbOpt = Annotated[str | None, typer.Option("--db", help="Database URL (overrides config).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


def _config(path: str | None) -> Config:
    try:
        return load_config(path)
    except ConfigError as exc:
        typer.echo("\n".join(["configuration error:", *exc.errors]), err=True)
        raise typer.Exit(2) from exc


def test_alert(
    route: Annotated[str, typer.Argument(metavar="ROUTE", help="A route under alerts.routes.")],
    config: ConfigOpt = None,
) -> None:
    """Send a sample alert to ROUTE (checks a bot token with auth.test first)."""
    cfg = _config(config)
    try:
        cfg.require_secrets([route])  # only this route's: the others are not used
    except ConfigError as exc:
        typer.echo("\n".join(["configuration error:", *exc.errors]), err=True)
        raise typer.Exit(2) from exc
    settings = cfg.settings.alerts
    if route not in settings.routes:
        known = ", ".join(sorted(settings.routes)) or "none defined under alerts.routes"
        typer.echo(f"error: unknown route {route!r}; routes: {known}", err=True)
        raise typer.Exit(2)
    # here, not at the top: every `monitor` command imports this module to list it
    from monitor.alert.compose import compose_test
    from monitor.alert.dispatcher import sink_for, verify_routes

    timeout = settings.dispatch.request_timeout.total_seconds()
    sink = sink_for(route, settings.routes[route], timeout=timeout)
    for problem in verify_routes({route: sink}):
        typer.echo(f"error: {problem}", err=True)
        raise typer.Exit(1)
    note = getattr(sink, "channel_note", None)
    if note:
        typer.echo(f"warning: route {route!r}: {note}", err=True)
    try:
        delivered = sink.send(compose_test(route, datetime.now(UTC)))
    except MonitorError as exc:
        typer.echo(f"error: route {route!r}: {exc}", err=True)
        raise typer.Exit(1) from exc
    where = f" (channel {delivered.channel}, ts {delivered.ts})" if delivered.ts else ""
    typer.echo(f"sent a test alert to route {route!r}{where}")


alerts_app = typer.Typer(
    help="Recent alerts and their delivery state; `retry` queues failed ones again.",
    invoke_without_command=True,
)


@alerts_app.callback()
def alerts(
    ctx: typer.Context,
    status: Annotated[
        str | None, typer.Option(help="Only pending, sent, failed or skipped.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="How many.")] = 50,
    as_json: JsonOpt = False,
    config: ConfigOpt = None,
    db: DbOpt = None,
) -> None:
    """Recent alerts with their delivery state, newest first, and a summary per route."""
    if ctx.invoked_subcommand is not None:
        return
    cfg = _config(config)
    try:
        engine = make_engine(cfg.database_url(db))
        require_current_schema(engine)
        with session_factory(engine)() as session:
            rows = [
                _describe(a) for a in q.recent_alerts(session=session, limit=limit, status=status)
            ]
            routes = {name: _route(s) for name, s in q.route_states(session=session).items()}
        engine.dispose()
    except MonitorError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    if as_json:
        typer.echo(json.dumps({"alerts": rows, "routes": routes}, indent=2, ensure_ascii=False))
        return
    for name, r in routes.items():
        problem = f" · last error: {r['last_error']}" if r["last_error"] else ""
        waiting = f" · waiting: {r['retry_error']}" if r["pending"] and r["retry_error"] else ""
        typer.echo(
            f"route {name}: {r['sent']} sent, {r['pending']} pending, {r['failed']} failed"
            f"{problem}{waiting}"
        )
    for row in rows:
        error = f"  ({row['last_error']})" if row["last_error"] and row["status"] != "sent" else ""
        when = _when(row)
        typer.echo(
            f"#{row['id']:<5} story {row['story_id']:<5} {row['route']:<14} {row['kind']:<7} "
            f"{row['status']:<8} attempts {row['attempts']}  {when}{error}"
        )
    if not rows:
        typer.echo("no alerts yet")


@alerts_app.command("retry")
def retry(
    route: Annotated[
        str | None, typer.Option("--route", help="Only this route's failed alerts.")
    ] = None,
    alert_ids: Annotated[
        list[int] | None, typer.Option("--id", help="Only this alert (repeatable).")
    ] = None,
    config: ConfigOpt = None,
    db: DbOpt = None,
) -> None:
    """Queue failed alerts again with a fresh retry budget (all, one route's, or by --id).

    For alerts a broken route gave up (a revoked token fixed, the bot invited) or that
    failed for good: the running service sends them in its next dispatch, in queued order;
    on a bot route it first looks for a message that landed after all."""
    from monitor.alert.outbox import retry_failed

    cfg = _config(config)
    if route is not None and route not in cfg.settings.alerts.routes:
        known = ", ".join(sorted(cfg.settings.alerts.routes)) or "none defined"
        typer.echo(f"error: unknown route {route!r}; routes: {known}", err=True)
        raise typer.Exit(2)
    try:
        engine = make_engine(cfg.database_url(db))
        require_current_schema(engine)
        with session_factory(engine).begin() as session:
            ids = alert_ids or q.failed_alert_ids(session=session, route=route)
            now = datetime.now(UTC)
            rows = [retry_failed(session=session, alert_id=i, now=now) for i in ids]
            queued = {r.route: sum(1 for x in rows if x.route == r.route) for r in rows}
        engine.dispose()
    except MonitorError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    if not rows:
        typer.echo("no failed alerts" + (f" on route {route!r}" if route else ""))
    for name, n in queued.items():
        typer.echo(f"route {name}: {counted(n, 'failed alert')} queued again")


def _when(row: dict[str, Any]) -> str:
    """What the row's time is, in UTC and said so: when it went out, or its next try."""
    if row["sent_at"]:
        return "sent " + _utc(row["sent_at"])
    if row["status"] == "pending" and row["next_attempt_at"]:
        return "next try " + _utc(row["next_attempt_at"])
    return "created " + _utc(row["created_at"]) if row["created_at"] else "-"


def _utc(iso: str) -> str:
    return datetime.fromisoformat(iso).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _describe(a: AlertRow) -> dict[str, Any]:
    return {
        "id": a.id,
        "story_id": a.story_id,
        "article_id": a.article_id,
        "route": a.route,
        "kind": a.kind,
        "severity": a.severity,
        "status": a.status,
        "attempts": a.attempts,
        "created_at": _iso(a.created_at),
        "next_attempt_at": _iso(a.next_attempt_at),
        "sent_at": _iso(a.sent_at),
        "channel": a.channel,
        "message_ts": a.message_ts,
        "last_error": a.last_error,
    }


def _route(state: q.RouteState) -> dict[str, Any]:
    return {
        "pending": state.pending,
        "sent": state.sent,
        "failed": state.failed,
        "last_sent_at": _iso(state.last_sent_at),
        "last_error": state.last_error,
        "retry_error": state.retry_error,
    }


def pending_alerts(sessions: sessionmaker[Session]) -> dict[str, dict[str, Any]]:
    """Per route with alerts still in the outbox: how many, and why the newest tried one
    waits; so a one-shot command can say what it left for the next run to send."""
    with sessions() as session:
        states = q.route_states(session=session)
    return {
        name: {"pending": s.pending, "retry_error": s.retry_error}
        for name, s in states.items()
        if s.pending
    }


def pending_lines(pending: dict[str, dict[str, Any]]) -> list[str]:
    lines = []
    for name, p in pending.items():
        why = f" (last try: {p['retry_error']})" if p["retry_error"] else ""
        them = "it" if p["pending"] == 1 else "them"
        lines.append(
            f"route {name}: {counted(p['pending'], 'alert')} not sent yet{why}; kept in the "
            f"outbox, the next `monitor poll --once` or `monitor run` sends {them} when due"
        )
    return lines
