"""Stored articles: listing, lookup and raw-HTML retention (on SQLite and PostgreSQL)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from monitor.storage.articles import (
    get_article,
    insert_article,
    prune_raw_html,
    recent_articles,
)
from monitor.storage.db import transaction
from monitor.storage.models import AlertRow, ArticleRow, Story
from monitor.types import Article

BASE = Article(
    key="k0",
    url="https://a.example/1",
    title="Drone strike on a depot",
    text="A drone struck a fuel depot overnight.",
    published=None,
    text_source="page",
    feed_url="https://a.example/feed",
    raw_html="<html><body><p>A drone struck a fuel depot overnight.</p></body></html>",
)


def _store(session: Session, now: datetime, n: int, **changes: object) -> ArticleRow:
    article = replace(BASE, key=f"k{n}", **changes)  # type: ignore[arg-type]
    return insert_article(session=session, article=article, classification={}, now=now)


def test_recent_articles_newest_first_and_by_feed(
    sessions: sessionmaker[Session], now: datetime
) -> None:
    with transaction(sessions) as s:
        for n in range(4):
            feed = "https://b.example/feed" if n == 2 else BASE.feed_url
            _store(s, now + timedelta(minutes=n), n, feed_url=feed)
    with sessions() as s:
        assert [r.key for r in recent_articles(session=s)] == ["k3", "k2", "k1", "k0"]
        assert [r.key for r in recent_articles(session=s, limit=2)] == ["k3", "k2"]
        only_b = recent_articles(session=s, feed_url="https://b.example/feed")
        assert [r.key for r in only_b] == ["k2"]
        row = get_article(session=s, article_id=only_b[0].id)
        assert row is not None and row.text_hash == BASE.content_hash
        assert get_article(session=s, article_id=999_999) is None


def test_prune_raw_html_keeps_text_and_recent_pages(
    sessions: sessionmaker[Session], now: datetime
) -> None:
    with transaction(sessions) as s:
        old = _store(s, now - timedelta(days=10), 1)
        alerted = _store(s, now - timedelta(days=10), 2)
        fresh = _store(s, now - timedelta(days=1), 3)
        story = Story(headline="x", first_seen=now, last_seen=now)
        s.add(story)
        s.flush()
        s.add(
            AlertRow(
                story_id=story.id, article_id=alerted.id, route="r", kind="new", created_at=now
            )
        )
        ids = (old.id, alerted.id, fresh.id)
    with transaction(sessions) as s:
        assert prune_raw_html(session=s, now=now, retention=timedelta(days=7)) == 2
    with transaction(sessions) as s:
        assert prune_raw_html(session=s, now=now, retention=timedelta(days=7)) == 0
    with sessions() as s:
        rows = [get_article(session=s, article_id=i) for i in ids]
        assert [r.raw_html is None for r in rows if r] == [True, True, False]
        # The evidence itself is untouched, alerted or not.
        assert all(r and r.text == BASE.text and r.text_hash == BASE.content_hash for r in rows)
