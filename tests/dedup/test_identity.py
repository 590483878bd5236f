"""Level 1: the same item arriving again is recognised; empty content never matches."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy.orm import Session, sessionmaker

from monitor.dedup.identity import find_same_item

from .conftest import store
from .samples import ATTACK_FIRST, T0, WIRE


def _stored(sessions: sessionmaker[Session], *articles: object) -> None:
    with sessions.begin() as s:
        for article in articles:
            store(s, article, T0)  # type: ignore[arg-type]


def test_same_canonical_url_url_or_content(sessions: sessionmaker[Session]) -> None:
    canonical = replace(ATTACK_FIRST, canonical_url="http://127.0.0.1:8101/a/1")
    _stored(sessions, canonical, WIRE)
    by_canonical = replace(
        WIRE,
        key="x1",
        url="http://127.0.0.1:8106/1",
        title="t",
        text="other",
        canonical_url=canonical.canonical_url,
    )
    by_url = replace(WIRE, key="x2", title="t", text="other words")
    by_content = replace(WIRE, key="x3", url="http://127.0.0.1:8107/", text=" " + WIRE.text)
    with sessions() as s:
        assert find_same_item(session=s, article=by_canonical) == ATTACK_FIRST.key
        assert find_same_item(session=s, article=by_url) == WIRE.key
        assert find_same_item(session=s, article=by_content) == WIRE.key


def test_new_article_and_itself_are_not_same_items(sessions: sessionmaker[Session]) -> None:
    _stored(sessions, WIRE)
    fresh = replace(ATTACK_FIRST, key="new", url="http://127.0.0.1:8108/")
    with sessions() as s:
        assert find_same_item(session=s, article=fresh) is None
        assert find_same_item(session=s, article=WIRE) is None


def test_empty_content_never_matches(sessions: sessionmaker[Session]) -> None:
    empty = replace(WIRE, key="e1", url=None, title="", text="")
    _stored(sessions, empty)
    with sessions() as s:
        assert find_same_item(session=s, article=replace(empty, key="e2")) is None
