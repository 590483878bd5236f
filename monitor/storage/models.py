"""Tables. The feed *list* lives in YAML config (plus feeds added at run time from the
console, whose row is their definition); the database holds state and history.

feeds         fetch state per feed (ETag, backoff, health); console-added feeds' definition
entries       every entry identity ever seen; never pruned, so an old entry never alerts again
backlog_entries  parsed entries of a big feed beyond the per-poll budget, waiting their turn
articles      text + metadata kept as evidence, with the classification made of it; old text
              and raw HTML are pruned (storage/retention.py), the row and its identity stay
stories       one row per real-world event; articles point at their story
alerts        the outbox: one row per (story, route, kind); dispatched with retries
story_messages  where a story's alert landed per route (Slack channel + ts), for updates
story_facets  what the story list filters on (rule, incident type, entity, place, source),
              one indexed row per value, kept in step by storage/facets.py
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from monitor.storage.base import Base, UTCDateTime


class Feed(Base):
    __tablename__ = "feeds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    configured_url: Mapped[str] = mapped_column(String(2048), unique=True)
    url: Mapped[str] = mapped_column(String(2048))  # current URL (after 301/308)
    title: Mapped[str | None] = mapped_column(String(512))
    etag: Mapped[str | None] = mapped_column(String(1024))
    last_modified: Mapped[str | None] = mapped_column(String(256))
    body_hash: Mapped[str | None] = mapped_column(String(64))
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_new_entry_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    consecutive_errors: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_warning: Mapped[str | None] = mapped_column(Text)  # recovered parse problem
    # Entry keys handed to the pipeline and not yet marked seen. While any is unseen the
    # stored validators are not sent, so a crash mid-way re-fetches instead of a 304.
    pending_keys: Mapped[list[str] | None] = mapped_column(JSON)
    # Entries waiting in backlog_entries: while any wait, a poll hands them out instead of
    # downloading the feed again.
    backlog: Mapped[int] = mapped_column(Integer, default=0)
    next_poll_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    interval_seconds: Mapped[int | None] = mapped_column(Integer)
    gone: Mapped[bool] = mapped_column(Boolean, default=False)
    # Mirrors of the config, written by sync_feeds, so due_feeds needs no config.
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    in_config: Mapped[bool] = mapped_column(Boolean, default=True)
    entries_seen: Mapped[int] = mapped_column(Integer, default=0)
    # "config" (defined in YAML; sync_feeds mirrors it) or "console" (added at run time
    # from the console or /api/v1: this row is its definition, in_config says it is listed).
    origin: Mapped[str] = mapped_column(String(16), default="config")
    name: Mapped[str | None] = mapped_column(String(512))  # a console feed's outlet name
    # Paused from the console, either origin; kept across restarts (config's own `paused`
    # is the mirror above, so an operator's pause never changes what YAML says).
    operator_paused: Mapped[bool] = mapped_column(Boolean, default=False)
    added_by: Mapped[str | None] = mapped_column(String(128))
    added_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Replica work claiming: a replica leases a due feed until this time.
    lease_owner: Mapped[str | None] = mapped_column(String(128))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Entry(Base):
    __tablename__ = "entries"
    __table_args__ = (UniqueConstraint("feed_id", "entry_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    feed_id: Mapped[int] = mapped_column(ForeignKey("feeds.id", ondelete="CASCADE"), index=True)
    entry_key: Mapped[str] = mapped_column(String(2048))
    url: Mapped[str | None] = mapped_column(String(2048), index=True)
    title: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)


class BacklogEntry(Base):
    """A new entry beyond fetch.max_entries_per_poll, kept as parsed until a poll hands it out.

    Rows are deleted when handed out; the feed's pending_keys then cover a crash before
    the entry is processed, as for entries handed out straight from a download.
    """

    __tablename__ = "backlog_entries"
    __table_args__ = (UniqueConstraint("feed_id", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    feed_id: Mapped[int] = mapped_column(ForeignKey("feeds.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)  # oldest first
    entry_key: Mapped[str] = mapped_column(String(2048))
    url: Mapped[str | None] = mapped_column(Text)
    title: Mapped[str] = mapped_column(Text, default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Minutes east of UTC the feed wrote the date with: published_at is stored in UTC, and
    # the offset is the entry's own calendar day, from which "today" in its text counts.
    published_offset: Mapped[int | None] = mapped_column(Integer)
    author: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(Text)
    stored_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Story(Base):
    __tablename__ = "stories"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    headline: Mapped[str] = mapped_column(Text, default="")
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    severity: Mapped[str | None] = mapped_column(String(16))
    incident_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    acled_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    entities: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    casualties: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The main event its sources agree on (type, place, actors, date, toll, evidence).
    event: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # When this service first saw the story (first_seen is the earliest publication time).
    discovered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    routes: Mapped[list[str]] = mapped_column(JSON, default=list)
    source_count: Mapped[int] = mapped_column(Integer, default=0)
    alerted: Mapped[bool] = mapped_column(Boolean, default=False)
    muted: Mapped[bool] = mapped_column(Boolean, default=False)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("stories.id"))
    # Dedup's compact description of the story (centroid terms, entity ids, ...).
    features: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Bumped on every change (one sequence for all stories) so each replica's in-memory
    # index can reload exactly the stories changed since it last looked.
    revision: Mapped[int] = mapped_column(Integer, default=0, index=True)
    # Dedup's candidate keys of the story, written with ``features``: the story index files
    # every open story under them at start-up without decoding each one's features.
    index_keys: Mapped[list[str] | None] = mapped_column(JSON)
    # The same keys as 64-bit hashes, and the story's articles with their MinHash band
    # keys (article id and 16 band keys per article, packed 64-bit integers): what a start
    # loads of every open story, in one narrow query with nothing to decode row by row.
    index_hashes: Mapped[bytes | None] = mapped_column(LargeBinary)
    index_members: Mapped[bytes | None] = mapped_column(LargeBinary)


class StoryFacet(Base):
    """One value a story list filter can ask for, e.g. ("rule", "iraq-strikes").

    Derived from the story and its articles by storage/facets.py whenever they change, so
    a filter is an index lookup instead of a scan of every story's JSON.
    """

    __tablename__ = "story_facets"
    __table_args__ = (Index("ix_story_facets_lookup", "kind", "value", "story_id"),)

    story_id: Mapped[int] = mapped_column(
        ForeignKey("stories.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    value: Mapped[str] = mapped_column(Text, primary_key=True)


class ArticleRow(Base):
    __tablename__ = "articles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(2048), unique=True)
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("entries.id", ondelete="SET NULL"))
    feed_url: Mapped[str | None] = mapped_column(String(2048), index=True)
    url: Mapped[str | None] = mapped_column(String(2048), index=True)
    canonical_url: Mapped[str | None] = mapped_column(String(2048), index=True)
    title: Mapped[str] = mapped_column(Text, default="")
    text: Mapped[str] = mapped_column(Text, default="")
    text_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    text_source: Mapped[str] = mapped_column(String(16), default="input")
    text_source_reason: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(String(512))
    author: Mapped[str | None] = mapped_column(String(512))
    site_name: Mapped[str | None] = mapped_column(String(512))
    language: Mapped[str | None] = mapped_column(String(16))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    # What the source claimed when it was not believed (0001-01-01, a date in 2100);
    # published_at then holds the first-seen time.
    published_raw: Mapped[str | None] = mapped_column(String(64))
    processed_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    raw_html: Mapped[str | None] = mapped_column(Text)
    # When retention cleared ``text`` (``text_hash`` still records what it was).
    text_pruned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    classification: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Longer than classify.max_text_chars: stored whole, classified and deduplicated on
    # its first part only (classification.analysed_chars characters of the text).
    text_truncated: Mapped[bool] = mapped_column(Boolean, default=False)
    severity: Mapped[str | None] = mapped_column(String(16))
    story_id: Mapped[int | None] = mapped_column(ForeignKey("stories.id"), index=True)
    duplicate_of_key: Mapped[str | None] = mapped_column(String(2048))
    similarity: Mapped[float | None] = mapped_column(Float)
    # Why dedup put it in its story (the best candidate's scores), for the console.
    story_reason: Mapped[str | None] = mapped_column(Text)
    # Set by `monitor stories split`: dedup must not move this article back.
    pinned: Mapped[bool] = mapped_column(Boolean, default=False)
    # Near-copy sketch (MinHash values, embedding, targets), owned by dedup.
    sketch: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Also dedup's, kept apart so the story index loads 200,000 of them in a second: the
    # MinHash band keys (packed 64-bit integers) and the terms that teach document
    # frequencies (space-separated).
    sketch_bands: Mapped[bytes | None] = mapped_column(LargeBinary)
    sketch_terms: Mapped[str | None] = mapped_column(Text)


class AlertRow(Base):
    """The outbox. Written in the same transaction as the story change that caused it."""

    __tablename__ = "alerts"
    __table_args__ = (
        UniqueConstraint("story_id", "route", "kind", "article_id", name="uq_alerts_identity"),
        Index("ix_alerts_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # None only for a test alert (kind "test", sent from the console to check a route).
    story_id: Mapped[int | None] = mapped_column(ForeignKey("stories.id"), index=True)
    article_id: Mapped[int | None] = mapped_column(ForeignKey("articles.id"))
    route: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(16))  # new | update | correction | test
    severity: Mapped[str | None] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    # Set when a send was first tried: from then on a bot route looks the alert up in the
    # channel before sending again, because an earlier attempt may have landed.
    first_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    channel: Mapped[str | None] = mapped_column(String(128))  # where it landed
    message_ts: Mapped[str | None] = mapped_column(String(64))  # Slack ts of the message
    # Replica work claiming for the dispatcher.
    lease_owner: Mapped[str | None] = mapped_column(String(128))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class StoryMessage(Base):
    """Where a story's alert was posted on a route, so later sources update it in place."""

    __tablename__ = "story_messages"
    __table_args__ = (UniqueConstraint("story_id", "route"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id"), index=True)
    route: Mapped[str] = mapped_column(String(128))
    channel: Mapped[str | None] = mapped_column(String(128))
    ts: Mapped[str | None] = mapped_column(String(64))
    last_update_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # What the message on this route showed when last sent (severity, types, place, names,
    # toll): the "before" an update's changes are measured against, kept here rather than
    # in memory so a restart or another replica reports the same changes.
    shown: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class AuditEntry(Base):
    """Who did what through the web console or API, and when."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(256))
    detail: Mapped[str | None] = mapped_column(Text)


class Feedback(Base):
    """An operator's verdict on what a rule alerted on ("not relevant"), per rule."""

    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(128))
    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id"), index=True)
    rule_id: Mapped[str] = mapped_column(String(256), index=True)
    verdict: Mapped[str] = mapped_column(String(32))
