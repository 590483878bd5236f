"""Configuration of story deduplication (the `dedup:` section)."""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, ConfigDict

from monitor.units import Duration


class DedupSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    window: Duration = timedelta(days=3)  # stories older than this take no new articles
