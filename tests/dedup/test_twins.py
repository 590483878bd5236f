"""Same-kind twins (issue 13, item 5): two earthquakes, two bombings, two shootings of one
day told in the same words stay apart when they name other places; two reports of one
incident join, worded differently and spelling its place differently."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from typer.testing import CliRunner

from monitor.cli import app
from monitor.dedup.nearcopy import sketch_text
from monitor.types import Article

from .conftest import Process
from .samples import published
from .twins import incidents, stream

CONFIG = Path(__file__).resolve().parents[2] / "config" / "monitor.yaml"


def _story_per_incident(stories: dict[str, int]) -> dict[int, set[int]]:
    """Incident number -> the stories its reports went to."""
    out: dict[int, set[int]] = {}
    for key, story in stories.items():
        out.setdefault(int(key.rsplit("-", 1)[1]), set()).add(story)
    return out


def test_the_template_reports_are_near_copies_of_each_other() -> None:
    """The premise: without the place, two incidents of a kind read as copies."""
    first, other = incidents(4)[0].reports[0], incidents(4)[3].reports[0]
    a, b = sketch_text(first.text, shingle_words=3), sketch_text(other.text, shingle_words=3)
    assert a is not None and b is not None and a.jaccard(b) >= 0.6


def test_every_incident_is_one_story_however_alike_their_words(process: Process) -> None:
    stories = {a.key: process(a).story_id for a in stream(12)}
    per_incident = _story_per_incident(stories)
    assert all(len(s) == 1 for s in per_incident.values()), per_incident
    assert len(set(stories.values())) == 12


def test_a_twin_elsewhere_is_a_new_story_and_the_reason_says_why(process: Process) -> None:
    quake, twin = incidents(4)[0].reports[0], incidents(4)[3].reports[0]  # both earthquakes
    twin = replace(twin, published=published(quake) + timedelta(hours=1))
    first = process(quake)
    second = process(twin)
    assert second.is_new_story and second.story_id != first.story_id
    assert second.duplicate_of is None  # not taken for a copy on the near-copy path either
    assert "near-copy of first-0 vetoed: other place (Jisr Bayda / Tell Hamra)" in second.reason
    assert "kept apart from story" in second.reason


def _respelled(article: Article) -> Article:
    """The village as another outlet spells it."""
    return replace(
        article,
        title=article.title.replace("Tell Hamra", "Tel Hamrah"),
        text=article.text.replace("Tell Hamra", "Tel Hamrah"),
    )


def test_a_rewrite_spelling_the_village_otherwise_joins(process: Process) -> None:
    first = incidents(1)[0].reports[0]
    rewrite = _respelled(
        replace(
            first,
            key="rewrite-0",
            title="Quake kills 2 in Tell Hamra, flattening homes",
            text=first.text.replace("shortly after dawn", "at first light")
            .replace("the district governor said", "according to the district governor")
            .replace("until nightfall", "all day"),
            published=first.published + timedelta(hours=2) if first.published else None,
        )
    )
    a = process(first)
    b = process(rewrite)
    assert not b.is_new_story and b.story_id == a.story_id, b.reason
    assert "vetoed" not in b.reason


def _replay(tmp_path: Path, articles: list[Article]) -> dict[str, int]:
    path = tmp_path / "input.jsonl"
    lines = [
        {"id": a.key, "title": a.title, "text": a.text, "published": a.published.isoformat()}
        for a in articles
        if a.published is not None
    ]
    path.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    result = CliRunner().invoke(app, ["replay", str(path), "--config", str(CONFIG)])
    assert result.exit_code == 0, result.output
    out = [json.loads(x) for x in result.stdout.splitlines() if x.strip()]
    return {o["id"]: o["story_id"] for o in out}


def test_replay_with_the_shipped_configuration_makes_one_story_per_incident(
    tmp_path: Path,
) -> None:
    """As `monitor replay` runs it: sentence embeddings on, near-copies, the shipped
    watchlists (which know none of these villages)."""
    stories = _replay(tmp_path, stream(9))
    per_incident = _story_per_incident(stories)
    assert all(len(s) == 1 for s in per_incident.values()), per_incident
    assert len(set(stories.values())) == 9
