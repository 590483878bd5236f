"""Counts an analyst reads at a glance that the patterns missed or overstated (h-bgfix)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from monitor.classify.casualties import extract_casualties
from monitor.classify.classifier import Classifier
from monitor.config import load_config
from monitor.resources import shipped_config_dir

THURSDAY_NOON = datetime(2026, 3, 12, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def shipped() -> Classifier:
    return Classifier(load_config(shipped_config_dir() / "monitor.yaml").watchlist)


@pytest.mark.parametrize(
    ("text", "killed", "wounded"),
    [
        ("A civilian contractor has died of his wounds after the barrage.", 1, None),
        ("An Iraqi soldier died on Tuesday when his patrol was ambushed.", 1, None),
        ("A policeman was killed and two civilians were wounded in the blast.", 1, 2),
        ("A young girl was hurt by flying glass, medics said.", None, 1),
        ("A driver was shot dead near the checkpoint.", 1, None),
        # a lone "a" that is no victim: a speaker, a denial, a soldier who did the killing
        ("A man said the explosion shook his windows.", None, None),
        ("Not a single soldier was killed in the exchange.", None, None),
        ("A soldier killed two militants in the exchange.", 2, None),
    ],
)
def test_a_lone_victim_counts_one(text: str, killed: int | None, wounded: int | None) -> None:
    found = extract_casualties(text)
    assert (found.killed, found.wounded) == (killed, wounded)


def test_two_groups_joined_by_and_add_up() -> None:
    assert extract_casualties("Nine protesters and four policemen were wounded.").wounded == 13
    # one group's dead and its wounded are two counts, not two groups
    found = extract_casualties("Twelve people were killed and 30 wounded in the market.")
    assert (found.killed, found.wounded) == (12, 30)


PROTEST = (
    "Riot police fired tear gas at stone-throwing students outside the university in "
    "Nasiriyah on Wednesday, wounding 12, medics said.\n"
)


@pytest.mark.parametrize(
    ("later", "wounded"),
    [
        # the other side's hurt: more than the figure given, so not part of it
        ("The interior ministry said 18 policemen were hurt by stones.", 30),
        # a part of the figure given, or the figure again: not added
        ("Among the wounded, 4 policemen were hurt by stones.", 12),
        ("The interior ministry said 5 policemen were hurt by stones.", 12),
        ("A hospital official said 12 students were wounded.", 12),
    ],
)
def test_the_event_s_toll_adds_another_side_s_victims_not_a_restatement(
    shipped: Classifier, later: str, wounded: int
) -> None:
    event = shipped.classify(
        title="Students and police hurt in Nasiriyah clashes",
        text=PROTEST + later,
        published=THURSDAY_NOON,
    ).event
    assert event.wounded == wounded
