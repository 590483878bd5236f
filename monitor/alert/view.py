"""A story as an alert shows it, built from the Story row and its articles.

Rendering works on this frozen value only, so message builders are pure and testable
without a database.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, NamedTuple

from monitor.codec import event_from_dict
from monitor.storage.models import ArticleRow, Story
from monitor.types import Actor, Event, RuleHit, Severity, severity_rank

# Entity kinds that name a place; the first one found is the story's "main place".
PLACE_KINDS = frozenset({
    "place", "location", "site", "base", "military_base", "facility", "compound",
    "city", "town", "province", "region", "country",
})  # fmt: skip


@dataclass(frozen=True, slots=True)
class Source:
    outlet: str
    url: str | None
    title: str
    published: datetime | None


@dataclass(frozen=True, slots=True)
class StoryView:
    story_id: int
    headline: str
    severity: Severity | None
    incident_types: tuple[str, ...]  # labels, best first
    place: str | None
    entities: tuple[str, ...]
    killed: int | None
    wounded: int | None
    evidence: str  # the key sentence, plain text
    matched: tuple[str, ...]  # words of the evidence sentence to show in bold
    sources: tuple[Source, ...]  # oldest first
    first_seen: datetime  # when this service first saw the story
    summary: str = ""  # who did what to whom, when, the toll: one line
    muted: bool = False  # an operator muted it: the message says so, nothing more is sent
    toll_evidence: tuple[str, ...] = ()  # the sentences the killed/wounded figures came from
    # The event the news follows on from, with its own actors, place and toll: "After:
    # Rocket attack by Kataib Hezbollah at Camp Taji · 3 killed, 12 wounded" (never the
    # header's place or toll).
    prior: str = ""
    prior_toll_evidence: tuple[str, ...] = ()  # the sentences the prior event's toll came from
    prior_actors: tuple[str, ...] = ()  # "Kataib Hezbollah (attacker)", as ``entities``
    # The rules that fired on the story's articles, each once at its highest severity; a
    # message shows only those naming its route (``for_route``): why it came here.
    rules: tuple[RuleHit, ...] = ()

    @property
    def url(self) -> str | None:
        return next((s.url for s in self.sources if s.url), None)


def story_view(story: Story, articles: list[ArticleRow]) -> StoryView:
    """Everything the message shows; articles in the order they joined the story.

    It leads with the story's event (the consensus of its sources, background
    discounted); stories stored before events were read fall back to every match.
    """
    classifications = [a.classification or {} for a in articles]
    first = classifications[0] if classifications else {}
    event = event_from_dict(story.event)
    entities = _entities(classifications)
    labels = _type_labels(classifications)
    types = tuple(labels.get(t, t) for t in event.type_ids) or _incident_labels(classifications)
    return StoryView(
        story_id=story.id,
        headline=story.headline or (articles[0].title if articles else f"Story {story.id}"),
        severity=_severity(story, articles),
        incident_types=types,
        place=event.place.name if event.place else _main_place(entities),
        entities=_event_entities(event) or tuple(e.name for e in entities),
        killed=event.killed if story.event else _casualty(story, classifications, "killed"),
        wounded=event.wounded if story.event else _casualty(story, classifications, "wounded"),
        evidence=(ev := _event_evidence(event, classifications) or _evidence(first))[0],
        matched=ev[1],
        sources=tuple(source_of(a) for a in articles),
        first_seen=story.discovered_at or story.first_seen,
        summary=summary_line(event, labels),
        prior=summary_line(event.prior, labels, brief=True) if event.prior else "",
        muted=bool(story.muted),
        toll_evidence=_toll_sentences(event),
        prior_toll_evidence=_toll_sentences(event.prior) if event.prior else (),
        prior_actors=_actor_names(event.prior.actors) if event.prior else (),
        rules=_rule_hits(classifications),
    )


def for_route(view: StoryView, route: str) -> StoryView:
    """The view as one route shows it: a route only gets alerts from rules naming it."""
    return replace(view, rules=tuple(r for r in view.rules if route in r.routes))


def _rule_hits(classifications: list[dict[str, Any]]) -> tuple[RuleHit, ...]:
    """Each rule once, the hit with the highest severity (the latest on ties: it read the
    most sources), in order of first firing. Malformed stored hits are skipped."""
    best: dict[str, RuleHit] = {}
    for c in classifications:
        for r in c.get("rules") or ():
            if not isinstance(r, dict) or not r.get("rule_id") or not r.get("severity"):
                continue
            hit = RuleHit(
                str(r["rule_id"]), r["severity"],
                tuple(str(x) for x in r.get("routes") or ()), str(r.get("reason") or ""),
            )  # fmt: skip
            old = best.get(hit.rule_id)
            if old is None or severity_rank(hit.severity) >= severity_rank(old.severity):
                best[hit.rule_id] = hit
    return tuple(best.values())


def summary_line(event: Event, labels: dict[str, str], *, brief: bool = False) -> str:
    """Who did what to whom, where, when, and the toll, as far as the sources say.
    ``brief`` (a prior event, told in passing, after the news's line): the type first, so
    the line reads as what came before ("Rocket attack by Kataib Hezbollah at Camp Taji"),
    not as a second headline."""
    if event.incident_type is None:
        return ""
    what = labels.get(event.incident_type, event.incident_type)
    attackers = [a.name for a in event.actors if a.role == "attacker"]
    targets = [a.name for a in event.actors if a.role == "target"]
    if brief:
        parts = [f"{what} by {' and '.join(attackers)}" if attackers else what]
    else:
        parts = [f"{' and '.join(attackers)}: {what}" if attackers else what]
    if targets:
        parts[0] += f" against {' and '.join(targets)}"
    if event.place:  # a country has no parent place: "in Iraq", "at Camp Taji"
        parts[0] += f" {'at' if event.place.ancestors else 'in'} {event.place.name}"
    if not attackers and (blamed := _blamed(event.actors)):
        parts[0] += f", blamed on {blamed}"  # an accusation, worded as one
    if event.date:
        parts.append(event.date.strftime("%a %d %b %Y"))
    toll = [f"{event.killed} killed" if event.killed is not None else ""]
    toll.append(f"{event.wounded} wounded" if event.wounded is not None else "")
    if any(toll):
        parts.append(", ".join(t for t in toll if t))
    return " · ".join(parts)


def _toll_sentences(event: Event) -> tuple[str, ...]:
    return tuple(
        dict.fromkeys(x.sentence for x in event.evidence if x.field in ("killed", "wounded"))
    )


def _type_labels(classifications: list[dict[str, Any]]) -> dict[str, str]:
    return {
        str(m["id"]): str(m.get("label") or m["id"])
        for c in classifications
        for m in c.get("incident_types") or ()
        if isinstance(m, dict) and m.get("id")
    }


def _event_entities(event: Event) -> tuple[str, ...]:
    """The event's own names: its place, then its actors with their part in it."""
    names = (event.place.name,) if event.place else ()
    return names + _actor_names(event.actors)


def _actor_names(actors: tuple[Actor, ...]) -> tuple[str, ...]:
    return tuple(f"{a.name} ({a.part})" if a.part else a.name for a in actors)


def _blamed(actors: tuple[Actor, ...]) -> str:
    """ "Saudi-led coalition by Houthi movement": the accused, each with who blames it."""
    accused = [a for a in actors if a.role == "accused"]
    return " and ".join(a.name + (f" by {' and '.join(a.by)}" if a.by else "") for a in accused)


def _event_evidence(
    event: Event, classifications: list[dict[str, Any]]
) -> tuple[str, tuple[str, ...]] | None:
    """The sentence that gave the event its type, with every matched word found in it."""
    sentence = next(
        (x.sentence for x in event.evidence if x.field == "incident_type" and x.sentence), ""
    )
    if not sentence:
        return None
    words = [x.matched for x in event.evidence if x.sentence == sentence]
    for c in classifications:
        words += _matched_words(c)
    found = [w for w in dict.fromkeys(words) if w and w.lower() in sentence.lower()]
    return sentence, tuple(w for w in found if not w[:1].isdigit())


def _matched_words(classification: dict[str, Any]) -> list[str]:
    words = [
        str(e.get("matched") or "")
        for match in classification.get("incident_types") or ()
        for e in match.get("evidence") or ()
        if not e.get("negative")
    ]
    for ent in classification.get("entities") or ():
        words += [str(m.get("text") or "") for m in ent.get("mentions") or ()]
    return words


def source_of(article: ArticleRow) -> Source:
    outlet = article.source or article.site_name or _host(article.url) or "unknown outlet"
    return Source(
        outlet=outlet, url=article.url, title=article.title, published=article.published_at
    )


def _host(url: str | None) -> str | None:
    if not url or "://" not in url:
        return None
    return url.split("://", 1)[1].split("/", 1)[0] or None


def _severity(story: Story, articles: list[ArticleRow]) -> Severity | None:
    values = [story.severity, *(a.severity for a in articles)]
    known = [v for v in values if v is not None]
    return max(known, key=lambda v: severity_rank(v), default=None)  # type: ignore[arg-type]


def _incident_labels(classifications: list[dict[str, Any]]) -> tuple[str, ...]:
    labels: dict[str, None] = {}
    for c in classifications:
        for match in c.get("incident_types") or ():
            labels.setdefault(str(match.get("label") or match.get("id")), None)
    return tuple(labels)


class _Seen(NamedTuple):
    name: str
    kind: str
    depth: int  # number of ancestors: Camp Taji (under Iraq) is deeper than Iraq
    named: bool  # False when only a demonym ("Iraqi officials") pointed at it


def _entities(classifications: list[dict[str, Any]]) -> list[_Seen]:
    """Every entity once, in order of first mention."""
    seen: dict[str, _Seen] = {}
    for c in classifications:
        for ent in c.get("entities") or ():
            key = str(ent.get("id") or ent.get("name"))
            mentions = ent.get("mentions") or ()
            named = not mentions or not all(m.get("demonym") for m in mentions)
            if key not in seen or (named and not seen[key].named):
                name, kind = str(ent.get("name") or key), str(ent.get("kind") or "")
                seen[key] = _Seen(name, kind, len(ent.get("ancestors") or ()), named)
    return list(seen.values())


def _main_place(entities: list[_Seen]) -> str | None:
    """The most specific place named (Camp Taji rather than Iraq), the first one on ties.
    A demonym is context, not a place: an "Iraqi man" arrested abroad is not news from Iraq."""
    places = [
        (e.depth, -i, e.name) for i, e in enumerate(entities) if e.kind in PLACE_KINDS and e.named
    ]
    return max(places)[2] if places else None


def _casualty(story: Story, classifications: list[dict[str, Any]], key: str) -> int | None:
    """The highest figure reported: later reports usually revise counts upwards."""
    values = [(story.casualties or {}).get(key)]
    values += [(c.get("casualties") or {}).get(key) for c in classifications]
    numbers = [int(v) for v in values if isinstance(v, int | float)]
    return max(numbers) if numbers else None


def _evidence(classification: dict[str, Any]) -> tuple[str, tuple[str, ...]]:
    """The best incident type's first positive evidence sentence and the words that matched."""
    for match in classification.get("incident_types") or ():
        positives = [e for e in match.get("evidence") or () if not e.get("negative")]
        sentence = next((str(e["sentence"]) for e in positives if e.get("sentence")), "")
        if sentence:
            words = [str(e.get("matched") or "") for e in positives]
            for ent in classification.get("entities") or ():
                words += [str(m.get("text") or "") for m in ent.get("mentions") or ()]
            found = [w for w in dict.fromkeys(words) if w and w.lower() in sentence.lower()]
            return sentence, tuple(found)
    return "", ()
