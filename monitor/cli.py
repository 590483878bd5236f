"""The `monitor` command line. Each command validates config once, then calls the stages.

Exit codes: 0 success, 1 runtime failure, 2 invalid configuration or input.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from monitor.alert.commands import alerts_app, pending_alerts, pending_lines, test_alert
from monitor.classify.commands import explain, train_typing
from monitor.classify.learned import learned_typing
from monitor.config import CONFIG_HELP, Config, load_config, load_sentence_model
from monitor.dedup.commands import stories_app
from monitor.errors import ConfigError, MonitorError
from monitor.extract.commands import articles_app
from monitor.fetch.commands import feeds_app
from monitor.units import counted

app = typer.Typer(
    help="Self-hosted news monitoring: feeds -> incidents -> stories -> Slack alerts.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    # Click's plain help: Typer's rich panels show a flag as "--json <bool>", as if it took
    # a value; plain help shows "--json" alone and "--days FLOAT" for options with one.
    rich_markup_mode=None,
)
db_app = typer.Typer(help="Database schema management.", no_args_is_help=True)
app.add_typer(db_app, name="db")

app.add_typer(articles_app, name="articles")
app.command("test-alert")(test_alert)
app.add_typer(alerts_app, name="alerts")
app.add_typer(feeds_app, name="feeds")
app.command("explain")(explain)
app.command("train-typing")(train_typing)
app.add_typer(stories_app, name="stories")
web_app = typer.Typer(help="The web console.", no_args_is_help=True)
app.add_typer(web_app, name="web")

ConfigOpt = Annotated[
    Path | None,
    typer.Option("--config", "-c", help=CONFIG_HELP),
]
DbOpt = Annotated[
    str | None,
    typer.Option("--db", help="Database URL (default: $MONITOR_DATABASE_URL, storage.url, SQLite)"),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


def fail(message: str, code: int) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(code)


def fatal(message: str, code: int) -> typer.Exit:
    """``fail`` once logging is configured: in `log.format`, so a JSON log shipper reads
    the one line that says why the process stopped. Before the configuration is read
    there is no format to follow, and ``fail`` prints plain text."""
    logging.getLogger("monitor").critical(message)
    return typer.Exit(code)


def get_config(path: Path | None, *, sends: bool = False) -> Config:
    """Load and validate configuration; exit 2 listing every problem. A command that
    ``sends`` alerts also needs every route's secrets (tokens, webhook URLs) to be set."""
    try:
        return load_config(path, sends=sends)
    except ConfigError as exc:
        raise fail("\n".join(["configuration error:", *exc.errors]), 2) from exc


def setup_logging(cfg: Config | None = None, verbose: bool = False) -> None:
    from monitor.logs import configure

    configure(cfg.settings.log if cfg else None, verbose=verbose)


def log_config_path(cfg: Config) -> None:
    """Which file a command that polls runs on: without --config or ./config/monitor.yaml it
    is the shipped example, whose two public feeds a user never chose."""
    logging.getLogger("monitor").info("configuration read", extra={"config": str(cfg.path)})


@app.command("check-config")
def check_config(config: ConfigOpt = None) -> None:
    """Validate monitor.yaml and every watchlist it includes; print all errors at once.

    As `monitor run` would see it: a route's unset secret is an error here."""
    cfg = get_config(config, sends=True)
    for warning in cfg.warnings:
        typer.echo(f"warning: {warning}", err=True)
    try:
        load_sentence_model(cfg)  # that its files are there and load, as `run` will
        learned_typing(cfg.settings.classify.learned, cfg.watchlist.acled_names)
    except ConfigError as exc:
        raise fail("\n".join(["configuration error:", *exc.errors]), 2) from exc
    wl = cfg.watchlist
    counts = (
        (len(cfg.settings.feeds), "feed"),
        (len(wl.rules), "rule"),
        (len(cfg.settings.alerts.routes), "route"),
        (len(cfg.watchlist_files), "watchlist file"),
    )
    summary = ", ".join(counted(n, noun) for n, noun in counts)
    typer.echo(f"{cfg.path}: OK — {summary}")


@db_app.command("upgrade")
def db_upgrade(config: ConfigOpt = None, db: DbOpt = None) -> None:
    """Migrate the database schema to the current version (the one way to migrate)."""
    from monitor.storage.db import make_engine, redact, upgrade

    url = get_config(config).database_url(db)
    try:
        upgrade(make_engine(url))
    except MonitorError as exc:
        raise fail(str(exc), 1) from exc
    typer.echo(f"database {redact(url)} is at the current schema")


@db_app.command("prune")
def db_prune(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Report what would be removed; change nothing.")
    ] = False,
    vacuum: Annotated[
        bool, typer.Option("--vacuum", help="Then VACUUM, so the database file shrinks.")
    ] = False,
    config: ConfigOpt = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Remove article text and raw HTML past storage.retention (the service does it daily).

    Entry identities, article URLs, hashes and classifications stay, so nothing alerts
    again; the text of articles behind an alert stays too."""
    from monitor.runtime import open_runtime
    from monitor.storage.db import vacuum as vacuum_db
    from monitor.storage.retention import describe, plan_prune, prune

    retention = (cfg := get_config(config)).settings.storage.retention
    try:
        rt = open_runtime(cfg, cfg.database_url(db))
        try:
            if dry_run:
                with rt.sessions() as session:
                    report = plan_prune(session=session, now=rt.clock(), settings=retention)
            else:
                report = prune(sessions=rt.sessions, clock=rt.clock, settings=retention)
                if vacuum:
                    vacuum_db(rt.engine)
        finally:
            rt.close()
    except MonitorError as exc:
        raise fail(str(exc), 1) from exc
    typer.echo(json.dumps(report.as_json(), indent=2) if as_json else describe(report))


@app.command("replay")
def replay_cmd(
    input: Annotated[Path, typer.Argument(help="JSONL archive: one article per line.")],
    config: ConfigOpt = None,
    db: DbOpt = None,
    now: Annotated[
        str | None,
        typer.Option(
            help="ISO time of the first article when it has no `published` (default: now);"
            " pin it for a reproducible backtest."
        ),
    ] = None,
) -> None:
    """Classify, deduplicate and decide alerts over an archive, offline; JSON lines out."""
    from monitor.replay import BadLine, replay
    from monitor.runtime import open_runtime, temporary_database, utcnow

    cfg = get_config(config)
    start = _aware_time(now, "--now") if now else utcnow()

    def report(bad: BadLine) -> None:
        typer.echo(f"{input}:{bad.line_no}: skipped: {bad.message}", err=True)

    try:
        with temporary_database() as tmp_url, input.open("rb") as lines:
            rt = open_runtime(cfg, db or tmp_url, migrate=db is None, caller_busy=True)
            for out in replay(
                lines, sessions=rt.sessions, stages=rt.stages, start=start, on_error=report
            ):
                sys.stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
            rt.close()
    except OSError as exc:
        raise fail(f"{input}: {exc.strerror or exc}", 2) from exc
    except MonitorError as exc:
        raise fail(str(exc), 1) from exc


def _aware_time(value: str, option: str) -> datetime:
    """An ISO 8601 time; without an offset it is read as UTC, never as local time."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise fail(f"{option}: not an ISO 8601 time: {value!r}", 2) from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@app.command("poll")
def poll_cmd(
    once: Annotated[bool, typer.Option("--once", help="Poll every feed once and exit.")] = False,
    config: ConfigOpt = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Poll every feed once, process new articles, send alerts, exit (1 when every feed
    failed)."""
    from monitor.extract.extractor import start_pool
    from monitor.runtime import open_runtime, poll_once

    if not once:
        raise fail("use `monitor poll --once` (or `monitor run` for the scheduler)", 2)
    cfg = get_config(config, sends=True)
    setup_logging(cfg)
    log_config_path(cfg)
    pool = start_pool(cfg.settings.extract)  # its workers start while the model loads
    try:
        rt = open_runtime(cfg, cfg.database_url(db))
        reports = asyncio.run(poll_once(rt, pool=pool))
        pending = pending_alerts(rt.sessions)
    except MonitorError as exc:
        raise fatal(str(exc), 1) from exc
    finally:
        pool.close()
    summary = [
        {
            "feed": r.feed_url,
            "status": r.status,
            "error": r.error,
            "new_articles": sum(1 for o in r.outcomes if o.skipped is None),
            "alerts": [o.decision.kind for o in r.outcomes if o.decision and o.decision.kind],
        }
        for r in reports
    ]
    if as_json:
        typer.echo(json.dumps({"feeds": summary, "pending_alerts": pending}, indent=2))
    else:
        for s in summary:
            typer.echo(poll_line(s))
        for line in pending_lines(pending):
            typer.echo(line)
    if summary and all(s["error"] for s in summary):
        # cron and CI see exit codes, not lines: every feed failing is the network, the
        # proxy or the address guard, never news. One feed down is routine and exits 0.
        raise fail(f"every feed failed ({counted(len(summary), 'feed')})", 1)


def poll_line(feed: dict[str, Any]) -> str:
    """One feed's poll in words (the JSON keeps the data): a Python list such as
    "alerts ['new']" meant nothing to an operator."""
    if feed["error"]:
        return f"{feed['feed']}: failed: {feed['error']}"
    new = feed["new_articles"]
    line = f"{feed['feed']}: HTTP {feed['status']}, "
    line += f"{new} new {'article' if new == 1 else 'articles'}" if new else "nothing new"
    kinds = feed["alerts"]
    if kinds:
        counts = ", ".join(f"{kinds.count(k)} {k}" for k in dict.fromkeys(kinds))
        counts = kinds[0] if len(kinds) == 1 else counts
        line += f"; {len(kinds)} {'alert' if len(kinds) == 1 else 'alerts'} queued ({counts})"
    return line


@app.command("run")
def run_cmd(
    config: ConfigOpt = None,
    db: DbOpt = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", help="Log everything (debug), whatever log.level says.")
    ] = False,
) -> None:
    """Run the scheduler until SIGTERM/SIGINT: poll due feeds, dispatch alerts, serve health."""
    from monitor.scheduler import run_forever

    cfg = get_config(config, sends=True)
    setup_logging(cfg, verbose)
    log_config_path(cfg)
    for warning in cfg.warnings:
        logging.getLogger("monitor").warning("configuration: %s", warning)
    try:
        run_forever(cfg, cfg.database_url(db))
    except ConfigError as exc:  # found at start-up (the sentence model's files): as check-config
        raise fatal("\n".join(["configuration error:", *exc.errors]), 2) from exc
    except MonitorError as exc:
        raise fatal(str(exc), 1) from exc
    except Exception as exc:  # a bug: its traceback in the log's format too
        logging.getLogger("monitor").critical("monitor stopped: %s", exc, exc_info=exc)
        raise typer.Exit(1) from exc


@web_app.command("hash-password")
def hash_password() -> None:
    """Read a password (or an API token) and print its hash for web.users / web.api_tokens."""
    from monitor.web.auth import hash_secret

    secret = typer.prompt("Password", hide_input=True, confirmation_prompt=sys.stdin.isatty())
    if not secret:
        raise fail("an empty password is not allowed", 2)
    typer.echo(hash_secret(secret))


@app.command("demo")
def demo_cmd(as_json: JsonOpt = False) -> None:
    """Offline demo: serve sample articles on 127.0.0.1, poll them once, print the alert."""
    from monitor.demo.run import run_demo

    try:
        # With --json, stdout carries only the JSON; the console route prints to stderr.
        result = run_demo(console=sys.stderr if as_json else sys.stdout)
    except MonitorError as exc:
        raise fail(str(exc), 1) from exc
    typer.echo(json.dumps(result.as_json(), indent=2) if as_json else result.as_text())


def main() -> None:
    try:
        app()
    except ConfigError as exc:  # raised by a command that loads config lazily
        typer.echo("\n".join(["configuration error:", *exc.errors]), err=True)
        sys.exit(2)
