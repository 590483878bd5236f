"""Configuration of classification (the `classify:` section of monitor.yaml)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from monitor.classify.schema import REMOTE_VIOLENCE, AcledName

MAX_TEXT_CHARS = 100_000  # a long feature is ~30,000 characters; beyond it, padding or abuse


# The clear violent events a near miss of the rules may be typed as (ACLED names).
FILL_TYPES: tuple[AcledName, ...] = ("Armed clash", "Attack", *REMOTE_VIOLENCE)


class LearnedSettings(BaseModel):
    """Filling "no type" (`monitor/classify/learned.py`): an article no rule typed gets the
    closest of ``fill_types`` its rules came near, when the learned model agrees."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # false: the watchlist's rules alone decide (as before)
    enabled: bool = True
    model: str | None = None  # a model file `make train` wrote; default: the shipped one
    fill_types: tuple[AcledName, ...] = FILL_TYPES
    # Both chosen by cross-validation (bench/incident_typing_cv.py, BENCHMARKS.md).
    min_rule_share: float = Field(default=0.2, gt=0, le=1)  # of the type's threshold
    min_probability: float = Field(default=0.2, ge=0, le=1)  # the model's, of fill_types


class ClassifySettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # Characters of an article (title and text) that classification and dedup read; the
    # rest is stored, not analysed, and the article is marked truncated. Bounds the work
    # one article can cost every other feed.
    max_text_chars: int = Field(default=MAX_TEXT_CHARS, ge=1_000, le=10_000_000)
    learned: LearnedSettings = LearnedSettings()
