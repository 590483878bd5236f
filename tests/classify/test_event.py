"""The main event of an article: read from the headline and lede, background discounted.

Texts are our own, written for these tests; the seeds are read from ../shared when present.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from monitor.classify.classifier import Classifier
from monitor.classify.event import consensus
from monitor.codec import event_from_dict, event_to_dict
from monitor.config import load_config
from monitor.resources import shipped_config_dir
from monitor.types import Actor, Event, Place

THURSDAY_NOON = datetime(2026, 3, 12, 12, 0, tzinfo=UTC)

# An attack today, with an older attack on another base (and its toll) as background.
WITH_BACKGROUND = (
    "Rockets hit Ain al-Asad air base, wounding two soldiers",
    "Several rockets struck Ain al-Asad air base in western Iraq late on Wednesday, "
    "wounding two soldiers, officials said.\n"
    "No one was killed. Iraqi police found the launcher in a field east of the base.\n"
    "In December, a rocket attack on K-1 Air Base outside Kirkuk killed a contractor and "
    "wounded four soldiers. US aircraft struck militia depots days later.\n"
    "The violence has killed 300 people so far this year.",
)


@pytest.fixture(scope="module")
def shipped() -> Classifier:
    return Classifier(load_config(shipped_config_dir() / "monitor.yaml").watchlist)


def test_place_toll_and_day_come_from_the_event_not_the_background(shipped: Classifier) -> None:
    title, text = WITH_BACKGROUND
    event = shipped.classify(title=title, text=text, published=THURSDAY_NOON).event
    assert event.incident_type in {"rocket-attack", "shelling"}
    assert event.place is not None and event.place.id == "ain-al-asad"  # not K-1, not Kirkuk
    assert (event.killed, event.wounded) == (0, 2)  # not the contractor, not the 300
    assert event.date == date(2026, 3, 11)
    wounded = next(x for x in event.evidence if x.field == "wounded")
    assert wounded.matched == "wounding two" and wounded.sentence in f"{title}\n{text}"


def test_a_background_toll_raises_no_severity(tmp_path: Path) -> None:
    """A rule escalating at 5 killed: the 300 of 'this year' must not escalate today's."""
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "rules:\n  - id: base-attacks\n    incident_types: {any: [shelling]}\n"
        "    severity: medium\n    routes: [ops]\n"
        "    escalate: [{killed: 5, severity: critical}]\n",
        encoding="utf-8",
    )
    shipped_dir = shipped_config_dir()
    config = tmp_path / "monitor.yaml"
    config.write_text(
        f"feeds: []\nwatchlists:\n  - {shipped_dir / 'taxonomy.yaml'}\n"
        f"  - {shipped_dir / 'watchlists'}/*.yaml\n  - {rules}\n"
        "alerts:\n  routes:\n    default: {type: console}\n    ops: {type: console}\n",
        encoding="utf-8",
    )
    classifier = Classifier(load_config(config).watchlist)
    title, text = WITH_BACKGROUND
    result = classifier.classify(title=title, text=text, published=THURSDAY_NOON)
    hit = next(r for r in result.rules if r.rule_id == "base-attacks")
    assert hit.severity == "medium"


def test_an_article_whose_violence_is_all_background_has_no_event_type(
    shipped: Classifier,
) -> None:
    title = "Parliament debates the budget for the coming year"
    text = (
        "Lawmakers in Baghdad began debating the budget on Wednesday, with ministers asking "
        "for more money for schools and hospitals.\n"
        "The speaker said the vote could come next week.\n"
        "Last year, a rocket attack on the Green Zone delayed the vote by a month, and "
        "air strikes near the Syrian border killed 12 fighters in the weeks before it."
    )
    event = shipped.classify(title=title, text=text, published=THURSDAY_NOON).event
    assert event.incident_type is None
    assert event.killed is None


def test_a_landmark_is_not_the_place_and_a_base_refines_its_country(shipped: Classifier) -> None:
    title = "Drone strikes a base north of Baghdad"
    text = (
        "A drone struck Camp Taji, north of Baghdad, on Wednesday evening, damaging a hangar, "
        "Iraqi officials said. Nobody was hurt."
    )
    event = shipped.classify(title=title, text=text, published=THURSDAY_NOON).event
    assert event.place is not None and event.place.id == "camp-taji"
    assert event.wounded == 0


# The news, then what it came a week after: another place, another toll.
AFTER_AN_EARLIER_ATTACK = (
    "Drone strike hits militia convoy near Al-Qaim",
    "A drone strike hit a convoy of Kataib Hezbollah fighters near Al-Qaim on Wednesday, "
    "killing four of them, a militia spokesman said.\n"
    "The strike came a week after a rocket attack on Ain al-Asad wounded 11 soldiers.",
)


def test_what_the_news_came_days_after_is_background(shipped: Classifier) -> None:
    title, text = AFTER_AN_EARLIER_ATTACK
    event = shipped.classify(title=title, text=text, published=THURSDAY_NOON).event
    assert event.place is not None and event.place.id == "al-qaim"  # not the earlier base
    assert (event.killed, event.wounded) == (4, None)  # not the 11 of a week before


def test_roles_attacker_target_and_accused(shipped: Classifier) -> None:
    title = "US jets strike Kataib Hezbollah depots"
    text = (
        "American jets struck weapons depots of Kataib Hezbollah near the Syrian border on "
        "Wednesday night, officials said. Washington blamed Asaib Ahl al-Haq for the earlier "
        "rocket fire, which the group denied."
    )
    event = shipped.classify(title=title, text=text, published=THURSDAY_NOON).event
    roles = {a.id: a.role for a in event.actors}
    assert roles.get("kataib-hezbollah") == "target"
    assert roles.get("asaib-ahl-al-haq", "involved") == "involved"


def test_the_story_event_is_the_consensus_of_its_sources() -> None:
    iraq = Place("iraq", "Iraq")
    taji = Place("camp-taji", "Camp Taji", ("iraq",))
    kh = "kataib-hezbollah"
    first = Event("shelling", (), iraq, (Actor(kh, "KH", "involved"),), None, None, None)
    second = Event(
        "rocket-attack", ("air-strike",), taji, (Actor(kh, "KH", "target"),),
        date(2020, 3, 11), 3, 14,
    )  # fmt: skip
    third = Event("shelling", (), taji, (), date(2020, 3, 11), 2, None)
    story = consensus([first, second, third])
    assert story.incident_type == "shelling"
    assert story.place == taji  # agrees with Iraq, and more specific
    assert story.actors == (Actor(kh, "KH", "target"),)
    assert (story.date, story.killed, story.wounded) == (date(2020, 3, 11), 3, 14)
    assert event_from_dict(json.loads(json.dumps(event_to_dict(story)))) == story


def test_the_seeds_story_is_the_strikes_in_iraq_after_the_camp_taji_attack(
    shipped: Classifier, shared_dir: Path
) -> None:
    """The seed reports US strikes in Iraq "responding to a rocket attack on a military
    base that killed" three: Camp Taji, its dead, and the wounded of a later sentence about
    "the base" belong to that prior attack."""
    wapo = (shared_dir / "seeds" / "washington-post-2020-03-13.txt").read_text(encoding="utf-8")
    lines = wapo.splitlines()
    title, text = lines[2], "\n".join(line for line in lines[3:] if line.strip())
    published = datetime(2020, 3, 13, 6, tzinfo=UTC)
    event = shipped.classify(title=title, text=text, published=published).event
    assert event.incident_type == "air-strike"
    assert event.place is not None and event.place.id == "iraq"
    assert (event.killed, event.wounded) == (None, None)
    assert "kataib-hezbollah" in {a.id for a in event.actors}
    assert "peaceful-protest" not in event.type_ids
    prior = event.prior
    assert prior is not None and prior.place is not None and prior.place.id == "camp-taji"
    assert prior.incident_type == "rocket-attack"
    assert prior.killed == 3
    killed = next(x for x in prior.evidence if x.field == "killed")
    assert "killed one British and two U.S. service members" in killed.sentence
    # "rockets landed on the base, wounding 14": the base is Camp Taji, not the strikes'
    assert prior.wounded == 14


@pytest.mark.parametrize(
    ("dateline", "day"),
    [("BASRA (Reuters) - ", "late on Wednesday"), ("BASRA, March 12 (Reuters) - ", "on Tuesday")],
)
def test_the_dateline_after_the_headline_is_neither_the_place_nor_the_day(
    shipped: Classifier, dateline: str, day: str
) -> None:
    """Where and when the report was filed ("BASRA, March 12 -") says nothing of the
    event: the base named after it is the place, and the lede's day is the event's."""
    title = "Rockets hit air base, wounding two soldiers"
    text = f"{dateline}Several rockets struck Ain al-Asad air base {day}, wounding two soldiers."
    event = shipped.classify(title=title, text=text, published=THURSDAY_NOON).event
    assert event.place is not None and event.place.id == "ain-al-asad"  # not Basra
    expected = date(2026, 3, 11) if "Wednesday" in day else date(2026, 3, 10)
    assert event.date == expected  # not the dateline's March 12


# Frozen at noon UTC on each day of one week, so the day names below are read against the
# article's own date whatever weekday it falls on.
A_WEEK = [datetime(2026, 3, 9 + d, 12, 0, tzinfo=UTC) for d in range(7)]


def _weekday(day: datetime, back: int) -> str:
    return (day - timedelta(days=back)).strftime("%A")


def _strikes_a_day_after(published: datetime) -> tuple[str, str]:
    """Our own report: strikes yesterday, a day after a deadly rocket attack on a base."""
    yesterday, before = _weekday(published, 1), _weekday(published, 2)
    title = "US jets strike militia depots after deadly rocket attack on Ain al-Asad"
    text = (
        f"American jets struck weapons depots of Kataib Hezbollah in Iraq on {yesterday} "
        f"night, a day after a rocket attack on Ain al-Asad killed two soldiers.\n"
        "The Pentagon said the strikes hit four storage sites.\n"
        f"Some twenty rockets were fired at the base on {before} evening. "
        "Besides the two soldiers killed, nine others were wounded.\n"
    )
    return title, text


@pytest.mark.parametrize("published", A_WEEK, ids=lambda d: d.strftime("%a"))
def test_a_prior_clause_and_the_day_before_tell_the_prior_event_not_the_news(
    shipped: Classifier, published: datetime
) -> None:
    title, text = _strikes_a_day_after(published)
    event = shipped.classify(title=title, text=text, published=published).event
    assert event.incident_type == "air-strike"
    assert event.place is not None and event.place.id == "iraq"  # not the base
    assert (event.killed, event.wounded) == (None, None)  # the toll is the rocket attack's
    assert event.date == (published - timedelta(days=1)).date()
    prior = event.prior
    assert prior is not None and prior.incident_type == "rocket-attack"
    assert prior.place is not None and prior.place.id == "ain-al-asad"
    assert (prior.killed, prior.wounded) == (2, 9)
    assert prior.date == (published - timedelta(days=2)).date()
    assert "rocket-attack" not in event.type_ids  # its mention is the prior event's


@pytest.mark.parametrize(
    "sentence",
    [
        # the cause of the news, not an event before it: no incident in the main clause
        "Three soldiers were killed after a roadside bomb exploded near their patrol in Kirkuk.",
        # a time of day
        "Rockets hit Kirkuk shortly after midnight on Wednesday, killing three soldiers.",
    ],
)
def test_an_after_that_tells_the_news_itself_is_not_a_prior_event(
    shipped: Classifier, sentence: str
) -> None:
    event = shipped.classify(title="", text=sentence, published=THURSDAY_NOON).event
    assert event.place is not None and event.place.id == "kirkuk"
    assert event.killed == 3 and event.prior is None


def test_a_later_sentence_on_the_night_of_an_overnight_attack_is_not_background(
    shipped: Classifier,
) -> None:
    """ "Overnight" read on Thursday morning may be Wednesday night: a sentence about
    Wednesday tells the same attack, not an earlier one."""
    title = "Rockets hit Erbil overnight"
    text = (
        "Rockets struck Erbil overnight, officials said.\n"
        "The first rockets landed late on Wednesday, wounding four guards."
    )
    published = datetime(2026, 3, 12, 6, 0, tzinfo=UTC)  # a Thursday
    event = shipped.classify(title=title, text=text, published=published).event
    assert event.wounded == 4 and event.prior is None


def test_a_story_s_prior_event_is_the_consensus_of_its_sources_and_is_stored() -> None:
    taji = Place("camp-taji", "Camp Taji", ("iraq",))
    iraq = Place("iraq", "Iraq")
    first = Event("air-strike", place=iraq, prior=Event("rocket-attack", place=taji, killed=3))
    second = Event("air-strike", prior=Event("shelling", place=taji, killed=2, wounded=12))
    story = consensus([first, second, Event("air-strike")])
    assert story.place == iraq and story.killed is None
    assert story.prior is not None and story.prior.place == taji
    assert (story.prior.incident_type, story.prior.killed, story.prior.wounded) == (
        "rocket-attack",
        3,
        12,
    )
    assert event_from_dict(json.loads(json.dumps(event_to_dict(story)))) == story
    assert event_from_dict({"incident_type": "air-strike"}).prior is None  # stored before


@pytest.mark.parametrize(
    ("text", "news", "prior"),
    [
        (
            "Militia fighters shelled a Turkish outpost near Erbil on Tuesday, wounding three, "
            "in retaliation for a drone strike on Al-Qaim that killed five.",
            ("erbil", None, 3),
            ("al-qaim", 5),
        ),
        (  # a clause that opens the sentence ends at its comma
            "A day after a rocket attack on Ain al-Asad killed two soldiers, American jets "
            "struck militia depots in Erbil on Wednesday, wounding four guards.",
            ("erbil", None, 4),
            ("ain-al-asad", 2),
        ),
    ],
)
def test_a_motive_or_a_gap_names_a_prior_event_with_its_own_place_and_toll(
    shipped: Classifier, text: str, news: tuple[str, None, int], prior: tuple[str, int]
) -> None:
    event = shipped.classify(title="", text=text, published=THURSDAY_NOON).event
    assert (event.place.id if event.place else None, event.killed, event.wounded) == news
    assert event.prior is not None
    assert (event.prior.place.id if event.prior.place else None, event.prior.killed) == prior


# The news (strikes on militia depots in Al-Qaim) a day after an attack on a base; a later
# paragraph tells that attack's toll naming no day, only the base (by name or "the base").
_STRIKES_ON_AL_QAIM = (
    "American jets struck Kataib Hezbollah weapons depots in Al-Qaim on Wednesday night, "
    "a day after a rocket attack on Ain al-Asad killed two soldiers.\n"
    "The Pentagon said the strikes hit four storage sites used by the militia.\n"
    "Officials said the group had been warned repeatedly.\n"
)


@pytest.mark.parametrize(
    "told",
    [
        "Some twenty rockets landed on the base, wounding nine soldiers.",
        "Some twenty rockets landed on the sprawling air base, wounding nine soldiers.",
        "Ain al-Asad was hit by some twenty rockets, which wounded nine soldiers.",
        # the rest of the paragraph goes with a sentence about the base
        "Some twenty rockets landed on the base. Nine soldiers were wounded.",
    ],
)
def test_a_later_sentence_about_the_prior_event_s_base_tells_its_toll_not_the_news_s(
    shipped: Classifier, told: str
) -> None:
    """The seed's error, in our own words: "rockets landed on the base, wounding 14" with
    no day, after strikes elsewhere that followed an attack on a base."""
    title = "US jets strike militia depots in Al-Qaim"
    event = shipped.classify(
        title=title, text=_STRIKES_ON_AL_QAIM + told, published=THURSDAY_NOON
    ).event
    assert event.place is not None and event.place.id == "al-qaim"
    assert (event.killed, event.wounded) == (None, None)
    assert event.prior is not None and event.prior.place is not None
    assert event.prior.place.id == "ain-al-asad"
    assert (event.prior.killed, event.prior.wounded) == (2, 9)


@pytest.mark.parametrize(
    ("title", "text"),
    [
        (  # the news is at a base too: "the base" may be either, and stays the news's
            "Rockets hit Ain al-Asad",
            "Rockets struck Ain al-Asad on Wednesday night, two days after a rocket attack "
            "on Camp Taji killed two soldiers.\n"
            "Officials said the launchers were found in a field.\n"
            "Ten rockets landed on the base, wounding six contractors.",
        ),
        (  # the news's base is unnamed ("a military base"): "the base" is the news's
            "Rockets hit military base in western Iraq",
            "Rockets struck a military base in western Iraq on Wednesday night, a day after "
            "a rocket attack on Camp Taji killed two soldiers.\n"
            "Officials said the launchers were found in a field.\n"
            "Ten rockets landed on the base, wounding six contractors.",
        ),
        (  # a sentence naming the news's own place stays the news's, back-reference or not
            "US jets strike militia depots in Al-Qaim",
            _STRIKES_ON_AL_QAIM + "Residents said the jets hit the old camp in Al-Qaim, "
            "wounding six fighters.",
        ),
    ],
)
def test_a_later_sentence_about_the_news_s_own_place_keeps_its_toll(
    shipped: Classifier, title: str, text: str
) -> None:
    event = shipped.classify(title=title, text=text, published=THURSDAY_NOON).event
    assert event.wounded == 6
    assert event.prior is not None and event.prior.wounded is None


def test_a_later_sentence_about_the_prior_event_s_compound_tells_its_toll(
    shipped: Classifier,
) -> None:
    """A facility's back-reference ("the compound") after an attack on the US embassy."""
    title = "US jets strike militia sites in Al-Qaim"
    text = (
        "American jets struck Kataib Hezbollah sites in Al-Qaim on Wednesday, in "
        "retaliation for a rocket attack on the US Embassy in Baghdad.\n"
        "The Pentagon said the strikes destroyed three weapons depots.\n"
        "Officials said the group had been warned repeatedly.\n"
        "Three rockets landed inside the compound, wounding two guards."
    )
    event = shipped.classify(title=title, text=text, published=THURSDAY_NOON).event
    assert event.place is not None and event.place.id == "al-qaim"
    assert event.wounded is None
    assert event.prior is not None and event.prior.place is not None
    assert (event.prior.place.id, event.prior.wounded) == ("us-embassy-baghdad", 2)


@pytest.mark.parametrize("published", A_WEEK, ids=lambda d: d.strftime("%a"))
@pytest.mark.parametrize(("gap", "days"), [("a day after", 1), ("two days after", 2)])
def test_the_prior_event_s_day_is_the_gap_back_from_the_news_s_day(
    shipped: Classifier, published: datetime, gap: str, days: int
) -> None:
    """ "Strikes on Tuesday, two days after a rocket attack" put the attack on Sunday:
    counted back from the news's day (read against the article's date), not from today."""
    text = (
        f"American jets struck Kataib Hezbollah depots in Al-Qaim on {_weekday(published, 1)} "
        f"night, {gap} a rocket attack on Ain al-Asad killed two soldiers."
    )
    event = shipped.classify(title="", text=text, published=published).event
    assert event.date == (published - timedelta(days=1)).date()
    assert event.prior is not None
    assert event.prior.date == (published - timedelta(days=1 + days)).date()
    said = next(x for x in event.prior.evidence if x.field == "date")
    assert gap in said.sentence


def test_a_gap_from_an_undated_news_day_dates_no_prior_event(shipped: Classifier) -> None:
    text = (
        "American jets struck Kataib Hezbollah depots in Al-Qaim, a day after a rocket "
        "attack on Ain al-Asad killed two soldiers."
    )
    event = shipped.classify(title="", text=text, published=THURSDAY_NOON).event
    assert event.date is None
    assert event.prior is not None and event.prior.date is None


@pytest.mark.parametrize(
    ("told", "prior_wounded", "news_wounded"),
    [
        # the news's country holds the base: naming both, the base says where
        ("Camp Taji, in Iraq, was hit by thirty rockets, which wounded fourteen.", 14, None),
        # the news's country alone: the sentence stays the news's
        ("Across Iraq, the strikes wounded six militia fighters.", None, 6),
    ],
)
def test_a_sentence_naming_the_news_s_country_and_the_prior_event_s_base_is_the_base_s(
    shipped: Classifier, told: str, prior_wounded: int | None, news_wounded: int | None
) -> None:
    text = (
        "American jets struck Kataib Hezbollah depots in Iraq on Wednesday night, a day "
        "after a rocket attack on Camp Taji killed two soldiers.\n"
        "The Pentagon said the strikes hit four storage sites used by the militia.\n"
        f"Officials said the group had been warned repeatedly.\n{told}"
    )
    event = shipped.classify(title="", text=text, published=THURSDAY_NOON).event
    assert event.place is not None and event.place.id == "iraq"
    assert event.wounded == news_wounded
    assert event.prior is not None and event.prior.wounded == prior_wounded


def test_a_type_the_primary_outranks_is_its_consequence_not_a_second_incident(
    shipped: Classifier,
) -> None:
    """The taxonomy says an air strike outranks a battle: the strike's toll of soldiers
    ("the raids killed soldiers") must not make the alert list an armed clash beside it."""
    strike = shipped.classify(
        title="US air strikes hit militia depots in Iraq",
        text="US warplanes bombed militia weapons depots in Iraq on Wednesday night in a wave "
        "of air strikes. The Iraqi army said the raids killed soldiers.",
        published=THURSDAY_NOON,
    ).event
    assert strike.incident_type == "air-strike"
    assert "armed-clash" in strike.outranked
    assert "armed-clash" not in strike.secondary_types


def test_the_story_drops_a_type_its_primary_outranks_in_the_sources_that_tell_it() -> None:
    # one source calls the strikes' toll of soldiers a battle; the strike outranks it
    strike = Event("air-strike", (), None, outranked=("armed-clash", "attack-on-civilians"))
    battle = Event("armed-clash", ("air-strike",))
    protest = Event("air-strike", ("peaceful-protest",), None)
    story = consensus([strike, battle, protest])
    assert story.incident_type == "air-strike"
    assert story.secondary_types == ("peaceful-protest",)
    assert story.outranked == ("armed-clash", "attack-on-civilians")
    assert event_from_dict(json.loads(json.dumps(event_to_dict(story)))) == story
    # without a source saying so, nothing is dropped: the taxonomy is the sources'
    plain = consensus([Event("air-strike"), battle])
    assert plain.secondary_types == ("armed-clash",)
