"""The audit log: one row per action taken through the console or the API."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.storage.models import AuditEntry


def record_action(
    *, session: Session, at: datetime, actor: str, action: str, target: str, detail: str = ""
) -> None:
    session.add(AuditEntry(at=at, actor=actor, action=action, target=target, detail=detail or None))


def recent_actions(*, session: Session, limit: int = 100) -> list[AuditEntry]:
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    return list(session.scalars(query))
