"""`monitor replay`: classification, dedup and the alert decision over an archive, offline.

One JSON line in per article, one JSON line out, in input order. The clock follows the
stream: each article is processed as of its ``published`` time (missing: the previous
article's time, or the run's start), so backtests see what a live run would have seen.
"""

from __future__ import annotations

import json
import logging
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator
from sqlalchemy.orm import Session, sessionmaker

from monitor.codec import entity_to_dict, event_to_dict
from monitor.dedup.features import Embedded
from monitor.errors import MonitorError
from monitor.fetch.urls import http_url
from monitor.pipeline import Outcome, Stages, process_article, start_embedding
from monitor.published import at_own_offset, is_believable
from monitor.storage.db import transaction
from monitor.types import Article, Event

log = logging.getLogger(__name__)
# Articles read ahead and embedding on worker threads while the current one is classified
# and assigned: enough to keep every CPU busy, few enough to hold little memory.
READ_AHEAD = 8


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
        """An ISO time without zone is taken as UTC; one with a real zone's offset keeps it,
        as a feed's does: it is the article's own day (classify/dates.py)."""
        if value is None:
            return None
        try:
            return at_own_offset(value)
        except OverflowError:  # before year 1 in UTC: kept, and not believed later
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
        # only when dedup merged stories into this one as the article arrived: their
        # earlier lines' story ids now mean ``story_id`` (dedup/merging.py)
        **({"merged_stories": list(outcome.merged_stories)} if outcome.merged_stories else {}),
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
    for no, item, pending in _embedding_ahead(parse_lines(lines), stages):
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
                    session=session, article=item.to_article(), stages=stages, now=clock,
                    embedded=pending.result() if pending else None,
                )  # fmt: skip
        except MonitorError as exc:  # one article the database refuses must not end the run
            on_error(BadLine(no, str(exc)))
            continue
        yield output_line(item, outcome)


def _embedding_ahead(
    items: Iterable[tuple[int, ReplayInput | BadLine]], stages: Stages
) -> Iterator[tuple[int, ReplayInput | BadLine, Future[Embedded] | None]]:
    """``items`` in order, each valid one with its embedding started READ_AHEAD items early.
    An embedding depends on its article's text alone, so results are those of one by one."""
    window: deque[tuple[int, ReplayInput | BadLine, Future[Embedded] | None]] = deque()
    for no, item in items:
        if isinstance(item, ReplayInput):
            window.append((no, item, start_embedding(stages, item.to_article())))
        else:
            window.append((no, item, None))
        if len(window) > READ_AHEAD:
            yield window.popleft()
    yield from window
