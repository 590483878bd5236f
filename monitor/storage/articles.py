"""Purpose-named queries on stored articles (the evidence behind classifications and alerts)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.storage.models import ArticleRow
from monitor.types import Article


def insert_article(
    *, session: Session, article: Article, classification: dict[str, Any], now: datetime
) -> ArticleRow:
    """Store an article with its text, hash and classification; flushes to get its id."""
    row = ArticleRow(
        key=article.key,
        feed_url=article.feed_url,
        url=article.url,
        canonical_url=article.canonical_url,
        title=article.title,
        text=article.text,
        text_hash=article.content_hash,
        text_source=article.text_source,
        text_source_reason=article.text_source_reason,
        source=article.source,
        author=article.author,
        site_name=article.site_name,
        language=article.language,
        published_at=article.published,
        published_raw=article.published_raw,
        processed_at=now,
        raw_html=article.raw_html,
        classification=classification,
        severity=classification.get("severity"),
        text_truncated=classification.get("analysed_chars") is not None,
    )
    session.add(row)
    session.flush()
    return row


def article_by_key(*, session: Session, key: str) -> ArticleRow | None:
    return session.scalars(select(ArticleRow).where(ArticleRow.key == key)).one_or_none()


def get_article(*, session: Session, article_id: int) -> ArticleRow | None:
    return session.get(ArticleRow, article_id)


def recent_articles(
    *, session: Session, feed_url: str | None = None, limit: int = 50
) -> list[ArticleRow]:
    """Newest first by processing time (then id, for a stable order)."""
    query = select(ArticleRow).order_by(ArticleRow.processed_at.desc(), ArticleRow.id.desc())
    if feed_url is not None:
        query = query.where(ArticleRow.feed_url == feed_url)
    return list(session.scalars(query.limit(limit)))
