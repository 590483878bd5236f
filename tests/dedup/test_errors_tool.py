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
