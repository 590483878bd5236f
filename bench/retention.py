"""Retention: database size and time to prune a synthetic 50,000-article SQLite database.

Articles are processed evenly over the last 180 days, each with ~2.5 kB of text and ~8 kB
of raw HTML (extract.keep_raw_html on); 5 % belong to stories that alerted. Retention is
article_text 90d, raw_html 14d. Figures: file size before, after `prune` (SQLite reuses the
freed pages but keeps the file) and after VACUUM, and the time of the dry run, the prune
and the VACUUM. The text is synthetic (seeded), so the figures are reproducible.
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

from bench._report import sized, update_section
from monitor.storage.db import make_engine, session_factory, transaction, upgrade, vacuum
from monitor.storage.models import ArticleRow, Story
from monitor.storage.retention import PruneReport, plan_prune, prune
from monitor.storage.settings import RetentionSettings

COMMAND = ".venv/bin/python -m bench.retention"
ARTICLES = sized(50_000, 500)
NOW = datetime(2026, 6, 1, tzinfo=UTC)
SPAN = timedelta(days=180)
RETENTION = RetentionSettings(article_text=timedelta(days=90), raw_html=timedelta(days=14))
VOCABULARY = (
    "the a council minister rocket attack base village officials said on monday police "
    "market flood storm election court ruling government rebels army talks ceasefire border "
    "killed wounded convoy hospital bridge fire province capital report statement"
)
WORDS = VOCABULARY.split()


def _text(rng: random.Random, chars: int) -> str:
    words: list[str] = []
    size = 0
    while size < chars:
        word = rng.choice(WORDS)
        words.append(word)
        size += len(word) + 1
    return " ".join(words)


def build(url: str, n: int) -> None:
    engine = make_engine(url)
    upgrade(engine)
    sessions = session_factory(engine)
    rng = random.Random(14)
    with transaction(sessions) as s:
        alerted = Story(headline="alerted", first_seen=NOW, last_seen=NOW, alerted=True)
        quiet = Story(headline="quiet", first_seen=NOW, last_seen=NOW)
        s.add_all([alerted, quiet])
        s.flush()
        story_ids = (alerted.id, quiet.id)
    for start in range(0, n, 2000):
        rows = []
        for i in range(start, min(n, start + 2000)):
            text = _text(rng, 2500)
            rows.append({
                "key": f"feed#{i}", "url": f"http://127.0.0.1/{i}", "title": f"Report {i}",
                "text": text, "text_hash": f"{i:064x}", "text_source": "page",
                "processed_at": NOW - SPAN * (i / n), "classification": {},
                "raw_html": f"<html><body><p>{text}</p>{_text(rng, 5500)}</body></html>",
                "story_id": story_ids[0] if rng.random() < 0.05 else story_ids[1],
            })  # fmt: skip
        with transaction(sessions) as s:
            s.execute(insert(ArticleRow), rows)
    engine.dispose()


def _mb(path: Path) -> str:
    return f"{path.stat().st_size / 1e6:,.0f} MB"


def _line(what: str, r: PruneReport) -> str:
    return (
        f"| {what} | {r.article_text.articles:,} ({r.article_text.bytes / 1e6:,.0f} MB) | "
        f"{r.raw_html.articles:,} ({r.raw_html.bytes / 1e6:,.0f} MB) | {r.text_kept_for_alerts:,} |"
    )


def main(n: int = ARTICLES) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-retention-") as tmp:
        path = Path(tmp) / "monitor.db"
        url = f"sqlite:///{path}"
        t0 = time.perf_counter()
        build(url, n)
        built = time.perf_counter() - t0
        size_before = _mb(path)
        engine = make_engine(url)
        sessions = session_factory(engine)
        t0 = time.perf_counter()
        with sessions() as s:
            planned = plan_prune(session=s, now=NOW, settings=RETENTION)
        dry = time.perf_counter() - t0
        t0 = time.perf_counter()
        done = prune(sessions=sessions, clock=lambda: NOW, settings=RETENTION)
        pruned = time.perf_counter() - t0
        size_pruned = _mb(path)
        t0 = time.perf_counter()
        vacuum(engine)
        vacuumed = time.perf_counter() - t0
        size_vacuumed = _mb(path)
        engine.dispose()
    kept_note = "freed pages are reused; the file keeps its size"
    markdown = f"""## retention: pruning a synthetic {n:,}-article SQLite database

Articles processed evenly over 180 days, ~2.5 kB of text and ~8 kB of raw HTML each, 5 % in
alerted stories; `storage.retention: {{article_text: 90d, raw_html: 14d}}`; built in {built:.0f} s.

| run | text removed (articles, bytes) | raw HTML removed | old text kept behind alerts |
|---|---|---|---|
{_line("dry run", planned)}
{_line("prune", done)}

| step | time | database file |
|---|---|---|
| before | | {size_before} |
| `db prune --dry-run` | {dry:.2f} s | {size_before} (unchanged) |
| `db prune` (batches of 500) | {pruned:.1f} s | {size_pruned} ({kept_note}) |
| `VACUUM` (`db prune --vacuum`) | {vacuumed:.1f} s | {size_vacuumed} |
"""
    update_section("retention", markdown, command=COMMAND)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else ARTICLES)
