"""`monitor replay`: classification, dedup and the alert decision over an archive, offline.

One JSON line in per article, one JSON line out, in input order. The clock follows the
stream: each article is processed as of its ``published`` time (missing: the previous
article's time, or the run's start), so backtests see what a live run would have seen.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator
from sqlalchemy.orm import Session, sessionmaker

from monitor.codec import entity_to_dict, event_to_dict
from monitor.errors import MonitorError
from monitor.fetch.urls import http_url
from monitor.pipeline import Outcome, Stages, process_article
from monitor.published import is_believable
from monitor.storage.db import transaction
from monitor.types import Article, Event

log = logging.getLogger(__name__)


class ReplayInput(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str
    title: str = ""
    text: str = ""
    url: str | None = None
    published: datetime | None = None
    source: str | None = None

    @field_validator("url")
    @classmethod
    def _http_only(cls, value: str | None) -> str | None:
        """As for feeds: a javascript: or file: link is never stored nor shown."""
        return http_url(value) if value else None

    @field_validator("published")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)  # an ISO time without zone is taken as UTC
        return value

    def to_article(self) -> Article:
        return Article(
            key=self.id,
            url=self.url,
            canonical_url=self.url,
            title=self.title,
            text=self.text,
            published=self.published,
            source=self.source,
            text_source="input",
        )


@dataclass(frozen=True)
class BadLine:
    line_no: int
    message: str


def parse_lines(lines: Iterable[bytes | str]) -> Iterator[tuple[int, ReplayInput | BadLine]]:
    """(line number, ReplayInput or a BadLine saying what is wrong) for each non-blank line."""
    for no, raw in enumerate(lines, start=1):
        if isinstance(raw, bytes):
            try:
                raw = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                yield no, BadLine(no, f"not UTF-8: byte {exc.start + 1} is {raw[exc.start]:#04x}")
                continue
        if not raw.strip():
            continue
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as exc:
            yield no, BadLine(no, f"not JSON: {exc.msg} (column {exc.colno})")
            continue
        try:
            yield no, ReplayInput.model_validate(data)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'line'}: {e['msg']}" for e in exc.errors()
            )
            yield no, BadLine(no, problems)


def output_line(item: ReplayInput, outcome: Outcome) -> dict[str, Any]:
    c = outcome.classification
    decision = outcome.decision
    return {
        "id": item.id,
        "story_id": outcome.story_id,
        "duplicate_of": outcome.duplicate_of,
        "story_reason": outcome.skipped or outcome.story_reason,
        "incident_types": c.incident_type_ids if c else [],
        "acled_sub_event_types": c.acled_sub_event_types if c else [],
        "entities": [entity_to_dict(e) for e in c.entities] if c else [],
        "event": event_to_dict(c.event) if c else event_to_dict(Event()),
        "story_event": event_to_dict(outcome.story_event) if outcome.story_event else None,
        "severity": c.severity if c else None,
        "alert": decision.kind if decision else None,
        # only on a text longer than classify.max_text_chars: how much of it was read
        **({"analysed_chars": c.analysed_chars} if c and c.truncated else {}),
    }


def replay(
    lines: Iterable[bytes | str],
    *,
    sessions: sessionmaker[Session],
    stages: Stages,
    start: datetime,
    on_error: Callable[[BadLine], None],
) -> Iterator[dict[str, Any]]:
    """Process ``lines`` as a stream; yields one output dict per valid input line."""
    clock = start
    seen_ids: set[str] = set()
    for no, item in parse_lines(lines):
        if isinstance(item, BadLine):
            on_error(item)
            continue
        if item.id in seen_ids:
            on_error(BadLine(no, f"id {item.id!r} repeats an earlier line; skipped"))
            continue
        seen_ids.add(item.id)
        if item.published and is_believable(item.published, now=start):
            clock = item.published  # a zero or future date must not move the clock
        try:
            with transaction(sessions) as session:
                outcome = process_article(
                    session=session, article=item.to_article(), stages=stages, now=clock
                )
        except MonitorError as exc:  # one article the database refuses must not end the run
            on_error(BadLine(no, str(exc)))
            continue
        yield output_line(item, outcome)
