"""Articles as stored, read back: what rebuilding or merging a story reads of its members."""

from __future__ import annotations

from typing import Any

from monitor.codec import event_from_dict
from monitor.storage.models import ArticleRow
from monitor.storage.stories import MemberReading
from monitor.types import (
    Article,
    Casualties,
    Classification,
    EntityMatch,
    IncidentMatch,
    Mention,
    RuleHit,
)


def classification_from_json(data: dict[str, Any] | None) -> Classification:
    """The stored classification of an article, tolerating missing parts."""
    data = data or {}
    entities = tuple(
        EntityMatch(
            id=str(e["id"]),
            kind=str(e.get("kind", "")),
            name=str(e.get("name", e["id"])),
            mentions=tuple(
                Mention(
                    str(m.get("text", "")),
                    int(m.get("start", 0)),
                    int(m.get("end", 0)),
                    demonym=bool(m.get("demonym", False)),
                )
                for m in e.get("mentions", ())
            ),
        )
        for e in data.get("entities", ())
        if isinstance(e, dict) and "id" in e
    )
    types = tuple(
        IncidentMatch(
            id=str(t["id"]),
            label=str(t.get("label", t["id"])),
            score=float(t.get("score", 0)),
            threshold=float(t.get("threshold", 0)),
            acled=t.get("acled"),
        )
        for t in data.get("incident_types", ())
        if isinstance(t, dict) and "id" in t
    )
    cas = data.get("casualties") or {}
    rules = tuple(
        RuleHit(str(r.get("rule_id", "")), r["severity"], tuple(r.get("routes", ())), "")
        for r in data.get("rules", ())
        if isinstance(r, dict) and r.get("severity")
    )
    return Classification(
        incident_types=types,
        entities=entities,
        rules=rules,
        casualties=Casualties(
            killed=cas.get("killed"),
            wounded=cas.get("wounded"),
            # The phrases the figures came from: a rebuilt story shows them as a joined one does.
            evidence=tuple(str(e) for e in cas.get("evidence") or ()),
        ),
        event=event_from_dict(data.get("event")),
    )


def outlet_of(member: MemberReading) -> Article:
    """The article as far as its outlet goes (``aggregate.outlet``): no title, no text."""
    return Article(
        key=member.key,
        url=member.url,
        title="",
        text="",
        published=member.at,
        source=member.source,
        canonical_url=member.canonical_url,
        site_name=member.site_name,
    )


def article_of(row: ArticleRow) -> Article:
    """The article as stored, with what dedup reads of it (title, text, time, outlet)."""
    return Article(
        key=row.key,
        url=row.url,
        title=row.title or "",
        text=row.text or "",
        published=row.published_at,
        source=row.source,
        canonical_url=row.canonical_url,
        site_name=row.site_name,
    )
