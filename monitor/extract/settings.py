"""Configuration of article extraction (the `extract:` section)."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from monitor.units import Duration


class SiteOverride(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    favor: Literal["precision", "recall", "balanced"] = "balanced"
    fetch_page: bool = True  # False: use the feed's own content


class ExtractSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    fetch_pages: bool = True
    min_text_chars: int = Field(default=200, ge=0)  # shorter extractions fall back to the feed
    keep_raw_html: bool = False
    raw_html_retention: Duration = timedelta(days=7)
    workers: int | None = None  # extraction processes; default: one per CPU
    sites: dict[str, SiteOverride] = Field(default_factory=dict)  # host -> override
