"""Story facets: the story list's filters read them, and every correction keeps them right.

Each filter is checked against the way it was answered before ``story_facets`` existed (a
text search in each story's JSON), on stories the clusterer built, then again after a
split, a merge, "not relevant" and mute.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import String, cast, exists, or_, select
from sqlalchemy.orm import Session, sessionmaker

from monitor.dedup import corrections
from monitor.dedup.clusterer import StoryClusterer
from monitor.dedup.operations import merge_stories, mute_story, split_article
from monitor.storage.facets import article_facets, refresh_facets, refresh_joined, story_facets
from monitor.storage.listing import StoryFilter, list_stories
from monitor.storage.models import ArticleRow, Story, StoryFacet
from monitor.storage.retention import prune
from monitor.storage.settings import RetentionSettings
from monitor.types import Actor, Article, Classification, Event, IncidentMatch, Place, RuleHit

from .conftest import entity, store_and_assign
from .samples import ATTACK_FIRST, ATTACK_SECOND, FLOOD, T0

VALUES: dict[str, list[Any]] = {
    "incident_type": ["rocket-attack", "attack", "flood", "no-such-type"],
    "entity": ["saraya-al-fajr", "camp-redwood", "valley-river", "no-such-entity"],
    "place": ["camp-redwood", "river-town", "no-such-place"],
    "source": ["Ridge Courier", "Delta Wire", "Valley Post", "No Such Outlet"],
    "rules": [("attacks-on-bases",), ("militia-claims",), ("floods",),
              ("militia-claims", "floods"), ("no-such-rule",)],
}  # fmt: skip


def _classification(
    types: list[str], entities: list[str], rules: list[str], place: str, actor: str | None
) -> Classification:
    return Classification(
        incident_types=tuple(
            IncidentMatch(t, t, 1.0, 0.5, None, ancestors=("attack",) if "attack" in t else ())
            for t in types
        ),
        entities=tuple(entity(e, e.replace("-", " ")) for e in entities),
        rules=tuple(RuleHit(r, "high", ("ops",), "") for r in rules),
        event=Event(
            incident_type=types[0],
            place=Place(place, place.title(), ("country",)),
            actors=(Actor(actor, actor, "attacker"),) if actor else (),
        ),
    )


FIRST = _classification(
    ["rocket-attack"], ["saraya-al-fajr", "camp-redwood"], ["attacks-on-bases"],
    "camp-redwood", "saraya-al-fajr",
)  # fmt: skip
SECOND = _classification(
    ["rocket-attack"], ["saraya-al-fajr"], ["militia-claims"], "camp-redwood", "saraya-al-fajr"
)
FLOODING = _classification(["flood"], ["valley-river"], ["floods"], "river-town", None)


def _process(
    sessions: sessionmaker[Session], clusterer: StoryClusterer, article: Article, c: Classification
) -> int:
    """Store and group an article as the pipeline does (its classification stored too)."""
    return store_and_assign(sessions, clusterer, article, c).story_id


def _old_ids(session: Session, f: StoryFilter) -> list[int]:
    """The filter answered as before story_facets: a search in the stories' JSON text."""

    def quoted(value: str) -> str:
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'

    query = select(Story.id).where(Story.merged_into_id.is_(None))
    member = ArticleRow.story_id == Story.id
    if f.incident_type:
        query = query.where(cast(Story.incident_types, String).contains(quoted(f.incident_type)))
    if f.entity:
        query = query.where(cast(Story.entities, String).contains(f'"id": {quoted(f.entity)}'))
    if f.place:
        query = query.where(cast(Story.event, String).contains(f'"id": {quoted(f.place)}'))
    if f.source:
        query = query.where(exists().where(member, ArticleRow.source == f.source))
    if f.rules:
        text_of = cast(ArticleRow.classification, String)
        fired = or_(*(text_of.contains(f'"rule_id": {quoted(r)}') for r in f.rules))
        query = query.where(exists().where(member, fired))
    return sorted(session.scalars(query))


def _filters() -> list[StoryFilter]:
    made = [StoryFilter()]
    for kind, values in VALUES.items():
        made += [StoryFilter(**{kind: v}) for v in values]
    made.append(StoryFilter(incident_type="rocket-attack", source="Delta Wire"))
    return made


def _assert_filters_answer_as_before(sessions: sessionmaker[Session]) -> None:
    with sessions() as s:
        for f in _filters():
            new = sorted(x.id for x in list_stories(session=s, filters=f, limit=100).stories)
            assert new == _old_ids(s, f), f


def _ids(sessions: sessionmaker[Session], **kind: str | tuple[str, ...]) -> list[int]:
    with sessions() as s:
        page = list_stories(session=s, filters=StoryFilter(**kind), limit=100)  # type: ignore[arg-type]
        return sorted(x.id for x in page.stories)


def _table(sessions: sessionmaker[Session]) -> list[tuple[int, str, str]]:
    with sessions() as s:
        rows = s.execute(select(StoryFacet.story_id, StoryFacet.kind, StoryFacet.value))
        return sorted((a, b, c) for a, b, c in rows)


def _recomputed(sessions: sessionmaker[Session]) -> list[tuple[int, str, str]]:
    """The table as a refresh of every story from scratch would leave it."""
    with sessions.begin() as s:
        refresh_facets(session=s, story_ids=s.scalars(select(Story.id)))
    return _table(sessions)


def test_filters_answer_as_before_through_split_merge_and_not_relevant(
    sessions: sessionmaker[Session], clusterer: StoryClusterer, now: datetime
) -> None:
    attack = _process(sessions, clusterer, ATTACK_FIRST, FIRST)
    assert _process(sessions, clusterer, ATTACK_SECOND, SECOND) == attack
    flood = _process(sessions, clusterer, FLOOD, FLOODING)
    assert flood != attack
    _assert_filters_answer_as_before(sessions)
    assert _ids(sessions, rules=("militia-claims",)) == [attack]
    assert _ids(sessions, incident_type="attack") == [attack]  # an ancestor type
    assert _ids(sessions, source="Delta Wire") == [attack]

    with sessions.begin() as s:
        second = s.scalars(select(ArticleRow.id).where(ArticleRow.key == ATTACK_SECOND.key)).one()
        alone = split_article(session=s, article_id=second, now=now).id
    _assert_filters_answer_as_before(sessions)
    assert _ids(sessions, rules=("militia-claims",)) == [alone]
    assert _ids(sessions, source="Delta Wire") == [alone]
    assert _ids(sessions, source="Ridge Courier") == [attack]
    assert _ids(sessions, place="camp-redwood") == sorted([attack, alone])

    with sessions.begin() as s:
        merge_stories(session=s, keep_id=attack, merge_id=flood)
    _assert_filters_answer_as_before(sessions)
    assert _ids(sessions, rules=("floods",)) == [attack]
    assert _ids(sessions, entity="valley-river") == [attack]
    assert flood not in {story for story, _, _ in _table(sessions)}  # merged: listed no more

    before = _table(sessions)
    with sessions.begin() as s:
        assert corrections.not_relevant(session=s, story_id=attack, actor="t", now=now)
        mute_story(session=s, story_id=alone)
    assert _table(sessions) == before  # neither changes what the story is about
    assert _recomputed(sessions) == before  # nothing stale was left behind
    _assert_filters_answer_as_before(sessions)


def test_a_later_article_adds_its_facets_to_the_story_it_joins(
    sessions: sessionmaker[Session], clusterer: StoryClusterer
) -> None:
    attack = _process(sessions, clusterer, ATTACK_FIRST, FIRST)
    assert _ids(sessions, rules=("militia-claims",)) == []
    later = replace(ATTACK_SECOND, source="Harbour Times")
    assert _process(sessions, clusterer, later, SECOND) == attack
    assert _ids(sessions, rules=("militia-claims",)) == [attack]
    assert _ids(sessions, source="Harbour Times") == [attack]
    # A join reads the story's other articles from its facet rows (refresh_joined): what
    # it leaves is what reading every article again leaves, earlier rules and sources kept.
    third = replace(
        ATTACK_SECOND,
        key="third",
        url="http://127.0.0.1:8102/2021/05/05/redwood-third",
        source=None,
    )
    assert _process(sessions, clusterer, third, FIRST) == attack
    joined = _table(sessions)
    assert {(attack, "source", "Harbour Times"), (attack, "rule", "attacks-on-bases")} <= set(
        joined
    )
    assert _recomputed(sessions) == joined


def test_pruning_old_text_leaves_the_facets(
    sessions: sessionmaker[Session], clusterer: StoryClusterer
) -> None:
    attack = _process(sessions, clusterer, ATTACK_FIRST, FIRST)
    before = _table(sessions)
    later = T0 + timedelta(days=60)
    settings = RetentionSettings(article_text=timedelta(days=30))
    assert prune(sessions=sessions, clock=lambda: later, settings=settings).article_text.articles
    assert _table(sessions) == before  # the text went; what the story is about stays
    assert _ids(sessions, rules=("attacks-on-bases",)) == [attack]


def test_the_place_filter_means_the_event_s_place_not_its_actors(
    sessions: sessionmaker[Session], clusterer: StoryClusterer
) -> None:
    # The old search in the event's JSON also matched an actor's id; the place is asked for.
    attack = _process(sessions, clusterer, ATTACK_FIRST, FIRST)
    assert _ids(sessions, place="camp-redwood") == [attack]
    assert _ids(sessions, place="saraya-al-fajr") == []
    assert _ids(sessions, entity="saraya-al-fajr") == [attack]


def test_malformed_stored_json_gives_no_facet_and_no_error() -> None:
    members = [
        (None, None),
        ("Outlet", [{"rule_id": "r"}, {"severity": "high"}, "r2"]),
        ("", {"rule_id": "not a list"}),
    ]
    found = story_facets(
        incident_types=["flood", 3, None],
        entities=[{"id": "x"}, {"name": "no id"}, "text", {"id": ""}],
        event={"place": "somewhere"},
        members=set().union(*(article_facets(source, rules) for source, rules in members)),
    )
    assert found == {
        ("incident_type", "flood"), ("entity", "x"), ("source", "Outlet"), ("rule", "r")
    }  # fmt: skip
    odd = story_facets(incident_types="flood", entities={"id": "x"}, event=[], members=[])
    assert odd == set()


def test_facets_go_with_a_story_deleted_by_hand(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        story = Story(headline="h", first_seen=T0, last_seen=T0, features={},
                      incident_types=["flood"])  # fmt: skip
        s.add(story)
        s.flush()
        refresh_facets(session=s, story_ids=[story.id])
    assert _table(sessions) == [(story.id, "incident_type", "flood")]
    with sessions.begin() as s:
        s.delete(s.get_one(Story, story.id))
    assert _table(sessions) == []


# Articles as stored, some malformed: (outlet, the "rules" of their classification).
JOINING = [
    ("Ridge Courier", [{"rule_id": "attacks-on-bases"}]),
    (None, [{"rule_id": "militia-claims"}, {"severity": "high"}, "loose text"]),
    ("", {"rule_id": "not a list"}),
    ("Ridge Courier", [{"rule_id": "attacks-on-bases"}, {"rule_id": ""}]),  # nothing new
    ("Delta Wire", None),
    ("Valley Post", [{"rule_id": 7}, {"rule_id": "floods"}]),
]


def test_a_join_stores_the_rows_a_refresh_from_scratch_stores(
    sessions: sessionmaker[Session],
) -> None:
    """refresh_joined reads the story's earlier articles from its facet rows and
    refresh_facets reads every article: after each join both leave the same table."""
    with sessions.begin() as s:
        story = Story(headline="h", first_seen=T0, last_seen=T0, features={},
                      incident_types=["rocket-attack", "attack"],
                      entities=[{"id": "camp-redwood"}, {"id": ""}],
                      event={"place": {"id": "camp-redwood"}})  # fmt: skip
        other = Story(headline="o", first_seen=T0, last_seen=T0, features={},
                      incident_types=["flood"])  # fmt: skip
        s.add_all([story, other])
        s.flush()
        refresh_facets(session=s, story_ids=[story.id, other.id], created=True)
        ids = story.id, other.id
    for n, (source, rules) in enumerate(JOINING):
        with sessions.begin() as s:
            row = ArticleRow(key=f"k{n}", title="t", text="x", source=source, processed_at=T0,
                             classification={"rules": rules}, story_id=ids[0])  # fmt: skip
            s.add(row)
            s.flush()
            refresh_joined(session=s, story_id=ids[0], article_id=row.id)
        joined = _table(sessions)
        assert _recomputed(sessions) == joined, (n, source, rules)
    assert {(kind, value) for story, kind, value in joined if story == ids[0]} == {
        ("incident_type", "rocket-attack"), ("incident_type", "attack"),
        ("entity", "camp-redwood"), ("place", "camp-redwood"),
        ("source", "Ridge Courier"), ("source", "Delta Wire"), ("source", "Valley Post"),
        ("rule", "attacks-on-bases"), ("rule", "militia-claims"), ("rule", "7"),
        ("rule", "floods"),
    }  # fmt: skip
    assert [(kind, value) for story, kind, value in joined if story == ids[1]] == [
        ("incident_type", "flood")
    ]
