"""The main-event development set: bench/data/event-annotations.jsonl.

65 short news articles written by the project, each annotated with its main event (type,
place, actors, date, killed, wounded and the sentences the figures come from); see
bench/data/README-events.md for the guidelines. ``load_event_set()`` reads and type-checks
the records; ``check_gold_ids()`` checks every gold id against the shipped taxonomy and
watchlists. Run: .venv/bin/python -m bench.event_set  (prints a summary; exit 1 on errors)
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from datetime import date, datetime
from pathlib import Path
from typing import Any

from monitor.units import counted

DATA = Path(__file__).resolve().parent / "data" / "event-annotations.jsonl"

ROLES = ("attacker", "target")
# the entity kinds a place can be (an event does not happen "at" an armed group)
PLACE_KINDS = frozenset({"country", "location", "military_base", "facility"})
MAX_SECONDARY = 2

_TOP = {"id", "title", "text", "published", "source", "url", "gold", "notes", "tags"}
_OPTIONAL_TOP = {"url", "tags"}
_GOLD = {
    "incident_type",
    "secondary_types",
    "place",
    "place_name",
    "actors",
    "date",
    "killed",
    "wounded",
    "killed_sentence",
    "wounded_sentence",
}
_ID = re.compile(r"^ev-\d{3}$")


class EventSetError(ValueError):
    """The set does not parse or validate; ``errors`` lists every problem as path:line: ..."""

    def __init__(self, message: str, errors: list[str]) -> None:
        super().__init__(message + "".join(f"\n  {e}" for e in errors))
        self.errors = errors


def load_event_set(path: str | Path | None = None) -> list[dict[str, Any]]:
    """Every record of the set (default: the shipped file), validated; raise EventSetError
    listing every problem found."""
    path = Path(path) if path is not None else DATA
    records: list[dict[str, Any]] = []
    errors: list[str] = []
    seen: dict[str, int] = {}
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            where = f"{path}:{lineno}"
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as exc:
                errors.append(f"{where}: not JSON: {exc.msg} (column {exc.colno})")
                continue
            problems = validate_record(rec)
            rid = rec.get("id") if isinstance(rec, dict) else None
            label = f"{where}: {rid}" if isinstance(rid, str) else where
            errors.extend(f"{label}: {p}" for p in problems)
            if isinstance(rid, str):
                if rid in seen:
                    errors.append(f"{label}: duplicate id (first on line {seen[rid]})")
                seen.setdefault(rid, lineno)
            records.append(rec)
    if errors:
        raise EventSetError(f"{path}: {counted(len(errors), 'error')}", errors)
    return records


def validate_record(rec: Any) -> list[str]:
    """Problems with one record's fields (presence, types, internal consistency)."""
    if not isinstance(rec, dict):
        return ["a record must be a JSON object"]
    out: list[str] = []
    missing = _TOP - _OPTIONAL_TOP - rec.keys()
    out += [f"{k}: missing" for k in sorted(missing)]
    out += [f"{k}: unknown field" for k in sorted(rec.keys() - _TOP)]
    if "id" in rec and not (isinstance(rec["id"], str) and _ID.match(rec["id"])):
        out.append(f"id: expected 'ev-NNN', got {rec['id']!r}")
    for key in ("title", "text", "source"):
        if key in rec and not _nonempty_str(rec[key]):
            out.append(f"{key}: expected a non-empty string")
    if "notes" in rec and not isinstance(rec["notes"], str):
        out.append("notes: expected a string")
    if "published" in rec and _published(rec["published"]) is None:
        got = rec["published"]
        out.append(f"published: expected ISO UTC time like 2026-03-04T12:00:00Z, got {got!r}")
    if "url" in rec and not (
        isinstance(rec["url"], str) and rec["url"].startswith("http://127.0.0.1/")
    ):
        out.append("url: expected a string starting with http://127.0.0.1/")
    if "tags" in rec and not _str_list(rec["tags"]):
        out.append("tags: expected a list of strings")
    gold = rec.get("gold")
    if "gold" in rec:
        out += (
            [f"gold.{p}" for p in _validate_gold(gold)]
            if isinstance(gold, dict)
            else ["gold: expected an object"]
        )
    return out


def _validate_gold(g: dict[str, Any]) -> list[str]:
    out = [f"{k}: missing" for k in sorted(_GOLD - g.keys())]
    out += [f"{k}: unknown field" for k in sorted(g.keys() - _GOLD)]
    for key in ("incident_type", "place", "place_name", "killed_sentence", "wounded_sentence"):
        if key in g and not (g[key] is None or _nonempty_str(g[key])):
            out.append(f"{key}: expected a non-empty string or null")
    sec = g.get("secondary_types", [])
    if not _str_list(sec):
        out.append("secondary_types: expected a list of type ids")
    else:
        if len(sec) > MAX_SECONDARY:
            out.append(f"secondary_types: at most {MAX_SECONDARY}, got {len(sec)}")
        if len(set(sec)) != len(sec) or g.get("incident_type") in sec:
            out.append("secondary_types: repeats a type (or the primary type)")
    actors = g.get("actors", [])
    if not isinstance(actors, list):
        out.append("actors: expected a list")
    else:
        for i, a in enumerate(actors):
            if not isinstance(a, dict) or set(a) != {"id", "name", "role"}:
                out.append(f"actors.{i}: expected an object with exactly id, name, role")
                continue
            if not (a["id"] is None or _nonempty_str(a["id"])):
                out.append(f"actors.{i}.id: expected an entity id or null")
            if not _nonempty_str(a["name"]):
                out.append(f"actors.{i}.name: expected a non-empty string")
            if a["role"] not in ROLES:
                out.append(f"actors.{i}.role: expected one of {ROLES}, got {a['role']!r}")
    if g.get("date") is not None and _iso_date(g["date"]) is None:
        out.append(f"date: expected YYYY-MM-DD or null, got {g['date']!r}")
    for key in ("killed", "wounded"):
        n = g.get(key)
        if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 0):
            out.append(f"{key}: expected a non-negative integer or null, got {n!r}")
        sentence = g.get(f"{key}_sentence")
        if (n is None) != (sentence is None):
            out.append(f"{key}_sentence: must be given exactly when {key} is (null = not stated)")
    if "incident_type" in g and g["incident_type"] is None:
        for key in ("place", "date", "killed", "wounded"):
            if g.get(key) is not None:
                out.append(f"{key}: must be null when incident_type is null (no main event)")
        if g.get("secondary_types") or g.get("actors"):
            out.append("secondary_types/actors: must be empty when incident_type is null")
    return out


def check_gold_ids(records: list[dict[str, Any]], watchlist: Any = None) -> list[str]:
    """Every gold type and entity id the records use that the shipped config lacks."""
    if watchlist is None:
        watchlist = shipped_watchlist()
    types = {t.id for t in watchlist.incident_types}
    kinds = {e.id: e.kind for e in watchlist.entities}
    out: list[str] = []
    for rec in records:
        g, rid = rec["gold"], rec["id"]
        for t in [g["incident_type"], *g["secondary_types"]]:
            if t is not None and t not in types:
                out.append(f"{rid}: unknown incident type {t!r}")
        place = g["place"]
        if place is not None and place not in kinds:
            out.append(f"{rid}: unknown place {place!r}")
        elif place is not None and kinds[place] not in PLACE_KINDS:
            out.append(f"{rid}: place {place!r} is a {kinds[place]}, not a place")
        for a in g["actors"]:
            if a["id"] is not None and a["id"] not in kinds:
                out.append(f"{rid}: unknown actor entity {a['id']!r}")
    return out


def shipped_watchlist() -> Any:
    """The taxonomy and watchlists the project ships, through the project's own loader."""
    from monitor.classify.watchlist import load_watchlists
    from monitor.resources import shipped_config_dir

    files = sorted((shipped_config_dir() / "watchlists").glob("*.yaml"))
    return load_watchlists([shipped_config_dir() / "taxonomy.yaml", *files])


def published_at(rec: dict[str, Any]) -> datetime:
    value = _published(rec["published"])
    assert value is not None, rec["id"]
    return value


def _published(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value.endswith("Z"):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _iso_date(value: Any) -> date | None:
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _nonempty_str(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _str_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def main() -> int:
    try:
        records = load_event_set()
    except EventSetError as exc:
        print(exc, file=sys.stderr)
        return 1
    errors = check_gold_ids(records)
    for e in errors:
        print(e, file=sys.stderr)
    types = Counter(r["gold"]["incident_type"] or "(none: no incident)" for r in records)
    tags = Counter(t for r in records for t in r.get("tags", []))
    words = sorted(len(r["text"].split()) for r in records)
    print(f"{len(records)} records, {words[0]}-{words[-1]} words (median {words[len(words) // 2]})")
    for name, n in types.most_common():
        print(f"  {n:3d}  {name}")
    print("tags: " + ", ".join(f"{t} {n}" for t, n in tags.most_common()))
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
