"""Level 1: the same item again (same canonical URL or URL, or the same title + text).

Entry GUIDs are checked earlier, by fetch, against every entry ever seen; this catches the
same article arriving through another feed or under another GUID. An article with no
content has no content hash, so two empty articles never count as the same item.
"""

from __future__ import annotations

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from monitor.errors import DedupError
from monitor.storage import stories as db
from monitor.types import Article


def find_same_item(*, session: Session, article: Article) -> str | None:
    """Key of an already-stored other article that is this same item, else None."""
    urls = list(dict.fromkeys(u for u in (article.canonical_url, article.url) if u))
    try:
        return db.same_item_key(
            session=session, key=article.key, urls=urls, content_hash=article.content_hash
        )
    except SQLAlchemyError as exc:
        raise DedupError(f"same-item lookup failed for {article.key!r}: {exc}") from exc
