"""${message}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
Create Date: ${create_date}
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import monitor.storage.base
from monitor.storage import facets, fulltext

revision: str = ${repr(up_revision)}
down_revision: str | None = ${repr(down_revision)}
branch_labels: str | Sequence[str] | None = ${repr(branch_labels)}
depends_on: str | Sequence[str] | None = ${repr(depends_on)}


def upgrade() -> None:
    ${upgrades if upgrades else "pass"}
    # Full-text search: raw DDL per backend (see monitor/storage/fulltext.py).
    fulltext.create_index(op.get_bind())
    # The facets' joint statistics (PostgreSQL only; see monitor/storage/facets.py).
    facets.create_statistics(op.get_bind())


def downgrade() -> None:
    facets.drop_statistics(op.get_bind())
    fulltext.drop_index(op.get_bind())
    ${downgrades if downgrades else "pass"}
