"""Why an article was classified the way it was: evidence, highlighted, and rules not fired."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from monitor.classify.watchlist import Names
from monitor.codec import event_to_dict
from monitor.types import ChooserVote, Classification, Event, LearnedVote, Mention
from monitor.units import counted

_BOLD, _YELLOW, _CYAN, _DIM, _RESET = "\033[1m", "\033[33m", "\033[36m", "\033[2m", "\033[0m"


def _mark(sentence: str, matched: str, color: bool, tint: str) -> str:
    """The sentence with the matched words highlighted (ANSI colour, or »brackets«)."""
    if matched not in sentence:
        return sentence
    on, off = (f"{_BOLD}{tint}", _RESET) if color else ("»", "«")
    return sentence.replace(matched, f"{on}{matched}{off}", 1)


def _mention_note(mention: Mention) -> str:
    if mention.demonym:
        return " (demonym: its people, not the entity itself)"
    return " (fuzzy: spelling not in the watchlist)" if mention.fuzzy else ""


def truncation_note(analysed: int | None, total: int) -> str | None:
    """What was read of a text longer than classify.max_text_chars; None when all was."""
    if analysed is None:
        return None
    return (
        f"classified and deduplicated on the first {analysed:,} of {total:,} characters "
        "(classify.max_text_chars)"
    )


def _short(sentence: str, limit: int = 220) -> str:
    flat = " ".join(sentence.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def explain_text(
    title: str,
    text: str,
    classification: Classification,
    *,
    color: bool,
    names: Names | None = None,
    published: datetime | None = None,
) -> str:
    """``names``: what to call the ids the watchlist gives (parents, the event's type);
    ``published``: the time the classification read day words against (None: none)."""
    c = classification
    names = names or Names()
    head = (lambda s: f"{_BOLD}{s}{_RESET}") if color else (lambda s: s)
    out = [head(f"Article: {title}"), ""]
    if c.analysed_chars is not None:
        out += [head("Text truncated") + f": {truncation_note(c.analysed_chars, len(text))}", ""]
    out.append(head("Incident types") + (" (best first)" if c.incident_types else ": none fired"))
    for m in c.incident_types:
        acled = f" [ACLED: {m.acled}]" if m.acled else ""
        parents = f" (under {', '.join(map(names.type, m.ancestors))})" if m.ancestors else ""
        out.append(f"  {m.label}{acled}{parents}: score {m.score:g} / threshold {m.threshold:g}")
        if m.learned is not None:
            out += [f"    {line}" for line in _vote_lines(m.learned)]
        if m.chosen is not None:
            out += [f"    {line}" for line in _chooser_lines(m.chosen)]
        for e in m.evidence:
            sign = "-" if e.negative else "+"
            out.append(f"    {sign}{abs(e.weight):g}  {e.term!r} matched {e.matched!r}")
            out.append(f"          {_short(_mark(e.sentence, e.matched, color, _YELLOW))}")
    if c.fill_note:
        out.append(f"  {c.fill_note}")
    if c.chooser_note:
        out.append(f"  {c.chooser_note}")
    out += ["", head("Entities") + ("" if c.entities else ": none")]
    for ent in c.entities:
        under = f" (in {', '.join(map(names.entity, ent.ancestors))})" if ent.ancestors else ""
        out.append(f"  {ent.name} [{ent.kind}]{under}: {counted(len(ent.mentions), 'mention')}")
        for mention in ent.mentions[:3]:
            where = _short(_mark(mention.sentence, mention.text, color, _CYAN))
            out.append(f"    {mention.text!r}{_mention_note(mention)}: {where}")
    out += ["", head("Main event") + ("" if c.event.incident_type else ": no incident reported")]
    out += [f"  {line}" for line in _event_lines(c.event, names, published)]
    cas = c.casualties
    out += ["", head("Casualties (of the event)") + f": {_toll(cas.killed, cas.wounded)}"]
    out += [f"    from {p!r}" for p in cas.evidence]
    out += ["", head("Rules fired") + ("" if c.rules else ": none")]
    for r in c.rules:
        out.append(f"  {r.rule_id} -> {r.severity}, routes {', '.join(r.routes)}: {r.reason}")
    if c.rules_not_fired:
        out += ["", head("Rules not fired")]
        out += [f"  {rid}: {why}" for rid, why in c.rules_not_fired]
    return "\n".join(out) + "\n"


def _vote_lines(vote: LearnedVote) -> list[str]:
    """Why the no-type fill gave a type no rule fired: the rules' share, the model's score."""
    lines = [
        f"(no rule fired; given by the no-type fill: its rules reached {vote.rule_share:g} of "
        f"the threshold, the fill needs {vote.min_rule_share:g})"
    ]
    if vote.probability is not None:
        told = f"; it read {', '.join(vote.features)}" if vote.features else ""
        lines.append(
            f"learned model {vote.model}: p={vote.probability:.2f} that the text reports a "
            f"clear violent event (needs {vote.min_probability:g}){told}"
        )
    return lines


def _chooser_lines(vote: ChooserVote) -> list[str]:
    """Why a type was put before the rules' first: the chooser model's reading."""
    read = ", ".join(f"{n} p={p:.2f}" for n, p in vote.candidates)
    told = f"; it read {', '.join(vote.features)}" if vote.features else ""
    if vote.decided:
        ranked = (
            f"the rules ranked {vote.rules_first} first"
            if vote.rules_first != "none"
            else "no rule fired; the evidence below is below the threshold"
        )
        return [
            f"(put first by the user-trained model {vote.model}; {ranked})",
            f"model: {read}{told}",
        ]
    return [
        f"(put first by the learned chooser {vote.model}; the rules ranked {vote.rules_first} "
        f"first, and the two are easily confused)",
        f"chooser: {read} (the rules' first is overruled when another is preferred by "
        f"{vote.min_margin:g}){told}",
    ]


def _event_lines(event: Event, names: Names, published: datetime | None) -> list[str]:
    """The event's fields, each with the sentence it was read from."""
    place = event.place.name if event.place else "none named"
    actors = ", ".join(f"{a.name} ({a.part or a.role})" for a in event.actors) or "none named"
    also = ", ".join(map(names.type, event.secondary_types))
    lines = [
        f"type {names.type(event.incident_type) if event.incident_type else 'none'}"
        + (f" (also {also})" if also else ""),
        f"place {place}; actors {actors}",
        f"date {_date(event, published)}",
    ]
    lines += [f"  {x.field} from {_short(x.sentence)!r}" for x in event.evidence]
    return lines


def _date(event: Event, published: datetime | None) -> str:
    """The event's day, or why there is none: it is read from the headline and lede against
    the publication time ("on Thursday"), only within a week before it."""
    if event.date is not None:
        return event.date.isoformat()
    if published is None:
        return (
            'none: no publication time to read day words ("on Thursday") against; '
            "give one with --published"
        )
    at = published.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"none: the headline and lede name no day in the week up to publication ({at})"


def _toll(killed: int | None, wounded: int | None) -> str:
    figures = (("killed", killed), ("wounded", wounded))
    told = [f"{n} {what}" for what, n in figures if n is not None]
    return ", ".join(told) if told else "none stated"


def explain_json(title: str, text: str, classification: Classification) -> dict[str, Any]:
    c = classification
    return {
        "title": title,
        "text_length": len(text),
        "truncated": c.truncated,
        "analysed_chars": c.analysed_chars,
        "incident_types": [asdict(m) for m in c.incident_types],
        "acled_sub_event_types": c.acled_sub_event_types,
        "fill_note": c.fill_note,
        "chooser_note": c.chooser_note,
        "entities": [asdict(e) for e in c.entities],
        "casualties": asdict(c.casualties),
        "event": event_to_dict(c.event),
        "severity": c.severity,
        "routes": list(c.routes),
        "rules_fired": [asdict(r) for r in c.rules],
        "rules_not_fired": [{"rule": rid, "why": why} for rid, why in c.rules_not_fired],
    }
