"""A story's headline: the clearest among its sources, not simply the first to arrive."""

from __future__ import annotations

from monitor.dedup.aggregate import better_headline, headline_quality
from monitor.dedup.text import term_frequencies
from monitor.storage.models import Story

CUT_LEDE = (
    "According to officials, the army launched strikes on a militia that was believed "
    "responsible for the rocket attack on the northern base that killed a"
)
CLEAR = "Army strikes militia depots after deadly rocket attack on northern base"


def test_a_clear_later_headline_replaces_a_cut_off_lede() -> None:
    story = Story(headline=CUT_LEDE)
    centroid = term_frequencies("", f"{CUT_LEDE} {CLEAR}")
    assert better_headline(story, CLEAR, centroid) == CLEAR


def test_a_clear_first_headline_is_kept_against_a_lede() -> None:
    story = Story(headline=CLEAR)
    centroid = term_frequencies("", f"{CUT_LEDE} {CLEAR}")
    assert better_headline(story, CUT_LEDE, centroid) == CLEAR


def test_headline_quality_reads_cuts_ledes_and_labels() -> None:
    assert headline_quality(CLEAR) == 1.0
    assert headline_quality(CUT_LEDE) < 0.5
    assert headline_quality("Rockets") < headline_quality(CLEAR)
