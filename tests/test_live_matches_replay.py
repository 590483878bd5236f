"""An article is grouped with the stories active around its own time, live as in replay.

`monitor replay` treats each article as of its publication; a live poll today of reports
published long ago (a new feed's backlog, an archive import, a catch-up after an outage)
must group them the same way, whatever the wall clock says, so that a replay stays an
honest backtest of `monitor run`.
"""

from __future__ import annotations

import asyncio
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from monitor.cli import app
from monitor.config import load_config
from monitor.demo.site import DemoArticle, DemoSite, load_articles
from monitor.resources import shipped_config_dir
from monitor.runtime import open_runtime, poll_once
from monitor.storage.db import make_engine, session_factory
from monitor.storage.models import ArticleRow

pytestmark = pytest.mark.slow

Grouping = set[frozenset[str]]


def our_samples_of_2020() -> list[DemoArticle]:
    """The demo's four articles, as published in March 2020 (long before "today")."""
    return load_articles(datetime(2020, 3, 21, 18, 0, tzinfo=UTC))


def config_text(feeds: list[tuple[str, str]]) -> str:
    """The shipped watchlists and dedup defaults (a 3-day window); old articles may alert."""
    shipped = shipped_config_dir()
    listed = "".join(f"\n  - url: {u}\n    name: {n}" for u, n in feeds) or " []"
    return (
        f"feeds:{listed}\nwatchlists:\n  - {shipped / 'taxonomy.yaml'}\n"
        f"  - {shipped / 'watchlists'}/*.yaml\nfetch:\n  allow_private_addresses: true\n"
        "alerts:\n  max_age: 5000d\n  routes:\n    default: {type: console}\n"
    )


def poll(tmp_path: Path, feeds: list[tuple[str, str]], db_url: str, *, first: bool) -> None:
    """One `monitor poll --once`: a fresh process, so a fresh story index."""
    path = tmp_path / "monitor.yaml"
    path.write_text(config_text(feeds), encoding="utf-8")
    rt = open_runtime(load_config(path), db_url, migrate=first)
    rt.console = io.StringIO()
    try:
        asyncio.run(poll_once(rt))
    finally:
        rt.close()


def live_grouping(db_url: str, slug_of: dict[str, str]) -> Grouping:
    engine = make_engine(db_url)
    try:
        with session_factory(engine)() as s:
            rows = s.execute(select(ArticleRow.url, ArticleRow.story_id)).all()
    finally:
        engine.dispose()
    stories = {}
    for url, story in rows:
        assert url is not None and story is not None, (url, story)  # polled and grouped
        stories[slug_of[url.rsplit("/", 1)[-1]]] = story
    return grouping(stories)


def replay_grouping(tmp_path: Path, articles: list[DemoArticle]) -> Grouping:
    path = tmp_path / "replay.jsonl"
    lines = [
        {
            "id": a.slug,
            "title": a.title,
            "text": "\n\n".join(a.paragraphs),
            "published": a.published.isoformat(),
            "source": a.outlet_name,
        }
        for a in sorted(articles, key=lambda a: a.published)
    ]
    path.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    (tmp_path / "replay.yaml").write_text(config_text([]), encoding="utf-8")
    args = ["replay", str(path), "--config", str(tmp_path / "replay.yaml")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    out = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    return grouping({o["id"]: o["story_id"] for o in out})


def grouping(story_of: dict[str, int]) -> Grouping:
    groups: dict[int, set[str]] = {}
    for slug, story in story_of.items():
        groups.setdefault(story, set()).add(slug)
    return {frozenset(g) for g in groups.values()}


def page_slugs(articles: list[DemoArticle]) -> dict[str, str]:
    return {f"{a.slug}.html": a.slug for a in articles}


def test_old_reports_polled_today_in_one_poll_group_as_replay_does(tmp_path: Path) -> None:
    articles = our_samples_of_2020()
    db_url = f"sqlite:///{tmp_path / 'live.db'}"
    with DemoSite(articles) as site:
        poll(tmp_path, site.feed_urls(), db_url, first=True)
    live = live_grouping(db_url, page_slugs(articles))
    assert live == replay_grouping(tmp_path, articles)
    assert frozenset({"taji-rocket-attack-us-strikes", "iraq-militia-strikes-reaction"}) in live
    assert len(live) == 3  # the week-later barrage and the harvest each alone


def test_old_reports_polled_today_one_outlet_per_run_group_as_replay_does(
    tmp_path: Path,
) -> None:
    """The second outlet's feed is added later, in a new process: its report of a 2020
    event must still meet the story the first outlet's report started."""
    articles = our_samples_of_2020()
    db_url = f"sqlite:///{tmp_path / 'live.db'}"
    with DemoSite(articles) as site:
        northgate, riverside = site.feed_urls()
        poll(tmp_path, [northgate], db_url, first=True)
        poll(tmp_path, [northgate, riverside], db_url, first=False)
    live = live_grouping(db_url, page_slugs(articles))
    assert live == replay_grouping(tmp_path, articles)
    assert frozenset({"taji-rocket-attack-us-strikes", "iraq-militia-strikes-reaction"}) in live


@pytest.mark.parametrize("one_run", [True, False], ids=["one-poll", "one-outlet-per-run"])
def test_the_seeds_polled_today_are_one_story_as_in_replay(
    tmp_path: Path, seed_articles: list[DemoArticle], one_run: bool
) -> None:
    articles = seed_articles
    db_url = f"sqlite:///{tmp_path / 'live.db'}"
    with DemoSite(articles) as site:
        feeds = site.feed_urls()
        if one_run:
            poll(tmp_path, feeds, db_url, first=True)
        else:
            poll(tmp_path, feeds[:1], db_url, first=True)
            poll(tmp_path, feeds, db_url, first=False)
    live = live_grouping(db_url, page_slugs(articles))
    assert live == replay_grouping(tmp_path, articles) == {frozenset({"taji", "strikes"})}
