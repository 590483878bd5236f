"""Configuration of classification (the `classify:` section of monitor.yaml)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from monitor.classify.schema import REMOTE_VIOLENCE, AcledName

MAX_TEXT_CHARS = 100_000  # a long feature is ~30,000 characters; beyond it, padding or abuse


# The clear violent events a near miss of the rules may be typed as (ACLED names).
FILL_TYPES: tuple[AcledName, ...] = ("Armed clash", "Attack", *REMOTE_VIOLENCE)


# Types easily taken for one another; the learned chooser may decide within a group. By
# default it decides in the first two: cross-validation found the others better left to
# the rules (BENCHMARKS.md, bench:incident-typing-cv); a user may add them.
CONFUSABLE: tuple[tuple[AcledName, ...], ...] = (
    ("Attack", "Armed clash"),
    ("Violent demonstration", "Mob violence"),
    ("Peaceful protest", "Protest with intervention", "Excessive force against protesters"),
    ("Non-state actor overtakes territory", "Government regains territory"),
)


class ChooserSettings(BaseModel):
    """Choosing between confusable candidates (``learned.rechoose``): when the rules' first
    type is in one of ``groups``, the chooser model may put another member first."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # false: the rules' order stands (the no-type fill is set apart, above)
    enabled: bool = True
    model: str | None = None  # a chooser file `make train` wrote; default: the shipped one
    groups: tuple[tuple[AcledName, ...], ...] = CONFUSABLE[:2]
    # These two and the default groups: cross-validation (bench/incident_typing_cv.py).
    # a group member the rules did not fire is a candidate from this share of its threshold
    min_share: float = Field(default=1.0, ge=0, le=1)
    # how much more likely (among the candidates) the model's pick must be than the rules' first
    min_margin: float = Field(default=0.5, ge=0, le=1)


class LearnedSettings(BaseModel):
    """Filling "no type" (`monitor/classify/learned.py`): an article no rule typed gets the
    closest of ``fill_types`` its rules came near, when the learned model agrees."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # false: the watchlist's rules alone decide (as before), the chooser included
    enabled: bool = True
    model: str | None = None  # a model file `make train` wrote; default: the shipped one
    fill_types: tuple[AcledName, ...] = FILL_TYPES
    # Both chosen by cross-validation (bench/incident_typing_cv.py, BENCHMARKS.md).
    min_rule_share: float = Field(default=0.2, gt=0, le=1)  # of the type's threshold
    min_probability: float = Field(default=0.2, ge=0, le=1)  # the model's, of fill_types
    chooser: ChooserSettings = ChooserSettings()


class ClassifySettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # Characters of an article (title and text) that classification and dedup read; the
    # rest is stored, not analysed, and the article is marked truncated. Bounds the work
    # one article can cost every other feed.
    max_text_chars: int = Field(default=MAX_TEXT_CHARS, ge=1_000, le=10_000_000)
    learned: LearnedSettings = LearnedSettings()
