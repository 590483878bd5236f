"""Stored articles: listing and lookup (on SQLite and PostgreSQL); retention is in
tests/test_retention.py."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from monitor.storage.articles import (
    get_article,
    insert_article,
    recent_articles,
)
from monitor.storage.db import transaction
from monitor.storage.models import ArticleRow
from monitor.types import Article

BASE = Article(
    key="k0",
    url="http://127.0.0.1:8001/1",
    title="Drone strike on a depot",
    text="A drone struck a fuel depot overnight.",
    published=None,
    text_source="page",
    feed_url="http://127.0.0.1:8001/feed",
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
            feed = "http://127.0.0.1:8002/feed" if n == 2 else BASE.feed_url
            _store(s, now + timedelta(minutes=n), n, feed_url=feed)
    with sessions() as s:
        assert [r.key for r in recent_articles(session=s)] == ["k3", "k2", "k1", "k0"]
        assert [r.key for r in recent_articles(session=s, limit=2)] == ["k3", "k2"]
        only_b = recent_articles(session=s, feed_url="http://127.0.0.1:8002/feed")
        assert [r.key for r in only_b] == ["k2"]
        row = get_article(session=s, article_id=only_b[0].id)
        assert row is not None and row.text_hash == BASE.content_hash
        assert get_article(session=s, article_id=999_999) is None
