"""What changed in a story between the message a route last showed and the story now.

An update leads with these changes ("Toll revised: 3 → 5 killed · +1 source: Riverside
Ledger"), so an analyst reads what is new without comparing two messages, and nothing that
did not change is said again. The "before" is what was *sent*: a ``Shown`` stored with the
story's message on the route (``story_messages.shown``) when the dispatcher records a send,
so a restart or another replica compares against the same state. Pure functions, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any, Literal

from monitor.alert.view import StoryView
from monitor.types import severity_rank

SHOWN_VERSION = 1  # bump when Shown's fields change; another version reads as "unknown"
MAX_OUTLETS = 3  # outlets named in the lead line; the source lines below list them all
# "Kataib Hezbollah (attacker)", "... (alleged attacker, blamed by ...)": the part view adds
# (who blames may be a watchlist name with brackets of its own: "... Forces (PMF)")
_ROLE = re.compile(r" \((?:attacker|target|alleged attacker(?:, blamed by .*)?)\)$")


@dataclass(frozen=True, slots=True)
class Shown:
    """The parts of a story's message that an update reports changes to."""

    severity: str | None
    incident_types: tuple[str, ...]  # labels, primary first
    place: str | None
    entities: tuple[str, ...]  # as the message lists them
    killed: int | None
    wounded: int | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "v": SHOWN_VERSION,
            "severity": self.severity,
            "incident_types": list(self.incident_types),
            "place": self.place,
            "entities": list(self.entities),
            "killed": self.killed,
            "wounded": self.wounded,
        }


def shown_of(view: StoryView) -> Shown:
    return Shown(
        severity=view.severity,
        incident_types=view.incident_types,
        place=view.place,
        entities=view.entities,
        killed=view.killed,
        wounded=view.wounded,
    )


def shown_from_dict(data: object) -> Shown | None:
    """The stored state, or None when there is none (a message sent before it was stored)
    or it was written by another version: then only the sources that joined are reported."""
    if not isinstance(data, dict) or data.get("v") != SHOWN_VERSION:
        return None
    try:
        return Shown(
            severity=_opt_str(data["severity"]),
            incident_types=tuple(str(t) for t in data["incident_types"]),
            place=_opt_str(data["place"]),
            entities=tuple(str(e) for e in data["entities"]),
            killed=_opt_int(data["killed"]),
            wounded=_opt_int(data["wounded"]),
        )
    except (KeyError, TypeError, ValueError):
        return None


def _opt_str(value: object) -> str | None:
    return None if value is None else str(value)


def _opt_int(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"not a number: {value!r}")
    return int(value)


@dataclass(frozen=True, slots=True)
class TollRevised:
    what: Literal["killed", "wounded"]
    before: int | None  # None: the message showed no figure
    after: int | None  # None: the sources no longer state one


@dataclass(frozen=True, slots=True)
class TypeChanged:
    before: str
    after: str  # the new primary type


@dataclass(frozen=True, slots=True)
class TypeAdded:
    label: str


@dataclass(frozen=True, slots=True)
class PlaceNamed:
    before: str | None
    after: str


@dataclass(frozen=True, slots=True)
class EntityNamed:
    name: str


@dataclass(frozen=True, slots=True)
class SeverityChanged:
    before: str | None
    after: str


@dataclass(frozen=True, slots=True)
class SourcesJoined:
    outlets: tuple[str, ...]  # in the order they joined, repeats removed
    count: int  # reports that joined (one outlet may send two)


Change = (
    TollRevised | TypeChanged | TypeAdded | PlaceNamed | EntityNamed | SeverityChanged
    | SourcesJoined
)  # fmt: skip


def compare(before: Shown, after: Shown, joined: Sequence[str] = ()) -> tuple[Change, ...]:
    """The changes from ``before`` to ``after``, most telling first; ``joined`` names the
    outlets of the reports the update covers (one entry per report)."""
    found: list[Change] = [
        TollRevised(what, getattr(before, what), getattr(after, what))
        for what in ("killed", "wounded")
        if getattr(before, what) != getattr(after, what)
    ]
    found += _type_changes(before.incident_types, after.incident_types)
    if after.place is not None and after.place != before.place:
        found.append(PlaceNamed(before.place, after.place))
    found += _new_entities(before, after)
    if after.severity is not None and after.severity != before.severity:
        found.append(SeverityChanged(before.severity, after.severity))
    if joined:
        found.append(SourcesJoined(tuple(dict.fromkeys(joined)), len(joined)))
    return tuple(found)


def without_history(after: Shown, severity: str | None) -> Shown:
    """A stand-in for a message whose state was not stored: only the severity its alert
    was sent with is known, so nothing else is reported as changed, and only a raise is
    (the story's severity may have been higher than its alert's when it was sent)."""
    if severity is None or after.severity is None:
        return after
    raised = severity_rank(after.severity) > severity_rank(severity)  # type: ignore[arg-type]
    return replace(after, severity=severity) if raised else after


def _type_changes(before: tuple[str, ...], after: tuple[str, ...]) -> list[Change]:
    found: list[Change] = []
    seen = set(before)
    if before and after and before[0] != after[0]:
        found.append(TypeChanged(before[0], after[0]))
        seen.add(after[0])
    found += [TypeAdded(label) for label in after if label not in seen]
    return found


def _new_entities(before: Shown, after: Shown) -> list[Change]:
    """Names the message did not show before; the place is reported as such, and an actor
    whose role became known ("Kataib Hezbollah" -> "... (attacker)") is not new."""
    known = {_ROLE.sub("", e) for e in before.entities} | {before.place, after.place}
    return [EntityNamed(e) for e in after.entities if _ROLE.sub("", e) not in known]


def words(change: Change) -> tuple[str, str]:
    """A change in plain words: a label and its detail, e.g. ("Toll revised", "3 → 5 killed")."""
    match change:
        case TollRevised(what, None, after):
            return "Toll reported", f"{after} {what}"
        case TollRevised(what, before, None):
            return "Toll no longer stated", f"was {before} {what}"
        case TollRevised(what, before, after):
            down = before is not None and after is not None and after < before
            return ("Toll revised down" if down else "Toll revised"), f"{before} → {after} {what}"
        case TypeChanged(before, after):
            return "Type changed", f"{before} → {after}"
        case TypeAdded(label):
            return "Type added", label
        case PlaceNamed(None, after):
            return "Place named", after
        case PlaceNamed(before, after):
            return "Place revised", f"{before} → {after}"
        case EntityNamed(name):
            return "Newly named", name
        case SeverityChanged(before, after):
            return _severity_words(before, after)
        case SourcesJoined(outlets, count):
            return _sources_words(outlets, count)
    raise TypeError(f"not a change: {change!r}")


def _severity_words(before: str | None, after: str) -> tuple[str, str]:
    lowered = before is not None and severity_rank(after) < severity_rank(before)  # type: ignore[arg-type]
    label = "Severity lowered" if lowered else "Severity raised"
    return label, f"{(before or 'none').upper()} → {after.upper()}"


def _sources_words(outlets: tuple[str, ...], count: int) -> tuple[str, str]:
    named = ", ".join(outlets[:MAX_OUTLETS])
    if len(outlets) > MAX_OUTLETS:
        named += f" and {len(outlets) - MAX_OUTLETS} more"
    return f"+{count} source" + ("" if count == 1 else "s"), named


def summary(changes: Sequence[Change]) -> list[tuple[str, str]]:
    """``words`` of each change, those with the same label joined ("Type added: A, B")."""
    out: list[tuple[str, str]] = []
    for label, detail in map(words, changes):
        if out and out[-1][0] == label:
            out[-1] = (label, f"{out[-1][1]}, {detail}")
        else:
            out.append((label, detail))
    return out


def as_dict(change: Change) -> dict[str, Any]:
    """For webhook receivers: {"change": "toll_revised", "what": "killed", "before": 3, ...}."""
    name = re.sub(r"(?<!^)([A-Z])", r"_\1", type(change).__name__).lower()
    return {"change": name, **asdict(change)}
