"""`monitor explain FILE|URL [--json]`: one article's classification with its evidence."""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from monitor.classify.classifier import Classifier
from monitor.classify.explain import explain_json, explain_text
from monitor.classify.learned import learned_typing
from monitor.config import CONFIG_HELP, Config, load_config
from monitor.errors import ConfigError, MonitorError


def explain(
    target: Annotated[
        str,
        typer.Argument(
            metavar="FILE|URL", help="A text file (first line = title), an HTML file, or a URL."
        ),
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")] = False,
    config: Annotated[Path | None, typer.Option("--config", "-c", help=CONFIG_HELP)] = None,
) -> None:
    """Classify one article and show why: evidence, scores, rules fired and not fired."""
    try:
        cfg = load_config(config)
        learned = learned_typing(cfg.settings.classify.learned)
        title, text = read_article(target, cfg)
    except ConfigError as exc:
        typer.echo("\n".join(["configuration error:", *exc.errors]), err=True)
        raise typer.Exit(2) from exc
    except MonitorError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    classifier = Classifier(
        cfg.watchlist, max_text_chars=cfg.settings.classify.max_text_chars, learned=learned
    )
    result = classifier.classify(title=title, text=text)
    if as_json:
        typer.echo(json.dumps(explain_json(title, text, result), indent=2, ensure_ascii=False))
    else:
        typer.echo(explain_text(title, text, result, color=sys.stdout.isatty()), nl=False)


def read_article(target: str, cfg: Config) -> tuple[str, str]:
    """(title, text) from a file or a URL."""
    if target.startswith(("http://", "https://")):
        return asyncio.run(_fetch(target, cfg))
    path = Path(target)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise MonitorError(f"{target}: cannot read: {exc.strerror or exc}") from exc
    head = raw[:2048].lstrip().lower()
    if (
        head.startswith((b"<!doctype html", b"<html"))
        or b"<body" in head
        or path.suffix in (".html", ".htm")
    ):
        return _from_html(raw, url=None, name=target)
    lines = raw.decode("utf-8", errors="replace").splitlines()
    return (lines[0].strip() if lines else ""), "\n".join(lines[1:]).strip()


def _from_html(raw: bytes, *, url: str | None, name: str) -> tuple[str, str]:
    from monitor.errors import ExtractError
    from monitor.extract.html import extract_html

    # The command's own moment: only the title and text are used, not the page's date.
    page = extract_html(raw, url=url, now=datetime.now(UTC))
    if page is None:
        raise ExtractError(f"{name}: no article text found in the page")
    return page.title or "", page.text


async def _fetch(url: str, cfg: Config) -> tuple[str, str]:
    from monitor.errors import FetchError
    from monitor.fetch.http import Fetcher

    async with Fetcher(cfg.settings.fetch) as fetcher:
        result = await fetcher.get(url)
    if result.status >= 400:
        raise FetchError(f"{url}: HTTP {result.status}")
    return _from_html(result.content, url=result.url, name=url)
