"""bench/dedup_errors.py: each report is judged by what existed when it arrived."""

from __future__ import annotations

from bench.dedup_errors import judge, plain_centroids, why_split


def _replayed(*rows: tuple[str, str, int, str]) -> tuple[list, dict, dict]:
    lines = [{"id": key, "title": key} for key, _, _, _ in rows]
    gold = {key: event for key, event, _, _ in rows}
    out = {key: {"story_id": story, "story_reason": why} for key, _, story, why in rows}
    return lines, gold, out


def test_the_join_that_mixes_two_events_is_told_from_those_that_follow_it() -> None:
    lines, gold, out = _replayed(
        ("a1", "A", 1, "new story (no candidate)"),
        ("b1", "B", 1, "same event: text 0.36"),  # B's first report joins A's story
        ("a2", "A", 1, "same event: text 0.60"),
        ("b2", "B", 1, "near-copy of b1 (Jaccard ~0.70)"),  # into a story mostly of A
        ("b3", "B", 2, "new story (closest scored 0.60: text 0.47 other days)"),
        ("a3", "A", 3, "new story (closest scored 0.10: text 0.10)"),
        ("a4", "A", 3, "same event: text 0.50"),
    )
    kinds = [(kind, detail) for kind, detail, _ in judge(lines, gold, out)]
    assert kinds == [
        ("first of its event", ""),
        ("cross", "first, score/model"),
        ("joined its story", ""),
        ("cross", "near-copy"),  # not the first: the story held B already
        ("split", "contradiction (text < conflict_threshold)"),
        ("split", "scored below the join rule"),
        ("joined a fragment", ""),
    ]


def test_a_report_not_scored_is_left_out() -> None:
    lines, gold, out = _replayed(("a1", "A", 1, "new story (no candidate)"))
    gold["x"] = None
    lines.append({"id": "x", "title": "x"})
    assert [line["id"] for _, _, line in judge(lines, gold, out)] == ["a1"]


def test_what_kept_a_report_apart_is_read_from_its_reason() -> None:
    assert why_split("new story (no candidate)") == "no candidate found"
    assert (
        why_split("new story (kept apart from story 3: other place (A / B); no other candidate)")
        == "place veto"
    )


def test_the_plain_baseline_groups_by_centroid_cosine() -> None:
    quake = "A strong earthquake struck the island of Qeshm, destroying mud-brick villages."
    lines = [
        {"id": "a", "title": "Quake on Qeshm", "text": quake},
        {"id": "b", "title": "Coach fired", "text": "The Sixers fired their head coach Cheeks."},
        {"id": "c", "title": "Quake on Qeshm island", "text": quake + " Ten died."},
    ]
    made = plain_centroids(lines, 0.3)
    assert made["a"] == made["c"] != made["b"]
    assert len(set(plain_centroids(lines, 0.999).values())) == 3  # nothing is that close


def test_errors_are_counted_per_topic() -> None:
    from bench.dedup_errors import by_topic

    lines, gold, out = _replayed(
        ("a1", "2-ecb", 1, "new story (no candidate)"),
        ("b1", "2-ecbplus", 1, "same event: text 0.36"),  # mixes the twins
        ("a2", "2-ecb", 2, "new story (closest scored 0.20: text 0.20)"),  # a split
        ("c1", "10-ecb", 3, "new story (no candidate)"),
    )
    rows = by_topic(judge(lines, gold, out), gold, out)
    assert rows == [("2", 3, 2, 1, 1), ("10", 1, 1, 0, 0)]  # topics in numeric order


def test_the_oracle_refuses_only_a_story_holding_none_of_the_event() -> None:
    from bench.dedup_errors import twin_stopped

    assert twin_stopped({"quake-north"}, "quake-south")
    assert not twin_stopped({"quake-north", "quake-south"}, "quake-south")  # already mixed
    assert not twin_stopped(set(), "quake-south")  # a story of no scored report


def _pair(story_text: str, article_text: str) -> tuple:
    """A one-report story and an article (full reports: 40+ words), as the rules score them
    (words only)."""
    from datetime import UTC, datetime

    from monitor.dedup.features import features_of
    from monitor.dedup.index import StoryIndex
    from monitor.dedup.profile import StoryProfile
    from monitor.dedup.settings import DedupSettings
    from monitor.types import Article, Classification

    t0 = datetime(2026, 3, 6, 12, tzinfo=UTC)  # a Friday
    settings = DedupSettings()
    index = StoryIndex(settings)
    first, second = (
        features_of(Article(key=k, url=None, title=t.split(". ")[0], text=t, published=t0),
                    Classification(), t0)
        for k, t in (("s", story_text), ("a", article_text))
    )  # fmt: skip
    index.learn(1, first.terms)
    index.learn(2, second.terms)
    story = StoryProfile(1, t0, t0)
    story.add(first)
    vectors = (index.weighed_article(second), index.weighed_story(story))
    return settings, second, story, vectors


QUAKE = (
    "A quake of magnitude {m} shook the island towns on {day}, and {n} people were hurt. "
    "Rescuers searched the rubble of mud-brick homes while aftershocks rattled the coast. "
    "The island's governor said schools would stay shut while engineers checked them."
)


def test_the_figures_probe_keeps_apart_reports_whose_ledes_give_other_figures() -> None:
    from bench.dedup_errors import ToldScorer

    settings, article, story, vectors = _pair(
        QUAKE.format(m="5.6", day="Thursday", n="five"),
        QUAKE.format(m="6.1", day="Thursday", n="ten"),
    )
    assert ToldScorer(settings).judge(article, story, vectors).joins  # as shipped: one story
    probe = ToldScorer(settings, figures_bar=0.99).judge(article, story, vectors)
    assert not probe.joins and "other figures" in probe.reason


def test_the_days_ceiling_lets_reports_naming_other_days_join() -> None:
    from bench.dedup_errors import ToldScorer

    settings, article, story, vectors = _pair(
        "Island quake hurts five. A quake shook the island towns on Monday and five people "
        "were hurt. Rescuers searched the rubble of mud-brick homes with sniffer dogs, and "
        "volunteers handed out blankets and bread at the harbour. The old lighthouse lost "
        "its lamp, and the mayor asked drivers to keep the coast road clear for lorries.",
        "Island quake hurts five. Five people were hurt when a quake shook island towns on "
        "Thursday. Engineers inspected cracked school walls, ferries were halted and the "
        "governor promised tents for families sleeping outdoors. Doctors at the clinic "
        "treated cuts and one broken arm, and the port reopened to fishing boats at dusk.",
    )
    shipped = ToldScorer(settings).judge(article, story, vectors)
    assert not shipped.joins and "other days" in shipped.reason
    assert ToldScorer(settings, days=False).judge(article, story, vectors).joins


def test_a_changed_dedup_setting_reaches_the_replayed_configuration(tmp_path) -> None:
    """`--days-bar` replays with the shipped configuration and one dedup setting changed."""
    from bench._dedup import SHIPPED_CONFIG, dedup_config
    from monitor.config import load_config

    changed = load_config(dedup_config(tmp_path, {"days_conflict_threshold": 0.4}, name="bar"))
    shipped = load_config(SHIPPED_CONFIG).settings.dedup
    assert changed.settings.dedup.days_conflict_threshold == 0.4 != shipped.days_conflict_threshold
    assert changed.settings.dedup.join_threshold == shipped.join_threshold
