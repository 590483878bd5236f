"""Watchlist files -> one validated Watchlist, or a ConfigError listing every problem.

Each problem is reported as ``file:line: key.path: message``. Files may ``include`` others
(the shipped watchlists include ``../taxonomy.yaml``); a file reached twice is read once.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from monitor.classify.schema import (
    AliasSpec,
    Condition,
    EntitySpec,
    Escalation,
    Exclusion,
    IncidentTypeSpec,
    Pattern,
    Scoring,
    WatchlistFile,
)
from monitor.errors import ConfigError
from monitor.types import Severity
from monitor.units import counted
from monitor.yamlfile import format_validation_error, line_of, load_yaml


@dataclass(frozen=True)
class Alias:
    text: str
    case_sensitive: bool  # acronyms ("KH", "PMF") must match as written


@dataclass(frozen=True)
class Entity:
    id: str
    kind: str
    name: str
    aliases: tuple[Alias, ...]
    parent: str | None
    fuzzy: bool
    source: str
    # "Iraqi", "Iraqis": words that name the entity's people, not the entity itself; their
    # mentions are flagged so an alert does not take "Iraqi officials" for a place.
    demonyms: tuple[Alias, ...] = ()
    plural: bool = False  # "Katyushas" for Katyusha: regular English plurals also match
    coordinates: tuple[float, float] | None = None  # (latitude, longitude), for the map


@dataclass(frozen=True)
class IncidentType:
    id: str
    label: str
    parent: str | None
    acled: str | None  # inherited from the parent when not set
    keywords: tuple[tuple[str, float], ...]
    patterns: tuple[Pattern, ...]
    exclude: tuple[Exclusion, ...]
    threshold: float
    source: str
    description: str = ""
    supersedes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rule:
    id: str
    source: str  # "file:line", for error messages
    routes: tuple[str, ...]
    description: str = ""
    incident_types: Condition = field(default_factory=Condition)
    entities: Condition = field(default_factory=Condition)
    entity_kinds: Condition = field(default_factory=Condition)
    min_score: float = 0.0
    severity: Severity = "medium"
    escalate: tuple[Escalation, ...] = ()


@dataclass(frozen=True)
class Names:
    """What a reader calls each id: an entity's name, an incident type's label. Ids are the
    YAML's keys; what `explain` and the rules' reasons print is what a reader knows."""

    entities: Mapping[str, str] = field(default_factory=dict)
    types: Mapping[str, str] = field(default_factory=dict)

    def entity(self, entity_id: str) -> str:
        return self.entities.get(entity_id, entity_id)

    def type(self, type_id: str) -> str:
        return self.types.get(type_id, type_id)


@dataclass(frozen=True)
class Watchlist:
    rules: tuple[Rule, ...] = ()
    entities: tuple[Entity, ...] = ()
    incident_types: tuple[IncidentType, ...] = ()
    scoring: Scoring = field(default_factory=Scoring)
    files: tuple[Path, ...] = ()

    def entity_ancestors(self, entity_id: str) -> tuple[str, ...]:
        return _ancestors({e.id: e.parent for e in self.entities}, entity_id)

    def type_ancestors(self, type_id: str) -> tuple[str, ...]:
        return _ancestors({t.id: t.parent for t in self.incident_types}, type_id)

    def names(self) -> Names:
        return Names(
            {e.id: e.name for e in self.entities}, {t.id: t.label for t in self.incident_types}
        )

    @property
    def acled_names(self) -> frozenset[str]:
        """The ACLED names the incident types carry (a child inherits its parent's)."""
        return frozenset(t.acled for t in self.incident_types if t.acled)

    def type_names(self) -> dict[str, str]:
        """Each type's id, label and ACLED name (case-folded) -> its ACLED name: what a
        user's labelled example may call a type (`monitor train-typing`)."""
        out: dict[str, str] = {}
        for t in self.incident_types:
            if t.acled:
                for key in (t.acled, t.id, t.label):
                    out.setdefault(key.casefold(), t.acled)
        return out


def _ancestors(parents: dict[str, str | None], start: str) -> tuple[str, ...]:
    chain: list[str] = []
    node = parents.get(start)
    while node and node not in chain and node != start:
        chain.append(node)
        node = parents.get(node)
    return tuple(chain)


@dataclass
class _Loaded:
    path: Path
    data: Any
    spec: WatchlistFile

    def where(self, *loc: str | int) -> str:
        return f"{self.path}:{line_of(self.data, loc) or 1}"


def load_watchlists(paths: Sequence[Path]) -> Watchlist:
    errors: list[str] = []
    loaded: list[_Loaded] = []
    seen: set[Path] = set()
    for path in paths:
        _read(Path(path), loaded, seen, errors)
    if not errors:
        from monitor.classify.checks import check_references

        errors.extend(check_references(loaded))
    if errors:
        raise ConfigError(f"watchlists: {counted(len(errors), 'error')}", errors)
    return _build(loaded)


def _read(path: Path, loaded: list[_Loaded], seen: set[Path], errors: list[str]) -> None:
    key = path.resolve()
    if key in seen:
        return
    seen.add(key)
    try:
        data = load_yaml(path)
    except ConfigError as exc:
        errors.extend(exc.errors)
        return
    if data is None:  # as for monitor.yaml: a file with nothing in it is a mistake
        # (a file cut short mid-save would otherwise reload as "no rules", silently)
        errors.append(
            f"{path}:1: the file is empty (or only comments); a watchlist that means to "
            "define nothing says so with `rules: []`"
        )
        return
    if not isinstance(data, dict):
        errors.append(f"{path}:1: (top level): a watchlist file must be a mapping")
        return
    try:
        spec = WatchlistFile.model_validate(data)
    except ValidationError as exc:
        errors.extend(format_validation_error(path, data, exc, model=WatchlistFile))
        return
    for i, inc in enumerate(spec.include):
        target = path.parent / inc
        if not target.is_file():
            errors.append(
                f"{path}:{line_of(data, ['include', i])}: include.{i}: no such file {inc!r}"
            )
            continue
        _read(target, loaded, seen, errors)
    loaded.append(_Loaded(path, data, spec))


def suggest(name: str, known: Sequence[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def _build(loaded: list[_Loaded]) -> Watchlist:
    entities, types, rules = [], [], []
    scoring = Scoring()
    for f in loaded:
        scoring = f.spec.scoring or scoring
        entities += [_entity(f, i, e) for i, e in enumerate(f.spec.entities)]
        types += [_incident_type(f, i, t) for i, t in enumerate(f.spec.incident_types)]
        rules += [_rule(f, i) for i in range(len(f.spec.rules))]
    parents = {t.id: t for t in types}
    types = [_inherit_acled(t, parents) for t in types]
    return Watchlist(
        rules=tuple(rules),
        entities=tuple(entities),
        incident_types=tuple(types),
        scoring=scoring,
        files=tuple(f.path for f in loaded),
    )


def _entity(f: _Loaded, i: int, e: EntitySpec) -> Entity:
    aliases = [_alias(a) for a in [e.name, *e.aliases]]
    return Entity(
        id=e.id,
        kind=e.kind,
        name=e.name,
        aliases=tuple(dict.fromkeys(aliases)),
        parent=e.parent,
        fuzzy=e.fuzzy,
        source=f.where("entities", i),
        demonyms=tuple(dict.fromkeys(_alias(d) for d in e.demonyms)),
        plural=e.plural,
        coordinates=e.coordinates,
    )


def _alias(a: str | AliasSpec) -> Alias:
    if isinstance(a, AliasSpec):
        return Alias(a.alias, a.case_sensitive or is_acronym(a.alias))
    return Alias(a, is_acronym(a))


def is_acronym(alias: str) -> bool:
    """Short all-capital names ("KH", "PMF", "IRGC") match only as written."""
    letters = alias.replace(".", "")
    return 1 < len(letters) <= 5 and letters.isupper() and letters.isalnum()


def _incident_type(f: _Loaded, i: int, t: IncidentTypeSpec) -> IncidentType:
    exclude = [x if isinstance(x, Exclusion) else Exclusion(term=x) for x in t.exclude]
    return IncidentType(
        id=t.id,
        label=t.label,
        parent=t.parent,
        acled=t.acled,
        keywords=tuple(t.keywords.items()),
        patterns=tuple(t.patterns),
        exclude=tuple(exclude),
        threshold=t.threshold,
        source=f.where("incident_types", i),
        description=t.description,
        supersedes=tuple(t.supersedes),
    )


def _inherit_acled(t: IncidentType, by_id: dict[str, IncidentType]) -> IncidentType:
    node, acled = t, t.acled
    while acled is None and node.parent and node.parent in by_id:
        node = by_id[node.parent]
        acled = node.acled
    if acled == t.acled:
        return t
    return replace(t, acled=acled)


def _rule(f: _Loaded, i: int) -> Rule:
    r = f.spec.rules[i]
    return Rule(
        id=r.id,
        source=f.where("rules", i),
        routes=tuple(r.routes),
        description=r.description,
        incident_types=r.incident_types,
        entities=r.entities,
        entity_kinds=r.entity_kinds,
        min_score=r.min_score,
        severity=r.severity,
        escalate=tuple(r.escalate),
    )
