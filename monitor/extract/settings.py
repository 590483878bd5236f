"""Configuration of article extraction (the `extract:` section)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from monitor.units import PositiveDuration


class SiteOverride(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    favor: Literal["precision", "recall", "balanced"] = "balanced"
    fetch_page: bool = True  # False: use the feed's own content


class ExtractSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    fetch_pages: bool = True
    min_text_chars: int = Field(default=200, ge=0)  # shorter extractions fall back to the feed
    keep_raw_html: bool = False
    workers: int | None = Field(default=None, ge=1)  # extraction processes; default: one per CPU
    # A pathological page must not hold an article back for ever; past this, use the feed text.
    timeout: PositiveDuration = timedelta(seconds=30)
    sites: dict[str, SiteOverride] = Field(default_factory=dict)  # host -> override

    @model_validator(mode="before")
    @classmethod
    def _moved(cls, data: Any) -> Any:
        if isinstance(data, dict) and "raw_html_retention" in data:
            raise ValueError("raw_html_retention has moved: set storage.retention.raw_html instead")
        return data

    @field_validator("sites")
    @classmethod
    def _normalise_hosts(cls, sites: dict[str, SiteOverride]) -> dict[str, SiteOverride]:
        """Keys are matched case-insensitively and without a leading "www."."""
        return {_host_key(host): override for host, override in sites.items()}

    def site(self, host: str | None) -> SiteOverride | None:
        """The override for ``host`` or its closest configured parent domain."""
        key = _host_key(host or "")
        while key:
            if key in self.sites:
                return self.sites[key]
            key = key.partition(".")[2]
        return None


def _host_key(host: str) -> str:
    host = host.strip().lower().rstrip(".")
    return host[4:] if host.startswith("www.") else host
