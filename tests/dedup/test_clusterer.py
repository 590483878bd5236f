"""Story assignment: same event joins, different events stay apart, near-copies are marked."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from monitor.dedup.clusterer import StoryClusterer
from monitor.dedup.features import lede_targets
from monitor.dedup.nearcopy import sketch_text
from monitor.dedup.operations import split_article
from monitor.dedup.settings import DedupSettings
from monitor.storage.models import ArticleRow, Story
from monitor.types import Article, Casualties, Classification, EntityMatch, Mention, RuleHit

from .conftest import Process, entity, incident, make_process
from .samples import (
    ATTACK_AGAIN,
    ATTACK_FIRST,
    ATTACK_SECOND,
    ATTACK_WEEK_LATER,
    FLOOD,
    OTHER_BASE,
    T0,
    WIRE,
    WIRE_REPOST,
    published,
)

FAJR_1 = Classification(
    entities=(entity("saraya-al-fajr", "Saraya al-Fajr"), entity("camp-redwood", "Camp Redwood")),
    incident_types=(incident("rocket_attack", "Shelling/artillery/missile attack"),),
    casualties=Casualties(wounded=4),
    rules=(RuleHit("base-attack", "high", ("ops",), "attack on a base"),),
)
FAJR_2 = Classification(
    entities=(entity("saraya-al-fajr", "Sarayat al-Fajer"), entity("camp-redwood", "Camp Redwood")),
    incident_types=(incident("rocket_attack", "Shelling/artillery/missile attack"),),
    casualties=Casualties(wounded=4),
    rules=(RuleHit("base-attack", "critical", ("ops",), "attack on a base"),),
)
FAJR_DRONE = Classification(
    entities=(entity("saraya-al-fajr", "Saraya al-Fajr"), entity("camp-redwood", "Camp Redwood")),
    incident_types=(incident("drone_strike", "Air/drone strike"),),
)


def test_two_reports_of_one_attack_become_one_story(
    process: Process, sessions: sessionmaker[Session]
) -> None:
    first = process(ATTACK_FIRST, FAJR_1)
    second = process(ATTACK_SECOND, FAJR_2)
    assert first.is_new_story
    assert not second.is_new_story and second.story_id == first.story_id
    assert second.duplicate_of is None and second.score > 0
    with sessions() as s:
        story = s.get(Story, first.story_id)
        assert story is not None
        assert story.source_count == 2
        assert story.severity == "critical"
        assert story.first_seen == ATTACK_FIRST.published
        assert story.last_seen == ATTACK_SECOND.published
        assert story.casualties["wounded"] == 4
        assert story.acled_types == ["Shelling/artillery/missile attack"]
        spellings = {e["id"]: e["spellings"] for e in story.entities}
        assert spellings["saraya-al-fajr"] == ["Saraya al-Fajr", "Sarayat al-Fajer"]
        rows = s.scalars(select(ArticleRow).order_by(ArticleRow.id)).all()
        assert [r.story_id for r in rows] == [first.story_id] * 2
        assert rows[1].similarity is not None and rows[1].similarity > 0


def test_same_story_by_text_alone_without_entities(process: Process) -> None:
    first = process(ATTACK_FIRST)
    assert process(ATTACK_SECOND).story_id == first.story_id


def test_attack_a_week_later_on_same_base_is_a_new_story(process: Process) -> None:
    first = process(ATTACK_FIRST, FAJR_1)
    process(ATTACK_SECOND, FAJR_2)
    later = process(ATTACK_WEEK_LATER, FAJR_DRONE)
    assert later.is_new_story and later.story_id != first.story_id


def test_week_later_attack_stays_apart_even_with_a_long_window(
    sessions: sessionmaker[Session],
) -> None:
    process = make_process(sessions, StoryClusterer(DedupSettings(window=timedelta(days=30))))
    first = process(ATTACK_FIRST, FAJR_1)
    process(ATTACK_SECOND, FAJR_2)
    assert process(ATTACK_WEEK_LATER, FAJR_DRONE).story_id != first.story_id


def test_a_drone_attack_on_the_same_base_the_next_morning_is_a_new_story(
    process: Process,
) -> None:
    first = process(ATTACK_FIRST, FAJR_1)
    next_morning = replace(
        ATTACK_WEEK_LATER, published=published(ATTACK_FIRST) + timedelta(hours=12)
    )
    drone = process(next_morning, FAJR_DRONE)  # same faction, same base, close in time
    assert drone.is_new_story and drone.story_id != first.story_id
    assert "other means of attack" in drone.reason


def test_a_drone_strike_the_same_night_is_a_new_story_by_its_means_alone(
    process: Process,
) -> None:
    first = process(ATTACK_FIRST, FAJR_1)  # rockets, "late on Tuesday"
    drone = replace(
        ATTACK_WEEK_LATER,
        published=published(ATTACK_FIRST) + timedelta(hours=2),
        text=ATTACK_WEEK_LATER.text.replace(" on Wednesday", " late on Tuesday"),
    )
    later = process(drone, FAJR_DRONE)  # the same night: only the means differ
    assert later.is_new_story and later.story_id != first.story_id
    assert "other means of attack" in later.reason and "other days" not in later.reason


def test_a_second_salvo_two_days_later_in_the_same_words_is_a_new_story(
    process: Process,
) -> None:
    first = process(ATTACK_FIRST, FAJR_1)  # "late on Tuesday"
    process(ATTACK_SECOND, FAJR_2)  # "on Wednesday ... overnight": the same night
    again = process(ATTACK_AGAIN, FAJR_1)  # "on Thursday evening": same means, same names
    assert again.is_new_story and again.story_id != first.story_id
    assert "other days" in again.reason


def located(article: Article, *names: tuple[str, str, str]) -> Classification:
    """Entities (id, name, kind) with their real offsets, as the classifier reports them."""
    full = f"{article.title}\n{article.text}"
    found = []
    for eid, name, kind in names:
        spans = [m.start() for m in re.finditer(re.escape(name), full)]
        mentions = tuple(Mention(name, i, i + len(name)) for i in spans)
        found.append(EntityMatch(id=eid, kind=kind, name=name, mentions=mentions))
    rockets = incident("rocket_attack", "Shelling/artillery/missile attack")
    return Classification(entities=tuple(found), incident_types=(rockets,))


FAJR = ("saraya-al-fajr", "Saraya al-Fajr", "armed_group")
REDWOOD = ("camp-redwood", "Camp Redwood", "military_base")
ASHFORD = ("camp-ashford", "Camp Ashford", "military_base")


def test_another_base_hit_the_same_night_is_a_new_story(process: Process) -> None:
    first = process(ATTACK_FIRST, located(ATTACK_FIRST, FAJR, REDWOOD))
    other = process(OTHER_BASE, located(OTHER_BASE, FAJR, ASHFORD))  # same night, faction, means
    assert other.is_new_story and other.story_id != first.story_id
    # The lede's place (places.py) keeps it apart before its target is weighed.
    assert "other target" in other.reason or "other place (Camp Ashford" in other.reason


def test_a_base_named_only_as_background_does_not_split_a_story(process: Process) -> None:
    first = process(ATTACK_FIRST, located(ATTACK_FIRST, FAJR, REDWOOD))
    text = ATTACK_SECOND.text + " Camp Ashford, to the north, was hit by a drone last month."
    second = replace(ATTACK_SECOND, text=text)
    # Only the background base is recognised: it is outside the lede, so no contradiction.
    joined = process(second, located(second, FAJR, ASHFORD))
    assert joined.story_id == first.story_id, joined.reason


def test_a_rebuilt_story_keeps_the_targets_its_ledes_named(
    process: Process, sessions: sessionmaker[Session]
) -> None:
    first = process(ATTACK_FIRST, located(ATTACK_FIRST, FAJR, REDWOOD))
    text = ATTACK_SECOND.text + " Camp Ashford, to the north, was hit by a drone last month."
    second = replace(ATTACK_SECOND, text=text)
    assert process(second, located(second, FAJR, REDWOOD, ASHFORD)).story_id == first.story_id
    with sessions.begin() as s:
        first_id = s.scalars(select(ArticleRow.id).where(ArticleRow.key == ATTACK_FIRST.key)).one()
        split_article(session=s, article_id=first_id, now=T0)  # the story is rebuilt
        left = s.scalars(select(ArticleRow.story_id).where(ArticleRow.key == second.key)).one()
        assert s.get_one(Story, left).features["targets"] == ["camp-redwood"]


def test_the_lede_is_split_as_the_classifier_splits_sentences() -> None:
    kinds = DedupSettings().target_kinds
    us = replace(
        ATTACK_FIRST,
        title="Rockets hit a base",
        text="Two U.S. officials said rockets struck Camp Redwood late on Tuesday.",
    )
    assert lede_targets(us, located(us, REDWOOD), kinds) == {"camp-redwood"}
    quoted = replace(
        ATTACK_FIRST,
        title="Rockets hit a base",
        text='The group said it acted "in revenge." Camp Ashford was hit last month.',
    )
    assert lede_targets(quoted, located(quoted, ASHFORD), kinds) == frozenset()


def test_unrelated_news_of_the_same_day_is_a_new_story(process: Process) -> None:
    first = process(ATTACK_FIRST, FAJR_1)
    flood = process(FLOOD)
    assert flood.is_new_story and flood.story_id != first.story_id


def test_reedited_repost_is_a_near_copy_of_the_wire_story(
    process: Process, sessions: sessionmaker[Session]
) -> None:
    process(FLOOD)
    original = process(WIRE)
    copy = process(WIRE_REPOST)
    assert copy.duplicate_of == WIRE.key
    assert copy.story_id == original.story_id
    assert copy.score >= 0.6
    with sessions() as s:
        row = s.scalars(select(ArticleRow).where(ArticleRow.key == WIRE_REPOST.key)).one()
        assert row.duplicate_of_key == WIRE.key


def test_a_copy_posted_after_the_story_closed_starts_a_new_story(process: Process) -> None:
    original = process(WIRE)
    late = replace(WIRE_REPOST, published=published(WIRE) + timedelta(days=10))
    copy = process(late)
    assert copy.story_id != original.story_id and copy.duplicate_of is None


def test_a_different_report_of_the_same_event_is_not_a_near_copy(process: Process) -> None:
    process(ATTACK_FIRST)
    assert process(ATTACK_SECOND).duplicate_of is None


def test_story_survives_a_restart(sessions: sessionmaker[Session], settings: DedupSettings) -> None:
    first = make_process(sessions, StoryClusterer(settings))(ATTACK_FIRST, FAJR_1)
    restarted = make_process(sessions, StoryClusterer(settings))
    assert restarted(ATTACK_SECOND, FAJR_2).story_id == first.story_id
    assert make_process(sessions, StoryClusterer(settings))(WIRE).is_new_story
    assert make_process(sessions, StoryClusterer(settings))(WIRE_REPOST).duplicate_of == WIRE.key


def test_replicas_see_each_others_stories(
    sessions: sessionmaker[Session], settings: DedupSettings
) -> None:
    one, two = StoryClusterer(settings), StoryClusterer(settings)
    a, b = make_process(sessions, one), make_process(sessions, two)
    b(FLOOD)  # replica two loads its index before replica one's story exists
    first = a(ATTACK_FIRST, FAJR_1)
    assert b(ATTACK_SECOND, FAJR_2).story_id == first.story_id
    a(WIRE)
    assert b(WIRE_REPOST).duplicate_of == WIRE.key
    with sessions() as s:
        assert s.get(Story, first.story_id).source_count == 2  # type: ignore[union-attr]


# WIRE's sketch (3-word shingles) as the database holds it since the project began (made by
# datasketch 2's MinHash until our own replaced it): changing a value would make every
# stored article unrecognisable as the original of a new copy.
WIRE_SKETCH = (
    122326803,
    18368168,
    37950649,
    9296126,
    7564421,
    16891122,
    62290262,
    18760562,
    15086189,
    22591272,
    6019069,
    61278644,
    53664412,
    222433364,
    32519404,
    48413303,
    22533951,
    80873669,
    2056728,
    100025217,
    64124088,
    28396392,
    53394725,
    162271380,
    11727529,
    42192575,
    43527542,
    14640157,
    2494912,
    32371451,
    34901799,
    3538227,
    164835714,
    87578870,
    32013980,
    663799,
    63798544,
    43284848,
    26566940,
    139865677,
    19098624,
    11387777,
    13589587,
    37101974,
    70889974,
    1788608,
    14374486,
    159952763,
    47540338,
    12357863,
    2916654,
    141795173,
    49429901,
    52479503,
    883362,
    68143913,
    53203685,
    11351835,
    47764654,
    46470883,
    10448694,
    36619855,
    141500899,
    31759201,
)


def test_sketches_stay_comparable_with_those_already_stored() -> None:
    sketch = sketch_text(WIRE.text, shingle_words=3)
    assert sketch is not None and sketch.values == WIRE_SKETCH
