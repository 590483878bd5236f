"""Values of monitor/types.py <-> JSON-ready dicts, for storage and `--json` output."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from monitor.types import Classification, EntityMatch, Mention


def classification_to_dict(c: Classification) -> dict[str, Any]:
    """Every field of the classification plus the derived views replay and alerts use."""
    data = asdict(c)
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


def _mention_to_dict(m: Mention) -> dict[str, Any]:
    out: dict[str, Any] = {"text": m.text, "start": m.start, "end": m.end}
    if m.demonym:
        out["demonym"] = True
    return out
