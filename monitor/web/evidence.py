"""A story as the console shows it: the event as the alert shows it, each source with why
it joined, its text with what matched highlighted (what `monitor explain` shows)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.alert.settings import AlertsSettings
from monitor.alert.view import story_view
from monitor.classify.rules import severity_why
from monitor.codec import event_from_dict
from monitor.dedup.wording import in_words
from monitor.storage import stories as db
from monitor.storage.models import AlertRow, ArticleRow, Story
from monitor.types import RuleHit
from monitor.web.deliveries import alert_line

Segment = tuple[str, str | None]  # (text, what it matched: alias | keyword | toll | None)


def safe_link(url: str | None) -> str | None:
    """Only http(s) links are rendered: a javascript: URL from a feed never becomes one."""
    if url and urlsplit(url).scheme.lower() in ("http", "https"):
        return url
    return None


def marks_of(classification: dict[str, Any]) -> list[tuple[str, str]]:
    """(phrase, kind) to highlight, from the stored classification."""
    marks = [
        (str(m.get("text", "")), "alias")
        for e in classification.get("entities", ())
        for m in e.get("mentions", ())
    ]
    marks += [
        (str(ev.get("matched", "")), "keyword")
        for t in classification.get("incident_types", ())
        for ev in t.get("evidence", ())
    ]
    marks += [
        (str(s), "toll") for s in (classification.get("casualties") or {}).get("evidence", ())
    ]
    return [(p, k) for p, k in marks if p.strip()]


def highlight(text: str, marks: list[tuple[str, str]]) -> list[Segment]:
    """``text`` cut into segments, the marked phrases flagged; longer phrases win (a toll
    sentence holds the aliases and keywords inside it)."""
    spans: list[tuple[int, int, str]] = []
    for phrase, kind in sorted(set(marks), key=lambda m: -len(m[0])):
        for found in re.finditer(re.escape(phrase), text):
            start, end = found.span()
            if all(end <= s or start >= e for s, e, _ in spans):
                spans.append((start, end, kind))
    segments: list[Segment] = []
    at = 0
    for start, end, kind in sorted(spans):
        if start > at:
            segments.append((text[at:start], None))
        segments.append((text[start:end], kind))
        at = end
    if at < len(text):
        segments.append((text[at:], None))
    return segments


def story_detail(
    *, session: Session, story: Story, alerts: AlertsSettings | None = None
) -> dict[str, Any]:
    rows = db.story_articles(session=session, story_id=story.id)
    view = story_view(story, rows)
    settings = alerts or AlertsSettings()
    alert_rows = session.scalars(
        select(AlertRow).where(AlertRow.story_id == story.id).order_by(AlertRow.id)
    )
    return {
        "id": story.id,
        "headline": view.headline,
        "severity": view.severity,
        "muted": story.muted,
        "incident_types": list(view.incident_types),
        "place": view.place,
        "actors": list(view.entities),
        "date": (story.event or {}).get("date"),
        "killed": view.killed,
        "wounded": view.wounded,
        "summary": view.summary,
        "prior": view.prior,  # what the news followed on from, with its own place and toll
        "prior_actors": list(view.prior_actors),  # who did it, as far as its clauses say
        "first_seen": story.first_seen,
        "last_seen": story.last_seen,
        "sources": [_source(row) for row in rows],
        "alerts": [alert_line(a, settings) for a in alert_rows],
    }


def _source(row: ArticleRow) -> dict[str, Any]:
    classification = row.classification or {}
    marks = marks_of(classification)
    return {
        "article_id": row.id,
        "outlet": row.source or row.site_name,
        "title": row.title,
        "url": safe_link(row.canonical_url or row.url),
        "published": row.published_at or row.processed_at,
        "story_reason": row.story_reason,  # the grouper's figures, kept as written
        "story_why": in_words(row.story_reason),  # the same in words ("" if unknown shape)
        "pinned": row.pinned,
        "rules": [r.get("rule_id") for r in classification.get("rules", ())],
        "rule_reasons": _rule_reasons(classification),
        "title_segments": highlight(row.title or "", marks),
        "text_segments": highlight(row.text or "", marks),
        "matched": sorted({p for p, _ in marks if len(p) < 80}),
    }


def _rule_reasons(classification: dict[str, Any]) -> list[str]:
    """Each rule that fired on the article with why at its severity, as the alert says it:
    "strikes-on-kh (HIGH: escalated from medium, 3 killed)"."""
    out = []
    for r in classification.get("rules") or ():
        if isinstance(r, dict) and r.get("rule_id") and r.get("severity"):
            hit = RuleHit(str(r["rule_id"]), r["severity"], (), str(r.get("reason") or ""))
            out.append(f"{hit.rule_id} ({severity_why(hit)})")
    return out


def _event_first(story: Story) -> list[str]:
    """The story's own event's types first, then the others its reports named (stored
    sorted, since the order reports arrive in must not matter): the list leads with what
    the alert leads with."""
    own = list(event_from_dict(story.event).type_ids)
    return own + [t for t in story.incident_types or () if t not in own]


def story_summary(story: Story) -> dict[str, Any]:
    """One line of the story list."""
    return {
        "id": story.id,
        "headline": story.headline,
        "severity": story.severity,
        "muted": story.muted,
        "source_count": story.source_count,
        "incident_types": _event_first(story),
        "entities": [e.get("name", e.get("id")) for e in story.entities or []],
        "place": ((story.event or {}).get("place") or {}).get("name"),
        "first_seen": story.first_seen,
        "last_seen": story.last_seen,
    }
