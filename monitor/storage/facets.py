"""A story's facets: the values the story list filters on, one indexed row each.

    rule           a rule that fired on one of its articles (a watchlist is a set of rules)
    incident_type  one of the story's incident types (ancestors included, as stored)
    entity         an entity one of its articles names
    place          the place of the story's event
    source         the outlet name of one of its articles

The list used to look for these inside each story's JSON, a scan of every story when few
match; ``story_facets`` answers with an index range instead. The rows are derived data:
whoever changes a story's articles or aggregates calls ``refresh_facets`` for it in the
same transaction. A story merged into another has none (the list shows survivors only).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import delete, insert, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from monitor.storage.models import ArticleRow, Story, StoryFacet

RULE, INCIDENT_TYPE, ENTITY, PLACE, SOURCE = "rule", "incident_type", "entity", "place", "source"
BATCH = 500  # stories per round trip: keeps IN lists short for every backend

Facet = tuple[str, str]  # (kind, value)
# PostgreSQL takes kind and value for independent and, asked for a rule on 10% of the
# stories, expected 2%: it then planned to walk much of the list, in parallel workers whose
# start-up alone took ~60 ms a query (console-latency, on a busy 2-core machine).
# Statistics over both columns together correct the estimate. Raw DDL, run by the initial
# migration (autogenerate cannot describe it).
_POSTGRES_STATISTICS = (
    "CREATE STATISTICS story_facets_kind_value (dependencies, mcv) ON kind, value FROM story_facets"
)


def story_facets(
    *,
    incident_types: Any,
    entities: Any,
    event: Any,
    members: Iterable[Facet],
) -> set[Facet]:
    """The facets of a surviving story: those of its stored aggregates, and ``members``,
    the source and rule facets of its articles (``article_facets``). Malformed parts of the
    JSON give no facet, never an error."""
    found: set[Facet] = {(INCIDENT_TYPE, t) for t in _listed(incident_types) if isinstance(t, str)}
    found |= {(ENTITY, str(e["id"])) for e in _listed(entities) if _has(e, "id")}
    place = event.get("place") if isinstance(event, Mapping) else None
    if isinstance(place, Mapping) and _has(place, "id"):
        found.add((PLACE, str(place["id"])))
    return found | set(members)


def article_facets(source: str | None, rules: Any) -> set[Facet]:
    """What one article gives its story: its outlet, and the rules of its stored
    classification that fired (``rules`` as stored, malformed or not)."""
    found = {(RULE, str(r["rule_id"])) for r in _listed(rules) if _has(r, "rule_id")}
    if source:
        found.add((SOURCE, source))
    return found


def _listed(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _has(value: object, key: str) -> bool:
    """``value`` is a JSON object with a non-empty ``key``."""
    return isinstance(value, Mapping) and value.get(key) not in (None, "")


def refresh_facets(*, session: Session, story_ids: Iterable[int], created: bool = False) -> None:
    """Make the facets of ``story_ids`` match the stories and their articles as they stand
    in ``session`` now (pending changes are flushed first). ``created``: the stories were
    created in this transaction, so they have no facet rows to delete yet."""
    ids = sorted(set(story_ids))
    for start in range(0, len(ids), BATCH):
        _refresh(session, ids[start : start + BATCH], created)


def _refresh(session: Session, ids: Sequence[int], created: bool = False) -> None:
    session.flush()
    members: dict[int, set[Facet]] = {i: set() for i in ids}
    # Only the rules of each classification: the database picks them out, so a story of
    # hundreds of articles does not decode hundreds of whole classifications in Python.
    rules = ArticleRow.classification["rules"]
    query = select(ArticleRow.story_id, ArticleRow.source, rules)
    for story_id, source, fired in session.execute(query.where(ArticleRow.story_id.in_(ids))):
        members[story_id] |= article_facets(source, fired)
    _write(session, ids, members, created)


def refresh_joined(*, session: Session, story_id: int, article_id: int) -> None:
    """``refresh_facets`` for a story that one article (``article_id``) just joined: same
    rows, but its other articles' sources and rules are its own facet rows instead of
    each article's, whose classification would be decoded again for every article that
    joins (a story of n articles cost n decodes per join). Relies on what the module
    promises: the story's facets matched it before the article joined."""
    session.flush()
    rules = ArticleRow.classification["rules"]
    joined = session.execute(select(ArticleRow.source, rules).where(ArticleRow.id == article_id))
    members: set[Facet] = set()
    for source, fired in joined:
        members |= article_facets(source, fired)
    kept = select(StoryFacet.kind, StoryFacet.value).where(
        StoryFacet.story_id == story_id, StoryFacet.kind.in_([SOURCE, RULE])
    )
    members |= {(kind, value) for kind, value in session.execute(kept)}
    _write(session, [story_id], {story_id: members}, created=False)


def _write(
    session: Session, ids: Sequence[int], members: Mapping[int, set[Facet]], created: bool
) -> None:
    """Replace the facet rows of ``ids`` by those of the stories as stored and ``members``
    (each story's articles' facets): the one place a facet row is built."""
    rows: list[dict[str, Any]] = []
    stories = select(
        Story.id, Story.merged_into_id, Story.incident_types, Story.entities, Story.event
    ).where(Story.id.in_(ids))
    for story_id, merged_into, types, entities, event in session.execute(stories):
        if merged_into is not None:
            continue
        found = story_facets(
            incident_types=types, entities=entities, event=event, members=members[story_id]
        )
        rows += [{"story_id": story_id, "kind": k, "value": v} for k, v in sorted(found)]
    if not created:
        session.execute(delete(StoryFacet).where(StoryFacet.story_id.in_(ids)))
    if rows:
        session.execute(insert(StoryFacet), rows)


def create_statistics(bind: Connection) -> None:
    if bind.dialect.name == "postgresql":
        bind.execute(text(_POSTGRES_STATISTICS))


def drop_statistics(bind: Connection) -> None:
    if bind.dialect.name == "postgresql":
        bind.execute(text("DROP STATISTICS IF EXISTS story_facets_kind_value"))
