"""Values of monitor/types.py <-> JSON-ready dicts, for storage and `--json` output."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Any

from monitor.types import (
    Actor,
    Casualties,
    Classification,
    EntityMatch,
    Event,
    EventEvidence,
    IncidentMatch,
    Mention,
    Place,
    RuleHit,
)


def classification_to_dict(c: Classification) -> dict[str, Any]:
    """Every field of the classification plus the derived views replay and alerts use."""
    data = asdict(c)
    data["event"] = event_to_dict(c.event)
    data["incident_type_ids"] = c.incident_type_ids
    data["acled_sub_event_types"] = c.acled_sub_event_types
    data["severity"] = c.severity
    data["routes"] = list(c.routes)
    return data


def classification_from_dict(data: dict[str, Any] | None) -> Classification:
    """A stored ``classification_to_dict``, read back, tolerating missing parts."""
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


def entity_to_dict(e: EntityMatch) -> dict[str, Any]:
    """The replay/`--json` shape of an entity: id, kind, name, mentions (text, start, end,
    and ``demonym: true`` for "Iraqi"-type mentions)."""
    return {
        "id": e.id,
        "kind": e.kind,
        "name": e.name,
        "mentions": [_mention_to_dict(m) for m in e.mentions],
    }


def event_to_dict(e: Event) -> dict[str, Any]:
    """The replay/`--json`/stored shape of an event; nulls where unknown."""
    return {
        "incident_type": e.incident_type,
        "secondary_types": list(e.secondary_types),
        "place": (
            {"id": e.place.id, "name": e.place.name, "ancestors": list(e.place.ancestors)}
            if e.place
            else None
        ),
        "actors": [
            {"id": a.id, "name": a.name, "role": a.role, **({"by": list(a.by)} if a.by else {})}
            for a in e.actors
        ],
        "date": e.date.isoformat() if e.date else None,
        "killed": e.killed,
        "wounded": e.wounded,
        "evidence": [
            {"field": x.field, "sentence": x.sentence, "matched": x.matched} for x in e.evidence
        ],
        "outranked": list(e.outranked),
        "prior": event_to_dict(e.prior) if e.prior else None,
    }


def event_from_dict(data: dict[str, Any] | None) -> Event:
    """A stored event back as a value; what is missing or malformed reads as unknown."""
    data = data or {}
    place = data.get("place")
    return Event(
        incident_type=data.get("incident_type") or None,
        secondary_types=tuple(str(t) for t in data.get("secondary_types") or ()),
        outranked=tuple(str(t) for t in data.get("outranked") or ()),
        place=(
            Place(
                str(place["id"]),
                str(place.get("name", place["id"])),
                tuple(str(a) for a in place.get("ancestors") or ()),
            )
            if isinstance(place, dict) and place.get("id")
            else None
        ),
        actors=tuple(
            Actor(
                str(a["id"]),
                str(a.get("name", a["id"])),
                a.get("role") or "involved",
                tuple(str(x) for x in by) if isinstance(by := a.get("by"), list) else (),
            )
            for a in data.get("actors") or ()
            if isinstance(a, dict) and a.get("id") and a.get("role") in (None, *_ROLES)
        ),
        date=_date(data.get("date")),
        killed=_count(data.get("killed")),
        wounded=_count(data.get("wounded")),
        evidence=tuple(
            EventEvidence(
                str(x.get("field", "")), str(x.get("sentence", "")), str(x.get("matched", ""))
            )
            for x in data.get("evidence") or ()
            if isinstance(x, dict)
        ),
        prior=event_from_dict(prior) if isinstance(prior := data.get("prior"), dict) else None,
    )


_ROLES = ("attacker", "target", "accused", "involved")


def _date(value: object) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _count(value: object) -> int | None:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _mention_to_dict(m: Mention) -> dict[str, Any]:
    out: dict[str, Any] = {"text": m.text, "start": m.start, "end": m.end}
    if m.demonym:
        out["demonym"] = True
    return out
