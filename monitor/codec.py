"""Values of monitor/types.py <-> JSON-ready dicts, for storage and `--json` output."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Any

from monitor.types import (
    Actor,
    Classification,
    EntityMatch,
    Event,
    EventEvidence,
    Mention,
    Place,
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
        "actors": [{"id": a.id, "name": a.name, "role": a.role} for a in e.actors],
        "date": e.date.isoformat() if e.date else None,
        "killed": e.killed,
        "wounded": e.wounded,
        "evidence": [
            {"field": x.field, "sentence": x.sentence, "matched": x.matched} for x in e.evidence
        ],
    }


def event_from_dict(data: dict[str, Any] | None) -> Event:
    """A stored event back as a value; what is missing or malformed reads as unknown."""
    data = data or {}
    place = data.get("place")
    return Event(
        incident_type=data.get("incident_type") or None,
        secondary_types=tuple(str(t) for t in data.get("secondary_types") or ()),
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
            Actor(str(a["id"]), str(a.get("name", a["id"])), a.get("role") or "involved")
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
    )


_ROLES = ("attacker", "target", "involved")


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
