"""Retention: old article text and raw HTML are pruned; identities and alert evidence stay.

Kept for ever:
- ``entries``: every entry key (GUID or link) ever seen, so fetch never counts it new again;
- each article row's identity: key, URLs, content hash, title, metadata, classification and
  story, so the same item arriving under another GUID or feed is still recognised;
- the text of every article whose story alerted, or that an alert names: it is the
  evidence behind a message that was sent.

Pruned: ``articles.text`` after ``storage.retention.article_text`` (then ``text_pruned_at``
is set) and ``articles.raw_html`` after ``storage.retention.raw_html``, both counted from
when the article was processed. Work goes in small batches, each its own transaction, so
the poller is never locked out of the database for long.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Integer, and_, func, not_, or_, select, update
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import InstrumentedAttribute, Session, sessionmaker
from sqlalchemy.sql.functions import FunctionElement

from monitor.storage.db import transaction
from monitor.storage.models import AlertRow, ArticleRow, Story
from monitor.storage.settings import RetentionSettings
from monitor.units import counted

BATCH = 500


class byte_length(FunctionElement[int]):  # a SQL function, named like one
    """Size in bytes of a text column (UTF-8), on every backend."""

    type = Integer()
    inherit_cache = True


@compiles(byte_length)
def _octet_length(element: byte_length, compiler: Any, **kw: Any) -> str:
    return f"octet_length({compiler.process(element.clauses, **kw)})"


@compiles(byte_length, "sqlite")
def _blob_length(element: byte_length, compiler: Any, **kw: Any) -> str:
    return f"length(CAST({compiler.process(element.clauses, **kw)} AS BLOB))"


@dataclass(frozen=True)
class Removed:
    """What one kind of content pruning removes (or would)."""

    articles: int = 0
    bytes: int = 0

    def __add__(self, other: Removed) -> Removed:
        return Removed(self.articles + other.articles, self.bytes + other.bytes)


@dataclass(frozen=True)
class PruneReport:
    article_text: Removed
    raw_html: Removed
    text_kept_for_alerts: int  # old enough to go, kept as the evidence of an alert
    dry_run: bool

    def as_json(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "article_text": {"articles": self.article_text.articles,
                             "bytes": self.article_text.bytes},
            "raw_html": {"articles": self.raw_html.articles, "bytes": self.raw_html.bytes},
            "text_kept_for_alerts": self.text_kept_for_alerts,
        }  # fmt: skip


def _behind_an_alert() -> ColumnElement[bool]:
    alerted_stories = select(Story.id).where(Story.alerted.is_(True))
    alerted_articles = select(AlertRow.article_id).where(AlertRow.article_id.is_not(None))
    # story_id IS NOT NULL first: "NULL IN (...)" is NULL, and NOT NULL would keep the text
    # of every article without a story.
    in_alerted_story = and_(
        ArticleRow.story_id.is_not(None), ArticleRow.story_id.in_(alerted_stories)
    )
    return or_(in_alerted_story, ArticleRow.id.in_(alerted_articles))


def _old_text(now: datetime, settings: RetentionSettings) -> ColumnElement[bool] | None:
    if settings.article_text is None:
        return None
    return and_(
        ArticleRow.processed_at < now - settings.article_text,
        ArticleRow.text_pruned_at.is_(None),
        ArticleRow.text != "",
    )


def _old_html(now: datetime, settings: RetentionSettings) -> ColumnElement[bool] | None:
    if settings.raw_html is None:
        return None
    return and_(ArticleRow.processed_at < now - settings.raw_html, ArticleRow.raw_html.is_not(None))


def plan_prune(*, session: Session, now: datetime, settings: RetentionSettings) -> PruneReport:
    """What ``prune`` would remove at ``now``, changing nothing."""
    old_text, old_html = _old_text(now, settings), _old_html(now, settings)
    text = html = Removed()
    kept = 0
    if old_text is not None:
        text = _measure(session, ArticleRow.text, and_(old_text, not_(_behind_an_alert())))
        kept = _measure(session, ArticleRow.text, and_(old_text, _behind_an_alert())).articles
    if old_html is not None:
        html = _measure(session, ArticleRow.raw_html, old_html)
    return PruneReport(text, html, kept, dry_run=True)


def prune(
    *,
    sessions: sessionmaker[Session],
    clock: Callable[[], datetime],
    settings: RetentionSettings,
    batch: int = BATCH,
) -> PruneReport:
    """Remove what ``plan_prune`` reports, ``batch`` articles per transaction."""
    now = clock()
    with transaction(sessions) as session:
        planned = plan_prune(session=session, now=now, settings=settings)
    text = html = Removed()
    old_text, old_html = _old_text(now, settings), _old_html(now, settings)
    if old_text is not None:
        cleared = {"text": "", "text_pruned_at": now}
        where = and_(old_text, not_(_behind_an_alert()))
        text = _in_batches(sessions, ArticleRow.text, where, cleared, batch)
    if old_html is not None:
        html = _in_batches(sessions, ArticleRow.raw_html, old_html, {"raw_html": None}, batch)
    return PruneReport(text, html, planned.text_kept_for_alerts, dry_run=False)


def _measure(
    session: Session, column: InstrumentedAttribute[Any], where: ColumnElement[bool]
) -> Removed:
    count, size = session.execute(
        select(func.count(ArticleRow.id), func.coalesce(func.sum(byte_length(column)), 0)).where(
            where
        )
    ).one()
    return Removed(int(count), int(size))


def _in_batches(
    sessions: sessionmaker[Session],
    column: InstrumentedAttribute[Any],
    where: ColumnElement[bool],
    values: dict[str, Any],
    batch: int,
) -> Removed:
    total = Removed()
    after = 0  # walk the ids upwards: each batch starts where the last one ended
    while True:
        with transaction(sessions) as session:
            query = select(ArticleRow.id).where(where, ArticleRow.id > after)
            ids = list(session.scalars(query.order_by(ArticleRow.id).limit(batch)))
            if not ids:
                return total
            after = ids[-1]
            total += _measure(session, column, ArticleRow.id.in_(ids))
            session.execute(
                update(ArticleRow)
                .where(ArticleRow.id.in_(ids))
                .values(**values)
                .execution_options(synchronize_session=False)
            )


def describe(report: PruneReport) -> str:
    """One line an operator reads: what went (or would go) and what was kept."""
    verb = "would remove" if report.dry_run else "removed"
    text, html = report.article_text, report.raw_html
    return (
        f"{verb}: text of {counted(text.articles, 'article')} ({_size(text.bytes)}), "
        f"raw HTML of {counted(html.articles, 'article')} ({_size(html.bytes)}); "
        f"kept: text of {counted(report.text_kept_for_alerts, 'old article')} behind an alert"
    )


def _size(n: int) -> str:
    for unit, scale in (("GB", 10**9), ("MB", 10**6), ("kB", 10**3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} B"
