"""Configuration of the database (the `storage:` section)."""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from monitor.storage.db import check_database_url
from monitor.units import PositiveDuration, format_duration


class RetentionSettings(BaseModel):
    """How long bulky article content is kept (`storage.retention:`); null keeps it for ever.

    Only content goes: entry identities, article URLs, content hashes, titles and
    classifications stay, so a pruned article is still known and never alerts again."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # Extracted text of articles whose story never alerted (alerted stories keep theirs).
    article_text: PositiveDuration | None = None
    # Fetched pages (stored only with extract.keep_raw_html).
    raw_html: PositiveDuration | None = timedelta(days=7)

    @model_validator(mode="after")
    def _html_not_longer_than_text(self) -> RetentionSettings:
        # The page holds the text: keeping it longer would keep what was meant to go.
        text, html = self.article_text, self.raw_html
        if text is not None and (html is None or html > text):
            kept = "for ever" if html is None else format_duration(html)
            raise ValueError(
                f"raw_html ({kept}) is kept longer than article_text "
                f"({format_duration(text)}); the text could be re-extracted from the page: "
                "make raw_html no longer than article_text"
            )
        return self


class StorageSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # Overridden by --db and $MONITOR_DATABASE_URL; default: ./monitor.db (SQLite).
    url: str | None = None
    retention: RetentionSettings = RetentionSettings()

    @field_validator("url")
    @classmethod
    def _supported(cls, url: str | None) -> str | None:
        if url:  # empty: ${MONITOR_DATABASE_URL:-} unset, the default applies
            check_database_url(url)
        return url
