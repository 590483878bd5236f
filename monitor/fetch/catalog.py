"""Feeds managed at run time (the console and /api/v1): add, pause, resume, remove, import
OPML. Stored in the database beside the YAML feeds; the scheduler claims due feeds from the
database every tick, so a change takes effect without a restart.

YAML stays the source for what it defines: a YAML feed cannot be removed here (edit the
file), and adding a URL the YAML lists is refused. A YAML feed may be paused and resumed
here (the pause is kept in the database, across restarts); one paused in the YAML stays
paused whatever the console says. URLs follow the config's rules (http or https with a
host); the fetcher's address guard still applies when the feed is fetched.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from pydantic import ValidationError
from sqlalchemy.orm import Session

from monitor.errors import ConfigError, FeedListError
from monitor.fetch.opml import parse_opml
from monitor.fetch.settings import FeedConfig
from monitor.storage import feeds as q
from monitor.storage.models import Feed

MAX_URL = 2048  # the column's width
MAX_OPML_BYTES = 2 * 2**20


@dataclass(frozen=True)
class ImportReport:
    """What an OPML import did: feeds added, listed already, and each bad entry's problem."""

    added: tuple[str, ...]
    listed: tuple[str, ...]
    errors: tuple[str, ...]


def feed_definition(url: str, name: str | None = None) -> FeedConfig:
    """A feed as the config would accept it; FeedListError saying what is wrong."""
    url, name = url.strip(), (name or "").strip() or None
    if len(url) > MAX_URL:
        raise FeedListError(f"the URL is longer than {MAX_URL} characters")
    if name is not None and len(name) > 512:
        raise FeedListError("the name is longer than 512 characters")
    try:
        return FeedConfig(url=url, name=name)
    except ValidationError as exc:
        raise FeedListError(str(exc.errors()[0]["msg"]).removeprefix("Value error, ")) from exc


def add_feed(*, session: Session, feed: FeedConfig, actor: str, now: datetime) -> None:
    listed = q.listed_feed(session=session, url=feed.url)
    if listed is not None:
        where = "in the YAML config" if listed.origin == q.CONFIG else "from the console"
        raise FeedListError(f"{feed.url} is listed already ({where})")
    q.add_console_feed(session=session, feed=feed, actor=actor, now=now)


def pause_feed(*, session: Session, url: str, paused: bool) -> None:
    """Pause or resume a listed feed; a resumed feed is polled when it is next due."""
    _listed(session, url).operator_paused = paused


def remove_feed(*, session: Session, url: str) -> None:
    row = _listed(session, url)
    if row.origin != q.CONSOLE:
        raise FeedListError(
            f"{url} is defined in the YAML config: remove it there (it can be paused here)"
        )
    q.unlist_console_feed(session=session, row=row)


def import_opml(*, session: Session, data: bytes, actor: str, now: datetime) -> ImportReport:
    """Add every feed of an OPML document not listed yet; bad outlines are reported, the
    good ones still added. FeedListError when the document is not OPML at all."""
    if len(data) > MAX_OPML_BYTES:
        raise FeedListError(f"the OPML file is larger than {MAX_OPML_BYTES // 2**20} MiB")
    try:
        feeds, errors = parse_opml(data, "OPML")
    except ConfigError as exc:
        raise FeedListError(str(exc)) from exc
    added, listed = [], []
    for feed in feeds:
        if len(feed.url) > MAX_URL:
            errors.append(f"OPML: outline {feed.url[:60]!r}...: URL too long")
        elif q.add_console_feed(session=session, feed=feed, actor=actor, now=now):
            added.append(feed.url)
        else:
            listed.append(feed.url)
    return ImportReport(tuple(added), tuple(listed), tuple(errors))


def feeds_to_poll(*, session: Session, configured: Sequence[FeedConfig]) -> list[FeedConfig]:
    """What a poll pass covers: YAML feeds not paused (in the YAML or from the console),
    then the listed console feeds not paused."""
    held = {h.configured_url for h in q.feed_health(session=session) if h.operator_paused}
    active = [f for f in configured if not f.paused and f.url not in held]
    return active + [f for f in q.console_feeds(session=session) if f.url not in held]


def _listed(session: Session, url: str) -> Feed:
    row = q.listed_feed(session=session, url=url.strip())
    if row is None:
        raise FeedListError(f"no listed feed {url}")
    return row
