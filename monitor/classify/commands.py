"""`monitor explain FILE|URL [--json]`: one article's classification with its evidence."""

from __future__ import annotations

import asyncio
import hashlib
import json
import sys
from collections import Counter
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
    published: Annotated[
        str | None,
        typer.Option(
            "--published",
            metavar="TIME",
            help="When the article was published (ISO 8601, e.g. 2026-11-27T01:30Z; UTC if "
            'no zone): the event\'s day ("on Thursday") is read against it. Default: a '
            "page's own date; none for a text file.",
        ),
    ] = None,
    config: Annotated[Path | None, typer.Option("--config", "-c", help=CONFIG_HELP)] = None,
) -> None:
    """Classify one article and show why: evidence, scores, rules fired and not fired."""
    given = _instant(published) if published is not None else None
    try:
        cfg = load_config(config)
        learned = learned_typing(cfg.settings.classify.learned, cfg.watchlist.acled_names)
        title, text, dated = read_article(target, cfg)
    except ConfigError as exc:
        typer.echo("\n".join(["configuration error:", *exc.errors]), err=True)
        raise typer.Exit(2) from exc
    except MonitorError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    classifier = Classifier(
        cfg.watchlist, max_text_chars=cfg.settings.classify.max_text_chars, learned=learned
    )
    when = given or dated
    result = classifier.classify(title=title, text=text, published=when)
    if as_json:
        typer.echo(json.dumps(explain_json(title, text, result), indent=2, ensure_ascii=False))
        return
    color = sys.stdout.isatty()
    said = explain_text(title, text, result, color=color, names=classifier.names, published=when)
    typer.echo(said, nl=False)


def _instant(value: str) -> datetime:
    """``--published`` as an aware time (UTC when it names no zone); exit 2 if it is none."""
    try:
        at = datetime.fromisoformat(value)
    except ValueError as exc:
        typer.echo(f"error: --published {value!r} is not an ISO 8601 time (e.g. 2026-11-27T01:30Z)",
                   err=True)  # fmt: skip
        raise typer.Exit(2) from exc
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def read_article(target: str, cfg: Config) -> tuple[str, str, datetime | None]:
    """(title, text, the page's publication time if it gives one) from a file or a URL."""
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
    return (lines[0].strip() if lines else ""), "\n".join(lines[1:]).strip(), None


def _from_html(raw: bytes, *, url: str | None, name: str) -> tuple[str, str, datetime | None]:
    from monitor.errors import ExtractError
    from monitor.extract.html import extract_html

    # The command's own moment: no page date after it is believed.
    page = extract_html(raw, url=url, now=datetime.now(UTC))
    if page is None:
        raise ExtractError(f"{name}: no article text found in the page")
    return page.title or "", page.text, page.published


async def _fetch(url: str, cfg: Config) -> tuple[str, str, datetime | None]:
    from monitor.errors import FetchError
    from monitor.fetch.http import Fetcher

    async with Fetcher(cfg.settings.fetch) as fetcher:
        result = await fetcher.get(url)
    if result.status >= 400:
        raise FetchError(f"{url}: HTTP {result.status}")
    return _from_html(result.content, url=result.url, name=url)


def train_typing(
    examples: Annotated[
        Path,
        typer.Option(
            "--examples",
            help="Your labelled texts: 'text<TAB>type' lines (a type's id, label or ACLED "
            "name, or 'none'), or an ACLED export (its notes and sub_event_type columns).",
        ),
    ],
    out: Annotated[Path, typer.Option("--out", help="The model file to write (JSON).")],
    l2: Annotated[
        float | None,
        typer.Option(help="The L2 penalty; default: chosen by 3-fold cross-validation."),
    ] = None,
    config: Annotated[Path | None, typer.Option("--config", "-c", help=CONFIG_HELP)] = None,
) -> None:
    """Fit the incident typing model on your own labelled examples, on this machine.

    The model reads the rules of the config's taxonomy as well as the words, and decides
    the first type once `classify.learned.model` names the file. The same examples and
    taxonomy write the same bytes."""
    from monitor.classify.usermodel import (
        L2_GRID,
        choose_l2,
        fit,
        model_bytes,
        read_examples,
        read_with_rules,
        resolve_labels,
    )

    try:
        cfg = load_config(config)
        labelled = resolve_labels(examples, read_examples(examples), cfg.watchlist.type_names())
    except ConfigError as exc:
        typer.echo("\n".join(["error:", *exc.errors]), err=True)
        raise typer.Exit(2) from exc
    rules = Classifier(cfg.watchlist, max_text_chars=cfg.settings.classify.max_text_chars)
    readings = [read_with_rules(rules, e.label, e.text) for e in labelled]
    chosen, scores = choose_l2(readings, (l2,) if l2 is not None else L2_GRID)
    fitted = fit(readings, l2=chosen)
    digest = hashlib.sha256(examples.read_bytes()).hexdigest()[:16]
    raw = model_bytes(
        fitted,
        trained_on=f"{examples.name} sha256 {digest} ({len(readings)} examples)",
        taxonomy=sorted(cfg.watchlist.acled_names),
        cv={f"{k:g}": round(v, 4) for k, v in sorted(scores.items())},
    )
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(raw)
    except OSError as exc:
        typer.echo(f"error: {out}: cannot write: {exc.strerror or exc}", err=True)
        raise typer.Exit(1) from exc
    counts = Counter(e.label for e in labelled)
    typer.echo(f"{len(labelled)} examples of {len(counts)} types; L2 {chosen:g}")
    for value, f1 in sorted(scores.items()):
        typer.echo(f"  3-fold CV weighted F1 of the first type at L2 {value:g}: {f1:.3f}")
    typer.echo(f"wrote {out} ({len(raw):,} bytes); to use it, in monitor.yaml:")
    typer.echo(f"  classify:\n    learned:\n      model: {out.resolve()}")
