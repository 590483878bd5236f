"""Configuration of the database (the `storage:` section)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, field_validator

from monitor.storage.db import check_database_url


class StorageSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # Overridden by --db and $MONITOR_DATABASE_URL; default: ./monitor.db (SQLite).
    url: str | None = None

    @field_validator("url")
    @classmethod
    def _supported(cls, url: str | None) -> str | None:
        if url:  # empty: ${MONITOR_DATABASE_URL:-} unset, the default applies
            check_database_url(url)
        return url
