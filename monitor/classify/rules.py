"""Rules: incident types, entities and entity kinds combined with all/any/none.

A rule on a parent covers its children: a rule on ``iraq`` fires for Camp Taji, a rule on
``shelling`` for a rocket attack. Severity may rise with casualties (``escalate``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from monitor.classify.schema import Condition, Escalation
from monitor.classify.watchlist import Names, Rule
from monitor.types import Casualties, EntityMatch, IncidentMatch, RuleHit, Severity, severity_rank


@dataclass(frozen=True)
class Facts:
    """What one article reports, in the shape rules ask about."""

    types: tuple[IncidentMatch, ...]
    entities: tuple[EntityMatch, ...]
    casualties: Casualties

    def type_ids(self) -> set[str]:
        return {i for m in self.types for i in (m.id, *m.ancestors)}

    def entity_ids(self) -> set[str]:
        return {i for m in self.entities for i in (m.id, *m.ancestors)}

    def kinds(self) -> set[str]:
        return {m.kind for m in self.entities}


def evaluate(rule: Rule, facts: Facts, names: Names | None = None) -> RuleHit | str:
    """The hit when the rule fires, else why it did not, naming what is missing by
    ``names`` (ids without them)."""
    names = names or Names()
    checks = (
        ("incident type", rule.incident_types, facts.type_ids(), names.type),
        ("entity", rule.entities, facts.entity_ids(), names.entity),
        ("entity kind", rule.entity_kinds, facts.kinds(), str),
    )
    for what, cond, present, name in checks:
        why = _unmet(what, cond, present, name)
        if why:
            return why
    best = _best_score(rule, facts)
    if best < rule.min_score:
        return f"best incident score {best:g} is below min_score {rule.min_score:g}"
    severity, step = escalation(rule, facts.casualties)
    return RuleHit(rule.id, severity, rule.routes, _reason(rule, facts, severity, step))


def _unmet(what: str, cond: Condition, present: set[str], name: Callable[[str], str]) -> str | None:
    def listed(ids: Iterable[str]) -> str:
        return "; ".join(name(i) for i in ids)  # labels hold commas ("Shelling, artillery …")

    if cond.any and not present.intersection(cond.any):
        return f"no {what} among {listed(cond.any)}"
    missing = [x for x in cond.all if x not in present]
    if missing:
        return f"{what} {listed(missing)} not found (all of {listed(cond.all)} needed)"
    vetoing = [x for x in cond.none if x in present]
    if vetoing:
        return f"{what} {listed(vetoing)} is present (rule excludes it)"
    return None


def _best_score(rule: Rule, facts: Facts) -> float:
    named = set(rule.incident_types.any) | set(rule.incident_types.all)
    scores = [m.score for m in facts.types if not named or named.intersection((m.id, *m.ancestors))]
    return max(scores, default=0.0)


def escalation(rule: Rule, casualties: Casualties) -> tuple[Severity, Escalation | None]:
    """The rule's severity for this toll and the ``escalate`` step that raised it (None:
    the rule's own severity)."""
    severity: Severity = rule.severity
    decided: Escalation | None = None
    for step in rule.escalate:
        killed = step.killed is not None and (casualties.killed or 0) >= step.killed
        wounded = step.wounded is not None and (casualties.wounded or 0) >= step.wounded
        if (killed or wounded) and severity_rank(step.severity) > severity_rank(severity):
            severity, decided = step.severity, step
    return severity, decided


def _toll(step: Escalation, casualties: Casualties) -> str:
    """The figures known, each that cleared the step's bar with it: "3 killed >= 1, 12
    wounded" (an alert shows the bar, not only the count); never "wounded None"."""
    told = [
        f"{n} {what}" + (f" >= {at}" if at is not None and n >= at else "")
        for what, n, at in (
            ("killed", casualties.killed, step.killed),
            ("wounded", casualties.wounded, step.wounded),
        )
        if n is not None
    ]
    return ", ".join(told) or "no toll stated"


ESCALATION = "; severity "  # where ``_reason`` tells how the toll raised the severity


def severity_why(hit: RuleHit) -> str:
    """Why the hit has its severity, for an alert: "HIGH: escalated from medium, 3 killed >= 1"
    (read back from ``_reason``, which may be stored) or the rule's own "severity high"."""
    _, escalated_, step = hit.reason.partition(ESCALATION)  # "medium -> high (3 killed >= 1)"
    if not escalated_:
        return f"severity {hit.severity}"
    base, _, rest = step.partition(" -> ")
    toll = rest.partition(" (")[2].removesuffix(")")
    return f"{hit.severity.upper()}: escalated from {base}" + (f", {toll}" if toll else "")


def matched_why(hit: RuleHit) -> str:
    """What the rule matched ("Rocket attack (score 0.9 >= 0.5) + Camp Taji"), if stored."""
    return hit.reason.partition(ESCALATION)[0]


def _reason(rule: Rule, facts: Facts, severity: Severity, step: Escalation | None) -> str:
    parts = []
    named_types = set(rule.incident_types.any) | set(rule.incident_types.all)
    for m in facts.types:
        if named_types.intersection((m.id, *m.ancestors)):
            parts.append(f"{m.label} (score {m.score:g} >= {m.threshold:g})")
    named_entities = set(rule.entities.any) | set(rule.entities.all)
    for e in facts.entities:
        if named_entities.intersection((e.id, *e.ancestors)) or e.kind in rule.entity_kinds.any:
            parts.append(e.name if e.named else f"{e.name} (demonym {e.mentions[0].text!r})")
    reason = " + ".join(parts) or "conditions met"
    if step is not None:  # the bar the toll cleared, so an alert can say "3 killed >= 1"
        reason += f"{ESCALATION}{rule.severity} -> {severity} ({_toll(step, facts.casualties)})"
    return reason
