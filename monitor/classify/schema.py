"""The watchlist language: what a YAML file may say, checked by pydantic.

A file may hold ``include``, ``scoring``, ``incident_types``, ``entities`` and ``rules``.
Cross-file checks (unknown ids, duplicates, parent cycles) live in ``watchlist.py``.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from monitor.types import Severity

ACLED_SUB_EVENT_TYPES = (
    "Armed clash",
    "Government regains territory",
    "Non-state actor overtakes territory",
    "Chemical weapon",
    "Air/drone strike",
    "Suicide bomb",
    "Shelling/artillery/missile attack",
    "Remote explosive/landmine/IED",
    "Grenade",
    "Sexual violence",
    "Attack",
    "Abduction/forced disappearance",
    "Peaceful protest",
    "Protest with intervention",
    "Excessive force against protesters",
    "Violent demonstration",
    "Mob violence",
    "Agreement",
    "Arrests",
    "Change to group/activity",
    "Disrupted weapons use",
    "Headquarters or base established",
    "Looting/property destruction",
    "Non-violent transfer of territory",
    "Other",
)
AcledName = Literal[ACLED_SUB_EVENT_TYPES]  # type: ignore[valid-type]
# ACLED's "Explosions/Remote violence" sub-events: the means of an attack.
REMOTE_VIOLENCE: tuple[AcledName, ...] = (
    "Shelling/artillery/missile attack",
    "Air/drone strike",
    "Remote explosive/landmine/IED",
    "Suicide bomb",
    "Grenade",
    "Chemical weapon",
)
EntityKind = Literal[
    "armed_group",
    "state_force",
    "military_base",
    "facility",
    "location",
    "country",
    "person",
    "organization",
    "weapon",
]

_TERM = re.compile(r"^[^\W_]+(?:['’\-][^\W_]+)*\*?(?: [^\W_]+(?:['’\-][^\W_]+)*\*?)*$")


def _check_id(value: str) -> str:
    if not re.fullmatch(r"[a-z0-9][a-z0-9_\-]*", value):
        raise ValueError("ids use lowercase letters, digits, '-' and '_' (e.g. kataib-hezbollah)")
    return value


def _check_term(value: str) -> str:
    """A term is alternatives separated by '|': words, each may end in '*' (prefix)."""
    for alt in value.split("|"):
        if not _TERM.match(" ".join(alt.split())):
            raise ValueError(
                f"invalid term {alt.strip()!r}: use words separated by spaces, "
                "'*' only at the end of a word, '|' between alternatives"
            )
    return value


Id = Annotated[str, AfterValidator(_check_id)]
Term = Annotated[str, AfterValidator(_check_term)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Scoring(_Strict):
    title: float = Field(default=2.0, ge=0)  # multiplier for hits in the title
    lead: float = Field(default=1.5, ge=0)  # ... in the first ``lead_sentences`` sentences
    lead_sentences: int = Field(default=2, ge=0)
    max_hits_per_term: int = Field(default=3, ge=1)  # repetition adds up, but not without bound


Latitude = Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False)]
Longitude = Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False)]


class AliasSpec(_Strict):
    alias: str = Field(min_length=1)
    case_sensitive: bool = False


class EntitySpec(_Strict):
    id: Id
    kind: EntityKind
    name: str = Field(min_length=1)
    aliases: list[str | AliasSpec] = Field(default_factory=list)
    parent: str | None = None
    fuzzy: bool = True  # catch unlisted transliterations (when the classifier has fuzzy on)
    demonyms: list[str] = Field(default_factory=list)  # "Iraqi", "Iraqis": flagged mentions
    plural: bool = False  # regular plurals of the names match too ("Katyushas")
    # [latitude, longitude] in degrees, for the console's map of where stories happen.
    coordinates: tuple[Latitude, Longitude] | None = None


class Pattern(_Strict):
    """Every group must match, the groups within ``within`` words of each other."""

    near: list[Term] = Field(min_length=2, max_length=4)
    within: int = Field(default=5, ge=0, le=50)
    ordered: bool = False  # groups must appear in the order written
    weight: float = 1.0


class Exclusion(_Strict):
    term: Term
    # sentence: hits in a sentence containing the term do not count; article: vetoes the type
    scope: Literal["sentence", "article"] = "sentence"


class IncidentTypeSpec(_Strict):
    id: Id
    label: str = Field(min_length=1)
    parent: str | None = None
    acled: AcledName | None = None  # children inherit their parent's
    description: str = ""
    keywords: dict[Term, float] = Field(default_factory=dict)
    patterns: list[Pattern] = Field(default_factory=list)
    exclude: list[Term | Exclusion] = Field(default_factory=list)
    threshold: float = Field(default=3.0, gt=0)
    # ACLED's precedence: when this type fires, these rank below it (a suicide bombing is
    # not primarily a remote explosive; a violent demonstration not a peaceful protest).
    supersedes: list[str] = Field(default_factory=list)


class Condition(_Strict):
    any: list[str] = Field(default_factory=list)
    all: list[str] = Field(default_factory=list)
    none: list[str] = Field(default_factory=list)


class Escalation(_Strict):
    killed: int | None = Field(default=None, ge=0)  # at least this many killed ...
    wounded: int | None = Field(default=None, ge=0)  # ... or at least this many wounded
    severity: Severity


class RuleSpec(_Strict):
    id: Id
    description: str = ""
    incident_types: Condition = Condition()
    entities: Condition = Condition()
    entity_kinds: Condition = Condition()
    min_score: float = 0.0  # the best named incident type must score at least this
    severity: Severity = "medium"
    escalate: list[Escalation] = Field(default_factory=list)
    routes: list[str] = Field(default_factory=lambda: ["default"])


class WatchlistFile(_Strict):
    include: list[str] = Field(default_factory=list)  # other files, relative to this one
    scoring: Scoring | None = None
    incident_types: list[IncidentTypeSpec] = Field(default_factory=list)
    entities: list[EntitySpec] = Field(default_factory=list)
    rules: list[RuleSpec] = Field(default_factory=list)
