"""Checks that span files: unique ids, known references, no parent cycles."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, get_args

from monitor.classify.normalize import TOKEN, dropped_marks
from monitor.classify.schema import EntityKind

if TYPE_CHECKING:
    from monitor.classify.watchlist import _Loaded

KINDS = get_args(EntityKind)


def check_references(loaded: list[_Loaded]) -> list[str]:
    errors = list(_duplicates(loaded))
    entity_ids = [e.id for f in loaded for e in f.spec.entities]
    type_ids = [t.id for f in loaded for t in f.spec.incident_types]
    errors += _parents(loaded, "entities", entity_ids)
    errors += _parents(loaded, "incident_types", type_ids)
    errors += _aliases(loaded)
    errors += _supersedes(loaded, type_ids)
    errors += _rules(loaded, entity_ids, type_ids)
    return errors


def _duplicates(loaded: list[_Loaded]) -> Iterator[str]:
    for section in ("entities", "incident_types", "rules"):
        first: dict[str, str] = {}
        for f in loaded:
            for i, item in enumerate(getattr(f.spec, section)):
                where = f.where(section, i, "id")
                if item.id in first:
                    yield (
                        f"{where}: {section}.{i}.id: duplicate id {item.id!r} "
                        f"(first defined at {first[item.id]})"
                    )
                else:
                    first[item.id] = where


def _parents(loaded: list[_Loaded], section: str, known: list[str]) -> Iterator[str]:
    from monitor.classify.watchlist import suggest

    parents = {item.id: item.parent for f in loaded for item in getattr(f.spec, section)}
    for f in loaded:
        for i, item in enumerate(getattr(f.spec, section)):
            if item.parent is None:
                continue
            where = f"{f.where(section, i, 'parent')}: {section}.{i}.parent"
            if item.parent not in parents:
                yield f"{where}: unknown id {item.parent!r}{suggest(item.parent, known)}"
            elif _in_cycle(parents, item.id):
                yield f"{where}: {item.id!r} is its own ancestor (parent cycle)"


def _in_cycle(parents: dict[str, str | None], start: str) -> bool:
    seen, node = set(), parents.get(start)
    while node is not None and node not in seen:
        if node == start:
            return True
        seen.add(node)
        node = parents.get(node)
    return False


def _supersedes(loaded: list[_Loaded], type_ids: list[str]) -> Iterator[str]:
    from monitor.classify.watchlist import suggest

    for f in loaded:
        for i, t in enumerate(f.spec.incident_types):
            for j, ref in enumerate(t.supersedes):
                if ref not in type_ids:
                    where = f.where("incident_types", i, "supersedes", j)
                    yield (
                        f"{where}: incident_types.{i}.supersedes.{j}: unknown id "
                        f"{ref!r}{suggest(ref, type_ids)}"
                    )


def _aliases(loaded: list[_Loaded]) -> Iterator[str]:
    """Every matched name (name, aliases, demonyms) must survive folding as written."""
    for f in loaded:
        for i, e in enumerate(f.spec.entities):
            names: list[tuple[tuple[str | int, ...], str]] = [(("name",), e.name)]
            names += [
                (("aliases", j), a if isinstance(a, str) else a.alias)
                for j, a in enumerate(e.aliases)
            ]
            names += [(("demonyms", j), d) for j, d in enumerate(e.demonyms)]
            for loc, text in names:
                problem = _alias_problem(text)
                if problem:
                    key = ".".join(str(p) for p in ("entities", i, *loc))
                    yield f"{f.where('entities', i, *loc)}: {key}: {problem}"


def _alias_problem(text: str) -> str | None:
    if not TOKEN.search(text):
        return f"{text!r} has no letters or digits"
    dropped = dropped_marks(text)
    if not dropped:
        return None
    marks = ", ".join(repr(c) for c in dropped)
    return (
        f"{text!r} contains {marks}, which matching ignores (it would match "
        f"{' '.join(TOKEN.findall(text))!r}); names are plain text, not patterns, matched "
        "ignoring case, accents, apostrophes and hyphens: use letters, digits, spaces, "
        "apostrophes, hyphens, '.' and ','"
    )


def _rules(loaded: list[_Loaded], entity_ids: list[str], type_ids: list[str]) -> Iterator[str]:
    from monitor.classify.watchlist import suggest

    known = {"incident_types": type_ids, "entities": entity_ids, "entity_kinds": list(KINDS)}
    for f in loaded:
        for i, rule in enumerate(f.spec.rules):
            conditions = [getattr(rule, s) for s in known]
            if not any(c.any or c.all for c in conditions):
                where = f.where("rules", i)
                yield (
                    f"{where}: rules.{i}: rule {rule.id!r} needs at least one 'any' or 'all' "
                    "under incident_types, entities or entity_kinds"
                )
            for section, ids in known.items():
                cond = getattr(rule, section)
                for op in ("any", "all", "none"):
                    for j, ref in enumerate(getattr(cond, op)):
                        if ref not in ids:
                            where = f.where("rules", i, section, op, j)
                            what = "entity kind" if section == "entity_kinds" else "id"
                            yield (
                                f"{where}: rules.{i}.{section}.{op}.{j}: unknown {what} "
                                f"{ref!r}{suggest(ref, ids)}"
                            )
