"""Configuration of classification (the `classify:` section of monitor.yaml)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

MAX_TEXT_CHARS = 100_000  # a long feature is ~30,000 characters; beyond it, padding or abuse


class ClassifySettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # Characters of an article (title and text) that classification and dedup read; the
    # rest is stored, not analysed, and the article is marked truncated. Bounds the work
    # one article can cost every other feed.
    max_text_chars: int = Field(default=MAX_TEXT_CHARS, ge=1_000, le=10_000_000)
