"""Stories and articles for the console's tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from monitor.storage.facets import refresh_facets
from monitor.storage.models import ArticleRow, Story

T0 = datetime(2020, 3, 12, 20, 0, tzinfo=UTC)
TOLL = "The rockets killed two American soldiers and a British medic."
TEXT = f"Kitaeb Hezbollah fired rockets at Camp Taji on Wednesday. {TOLL} Inquiries go on."
CLASSIFICATION: dict[str, Any] = {
    "entities": [
        {
            "id": "kataib-hezbollah",
            "kind": "group",
            "name": "Kataib Hezbollah",
            "mentions": [{"text": "Kitaeb Hezbollah", "start": 0, "end": 16}],
        },
    ],
    "incident_types": [
        {"id": "rocket-attack", "evidence": [{"matched": "rockets", "term": "rocket"}]}
    ],
    "casualties": {"killed": 3, "evidence": [TOLL]},
    "rules": [{"rule_id": "strikes-on-kh", "severity": "high", "routes": []}],
}


def add(session: Session, n: int, *, text: str = "Harvest news", **story: Any) -> Story:
    row = Story(
        headline=story.pop("headline", f"Story {n}"), first_seen=T0,
        last_seen=T0 + timedelta(minutes=n), features={}, **story,
    )  # fmt: skip
    session.add(row)
    session.flush()
    session.add(
        ArticleRow(
            key=f"a{n}",
            title=f"Article {n}",
            text=text,
            processed_at=T0,
            story_id=row.id,
            source="Northgate Post",
            url=f"http://127.0.0.1/news/{n}",
            classification=CLASSIFICATION if "Kitaeb" in text else {},
        )
    )
    refresh_facets(session=session, story_ids=[row.id])  # as dedup does when one joins
    return row
