"""Retention on SQLite and PostgreSQL: old text and raw HTML go, identities and the text
behind alerts stay, a dry run changes nothing, and a pruned entry never alerts again."""

from __future__ import annotations

import asyncio
import io
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
from localsite import Site
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from monitor.cli import app
from monitor.config import load_config
from monitor.resources import shipped_config_dir
from monitor.runtime import Runtime, open_runtime, poll_once
from monitor.scheduler import PRUNE_EVERY, Service
from monitor.storage.articles import insert_article
from monitor.storage.db import transaction
from monitor.storage.models import AlertRow, ArticleRow, Entry, Story
from monitor.storage.retention import Removed, plan_prune, prune
from monitor.storage.settings import RetentionSettings
from monitor.types import Article

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
RETENTION = RetentionSettings(article_text=timedelta(days=30), raw_html=timedelta(days=7))
TEXT = "Shelling hit Kharkiv’s outskirts overnight — three houses burned."  # not ASCII
HTML = f"<html><body><p>{TEXT}</p></body></html>"
BASE = Article(key="", url=None, title="Shelling", text=TEXT, published=None, raw_html=HTML)


def _store(s: Session, key: str, age: timedelta, story: Story | None = None) -> ArticleRow:
    article = replace(BASE, key=key, url=f"http://127.0.0.1/{key}")
    row = insert_article(session=s, article=article, classification={}, now=NOW - age)
    row.story_id = story.id if story else None
    return row


def _seed(sessions: sessionmaker[Session]) -> None:
    """Old and fresh articles; old ones behind an alert in two ways (the story alerted, or
    an outbox row names the article)."""
    with transaction(sessions) as s:
        alerted = Story(headline="a", first_seen=NOW, last_seen=NOW, alerted=True)
        quiet = Story(headline="q", first_seen=NOW, last_seen=NOW)
        s.add_all([alerted, quiet])
        s.flush()
        _store(s, "old", timedelta(days=40), quiet)
        _store(s, "old-no-story", timedelta(days=31))
        _store(s, "old-alerted-story", timedelta(days=90), alerted)
        named = _store(s, "old-named-by-alert", timedelta(days=60), quiet)
        _store(s, "html-only", timedelta(days=10), quiet)
        _store(s, "fresh", timedelta(days=1), quiet)
        s.flush()
        s.add(AlertRow(story_id=quiet.id, article_id=named.id, route="r", kind="new",
                       created_at=NOW))  # fmt: skip


def _snapshot(sessions: sessionmaker[Session]) -> dict[str, tuple[Any, ...]]:
    with sessions() as s:
        return {
            r.key: (r.text, r.text_hash, r.url, r.raw_html, r.text_pruned_at, r.story_id)
            for r in s.scalars(select(ArticleRow))
        }


def test_dry_run_reports_counts_and_bytes_and_changes_nothing(
    sessions: sessionmaker[Session],
) -> None:
    _seed(sessions)
    before = _snapshot(sessions)
    with sessions() as s:
        report = plan_prune(session=s, now=NOW, settings=RETENTION)
    assert report.dry_run
    assert report.article_text == Removed(2, 2 * len(TEXT.encode()))  # bytes, not characters
    assert report.raw_html == Removed(5, 5 * len(HTML.encode()))
    assert report.text_kept_for_alerts == 2
    assert _snapshot(sessions) == before


def test_prune_removes_exactly_the_old_text_not_behind_an_alert(
    sessions: sessionmaker[Session],
) -> None:
    _seed(sessions)
    before = _snapshot(sessions)
    with sessions() as s:
        planned = plan_prune(session=s, now=NOW, settings=RETENTION)
    # Batches of 2: the work is split across transactions and still all done.
    done = prune(sessions=sessions, clock=lambda: NOW, settings=RETENTION, batch=2)
    assert (done.article_text, done.raw_html) == (planned.article_text, planned.raw_html)
    after = _snapshot(sessions)
    pruned = {k for k, row in after.items() if row[0] != before[k][0]}
    assert pruned == {"old", "old-no-story"}
    for key in pruned:
        text, text_hash, url, _, pruned_at, story_id = after[key]
        assert (text, pruned_at) == ("", NOW)
        assert (text_hash, url, story_id) == before[key][1:3] + before[key][5:]  # identity stays
    assert {k for k, row in after.items() if row[3] is None} == set(after) - {"fresh"}
    again = prune(sessions=sessions, clock=lambda: NOW, settings=RETENTION)
    assert (again.article_text, again.raw_html) == (Removed(), Removed())


def test_nothing_is_pruned_when_kept_for_ever(sessions: sessionmaker[Session]) -> None:
    _seed(sessions)
    before = _snapshot(sessions)
    keep = RetentionSettings(article_text=None, raw_html=None)
    report = prune(sessions=sessions, clock=lambda: NOW, settings=keep)
    assert (report.article_text, report.raw_html) == (Removed(), Removed())
    assert _snapshot(sessions) == before


# The whole service: poll, prune, poll again.

ATTACK = (
    "Rockets struck Camp Taji, a military base north of Baghdad, on {day}, killing two "
    "soldiers and wounding {n} others, officials said."
)


def _item(guid: str, link: str, title: str, text: str, published: datetime = NOW) -> str:
    return (
        f"<item><title>{title}</title><link>{link}</link>"
        f'<guid isPermaLink="false">{guid}</guid><description>{text}</description>'
        f"<pubDate>{format_datetime(published - timedelta(hours=2), usegmt=True)}</pubDate></item>"
    )


def _serve(site: Site, items: list[str], path: str = "/feed") -> None:
    rss = f'<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title>{"".join(items)}'
    site.pages[path] = ("application/rss+xml", (rss + "</channel></rss>").encode())


def _runtime(
    tmp_path: Path, db_url: str, site: Site, *, rules: bool
) -> tuple[Runtime, io.StringIO]:
    shipped = shipped_config_dir()
    # Without the shipped watchlist no rule fires: the article is stored, never alerted.
    watchlists = [shipped / "taxonomy.yaml"] + ([shipped / "watchlists/*.yaml"] if rules else [])
    path = tmp_path / "monitor.yaml"
    path.write_text(
        f"feeds:\n  - {{url: '{site.base}/feed', name: Wire}}\n"
        f"  - {{url: '{site.base}/other', name: Other}}\n"
        "watchlists:\n" + "".join(f"  - {w}\n" for w in watchlists) +
        "fetch: {allow_private_addresses: true}\n"
        "extract: {fetch_pages: false, min_text_chars: 20}\n"
        "dedup: {semantic: {enabled: false}}\n"
        "alerts:\n  routes:\n    default: {type: console}\n"
        "storage: {retention: {article_text: 30d, raw_html: 7d}}\n",
        encoding="utf-8",
    )  # fmt: skip
    rt = open_runtime(load_config(path), db_url, migrate=True)
    rt.console = io.StringIO()
    return rt, rt.console


def _counts(rt: Runtime) -> tuple[int, int, int]:
    with rt.sessions() as s:
        return (
            s.scalar(select(func.count(ArticleRow.id))) or 0,
            s.scalar(select(func.count(AlertRow.id))) or 0,
            s.scalar(select(func.count(Entry.id))) or 0,
        )


def test_a_pruned_entry_polled_again_makes_no_article_and_no_alert(
    tmp_path: Path, db_url: str, site: Site
) -> None:
    first = _item(
        "a-1", f"{site.base}/a/1", "Rockets hit Camp Taji", ATTACK.format(day="Friday", n=3)
    )
    _serve(site, [first])
    _serve(site, [], "/other")
    rt, _ = _runtime(tmp_path, db_url, site, rules=False)
    rt.clock = lambda: NOW
    try:
        asyncio.run(poll_once(rt))
        assert _counts(rt) == (1, 0, 1)  # stored, no rule fired
    finally:
        rt.close()

    # A hundred days on, the rules now match such reports; the daily job prunes the text.
    later = NOW + timedelta(days=100)
    rt, console = _runtime(tmp_path, db_url, site, rules=True)
    rt.clock = lambda: later
    try:
        Service(rt).prune()
        with rt.sessions() as s:
            row = s.scalars(select(ArticleRow)).one()
        assert (row.text, row.text_pruned_at) == ("", later)
        # The feed changes (so it is read again) and still carries the pruned entry, dated
        # today (processed anew, it would alert); another feed republishes the same link
        # under its own GUID.
        refreshed = _item("a-1", f"{site.base}/a/1", "Rockets hit Camp Taji",
                          ATTACK.format(day="Friday", n=3), later)  # fmt: skip
        update = _item("a-2", f"{site.base}/a/2", "Council meets", "The council met.", later)
        _serve(site, [refreshed, update])
        again = _item("o-1", f"{site.base}/a/1", "Rockets hit Camp Taji",
                      ATTACK.format(day="Friday", n=3), later)  # fmt: skip
        _serve(site, [again], "/other")
        reports = asyncio.run(poll_once(rt))
        assert [r.error for r in reports] == [None, None]
        outcomes = {o.article.title: o.skipped for r in reports for o in r.outcomes}
        assert outcomes == {
            "Council meets": None,
            "Rockets hit Camp Taji": "same item already stored",
        }
        assert _counts(rt) == (2, 0, 3)  # only the council item is new; nothing alerted
        assert console.getvalue() == ""
        # A genuinely new report on the same feed still alerts (the rules do fire).
        fresh = _item("b-1", f"{site.base}/b/1", "Rockets hit Camp Taji",
                      ATTACK.format(day="Monday", n=5), later)  # fmt: skip
        _serve(site, [refreshed, update, fresh])
        asyncio.run(poll_once(rt))
        assert _counts(rt)[:2] == (3, 1)
    finally:
        rt.close()


def test_the_service_prunes_once_a_day_on_its_clock(
    tmp_path: Path, db_url: str, site: Site
) -> None:
    _serve(site, [])
    _serve(site, [], "/other")
    rt, _ = _runtime(tmp_path, db_url, site, rules=False)
    try:
        service = Service(rt)
        jobs = {func.__name__: every for func, every, _ in service.jobs(None, None)}  # type: ignore[arg-type]
        assert jobs["prune"] == PRUNE_EVERY == timedelta(days=1)
        _seed(rt.sessions)
        rt.clock = lambda: NOW - timedelta(days=20)  # no unalerted text is 30 days old then
        service.prune()
        assert {k for k, v in _snapshot(rt.sessions).items() if v[4]} == set()
        rt.clock = lambda: NOW
        service.prune()
        assert {k for k, v in _snapshot(rt.sessions).items() if v[4]} == {"old", "old-no-story"}
        assert service.failures["prune"].state()["failures"] == 0
    finally:
        rt.close()


def test_db_prune_command_dry_run_then_prune(tmp_path: Path, site: Site) -> None:
    db = f"sqlite:///{tmp_path / 'm.db'}"
    _serve(site, [])
    _serve(site, [], "/other")
    rt, _ = _runtime(tmp_path, db, site, rules=False)
    # The command runs on the real clock: seed relative to it.
    wall = datetime.now(UTC)
    _seed(rt.sessions)
    with transaction(rt.sessions) as s:
        for row in s.scalars(select(ArticleRow)):
            row.processed_at = wall - (NOW - row.processed_at)
    rt.close()
    args = ["db", "prune", "-c", str(tmp_path / "monitor.yaml"), "--db", db]
    before = _snapshot(rt.sessions)
    dry = CliRunner().invoke(app, [*args, "--dry-run", "--json"])
    assert dry.exit_code == 0, dry.output
    assert json.loads(dry.output)["article_text"] == {
        "articles": 2,
        "bytes": 2 * len(TEXT.encode()),
    }
    assert _snapshot(rt.sessions) == before
    done = CliRunner().invoke(app, [*args, "--vacuum"])
    assert done.exit_code == 0, done.output
    assert done.output.startswith("removed: text of 2 articles (")
    assert "kept: text of 2 old articles behind an alert" in done.output
    assert sum(1 for v in _snapshot(rt.sessions).values() if v[4]) == 2


@pytest.mark.parametrize("pruned", [False, True])
def test_articles_show_says_the_text_was_pruned(tmp_path: Path, pruned: bool) -> None:
    db = f"sqlite:///{tmp_path / 'm.db'}"
    rt = open_runtime(load_config(shipped_config_dir() / "monitor.yaml"), db, migrate=True)
    with transaction(rt.sessions) as s:
        row = _store(s, "one", timedelta(days=40))
    if pruned:
        prune(sessions=rt.sessions, clock=lambda: NOW, settings=RETENTION)
    rt.close()
    shown = CliRunner().invoke(app, ["articles", "show", str(row.id), "--db", db])
    expected = "(text pruned 2024-06-01T12:00:00+00:00)" if pruned else "(verified)"
    assert expected in shown.output, shown.output
