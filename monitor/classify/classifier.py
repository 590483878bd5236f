"""Classifier: one article's title and text -> Classification, with evidence.

Everything is compiled once in ``__init__`` (alias automaton, fuzzy index, term regexes),
so classifying costs the same whether the watchlist names ten aliases or ten thousand.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from monitor.classify.entities import AliasHit, EntityMatcher, longest_first
from monitor.classify.event import read_event
from monitor.classify.fuzzy import FuzzyIndex
from monitor.classify.incidents import CompiledType, TypeScore
from monitor.classify.learned import Chooser, Decider, Decision, LearnedTyping, choose
from monitor.classify.normalize import FoldedText
from monitor.classify.rules import Facts, evaluate
from monitor.classify.settings import MAX_TEXT_CHARS
from monitor.classify.watchlist import Watchlist
from monitor.types import Classification, EntityMatch, IncidentMatch, Mention, RuleHit


class Classifier:
    def __init__(
        self,
        watchlist: Watchlist,
        *,
        fuzzy: bool = True,
        max_text_chars: int = MAX_TEXT_CHARS,
        learned: LearnedTyping | None = None,
    ) -> None:
        """``learned``: the model that types an article no rule typed (None: rules only)."""
        self.watchlist = watchlist
        self.max_text_chars = max_text_chars
        self.learned = learned
        self._entities = EntityMatcher(watchlist.entities)
        self._fuzzy = FuzzyIndex(watchlist.entities) if fuzzy else None
        self._types = [CompiledType(t) for t in watchlist.incident_types]
        self._type_ancestors = {
            t.id: watchlist.type_ancestors(t.id) for t in watchlist.incident_types
        }
        by_id = {t.id: t for t in watchlist.incident_types}
        self._acled = {t.id: t.acled for t in watchlist.incident_types}
        self._supersedes = {
            t.id: {x for a in (t.id, *self._type_ancestors[t.id]) for x in by_id[a].supersedes}
            for t in watchlist.incident_types
        }
        self._entity_ancestors = {
            e.id: watchlist.entity_ancestors(e.id) for e in watchlist.entities
        }
        self.names = watchlist.names()  # for the reasons rules did not fire, and `explain`

    def classify(
        self, *, title: str, text: str, published: datetime | None = None
    ) -> Classification:
        """``published`` dates the event ("on Tuesday"); without it the event has no date.

        Only the first ``max_text_chars`` characters are read (``analysed_chars`` says so)."""
        title, analysed, cut = within_limit(title, text, self.max_text_chars)
        folded = self.fold(title, analysed)
        scores = self.scores(folded)
        types = self._incident_types(scores)
        fill_note = chooser_note = None
        if self.learned is not None and self.learned.decider is not None:
            types, chooser_note = self._decide(folded, scores, types, self.learned.decider)
        elif self.learned is not None and not any(t.acled for t in types):
            filled, fill_note = self._learned_type(folded, scores, self.learned)
            types += filled
        elif self.learned is not None and self.learned.chooser is not None:
            types, chooser_note = self._rechoose(folded, scores, types, self.learned.chooser)
        entities = self._entity_matches(folded)
        reading = read_event(folded, types, entities, published, supersedes=self._supersedes)
        # Rules read the event, not the background: a toll or a base named only in an
        # earlier incident's paragraph neither fires a rule nor raises its severity.
        facts = Facts(reading.types, reading.entities, reading.casualties)
        fired: list[RuleHit] = []
        not_fired: list[tuple[str, str]] = []
        for rule in self.watchlist.rules:
            result = evaluate(rule, facts, self.names)
            if isinstance(result, RuleHit):
                fired.append(result)
            else:
                not_fired.append((rule.id, result))
        return Classification(
            types,
            entities,
            reading.casualties,
            tuple(fired),
            tuple(not_fired),
            reading.event,
            analysed_chars=len(analysed) if cut else None,
            fill_note=fill_note,
            chooser_note=chooser_note,
        )

    def fold(self, title: str, text: str) -> FoldedText:
        scoring = self.watchlist.scoring
        return FoldedText(
            f"{title}\n{text}", title_end=len(title), lead_sentences=scoring.lead_sentences
        )

    def scores(self, folded: FoldedText) -> list[TypeScore]:
        """Every type's score, fired or not (``explain`` shows the near misses)."""
        return [t.score(folded, self.watchlist.scoring) for t in self._types]

    def _incident_types(self, scores: list[TypeScore]) -> tuple[IncidentMatch, ...]:
        fired = [s for s in scores if s.fired]
        # Best first: the score relative to the threshold, so a strict type is not outranked
        # by a loose one with more, weaker evidence.
        fired.sort(key=lambda s: (s.score / s.type.threshold, s.score), reverse=True)
        fired = _precedence(fired, self._supersedes, self._type_ancestors)
        return tuple(
            IncidentMatch(
                id=s.type.id,
                label=s.type.label,
                score=s.score,
                threshold=s.type.threshold,
                acled=s.type.acled,
                evidence=s.evidence,
                ancestors=self._type_ancestors[s.type.id],
            )
            for s in fired
        )

    def _learned_type(
        self, folded: FoldedText, scores: list[TypeScore], learned: LearnedTyping
    ) -> tuple[tuple[IncidentMatch, ...], str | None]:
        """The type an article gets when no rule gave it an ACLED type (learned.choose):
        the watchlist's own type of the chosen name, with its rules' evidence (below their
        threshold) and the vote that decided; else (), and why not."""
        decision = learned.model.read(folded) if learned.model is not None else None
        shares = acled_shares(scores)
        picked = choose(
            shares,
            decision,
            learned.fill_types,
            min_rule_share=learned.min_rule_share,
            min_probability=learned.min_probability,
        )
        if picked is None:
            return (), _declined(shares, decision, learned)
        name, share, probability = picked
        vote = learned.vote(decision, name, share, probability)
        return (replace(self._unfired_match(scores, name), learned=vote),), None

    def _unfired_match(self, scores: list[TypeScore], name: str) -> IncidentMatch:
        """The watchlist's type of ACLED ``name`` that the learned part gives although its
        rules stayed below the threshold, with their evidence: the broadest type of that
        name its rules scored highest (a child type says more than was read); the
        watchlist's order breaks ties (min keeps the first)."""
        best = min(
            (s for s in scores if s.type.acled == name and s.vetoed_by is None),
            key=lambda s: (self._inherits_acled(s.type.id), -s.score / s.type.threshold),
        )
        return IncidentMatch(
            id=best.type.id,
            label=best.type.label,
            score=best.score,
            threshold=best.type.threshold,
            acled=name,
            evidence=best.evidence,
            ancestors=self._type_ancestors[best.type.id],
        )

    def _rechoose(
        self,
        folded: FoldedText,
        scores: list[TypeScore],
        types: tuple[IncidentMatch, ...],
        chooser: Chooser,
    ) -> tuple[tuple[IncidentMatch, ...], str | None]:
        """The types with the chooser's pick first when it overrules the rules' first of a
        confusable group (learned.rechoose), and what it read when it did not. The pick is
        the first fired type of its name, or, not fired, the watchlist's type of it whose
        rules came near; every type keeps its evidence."""
        fired = list(dict.fromkeys(m.acled for m in types if m.acled))
        vote, note = chooser.read(folded, fired, acled_shares(scores))
        if vote is None:
            return types, note
        first = next((m for m in types if m.acled == vote.chosen), None)
        match = first if first is not None else self._unfired_match(scores, vote.chosen)
        return (replace(match, chosen=vote), *(m for m in types if m is not first)), None

    def _decide(
        self,
        folded: FoldedText,
        scores: list[TypeScore],
        types: tuple[IncidentMatch, ...],
        decider: Decider,
    ) -> tuple[tuple[IncidentMatch, ...], str | None]:
        """The types with a user model's pick first (its first fired type of that name, or
        the watchlist's type of it whose rules came nearest), and what it read otherwise."""
        fired = list(dict.fromkeys(m.acled for m in types if m.acled))
        vote, note = decider.read(folded, fired, acled_shares(scores))
        if vote is None:
            return types, note
        first = next((m for m in types if m.acled == vote.chosen), None)
        match = first if first is not None else self._unfired_match(scores, vote.chosen)
        return (replace(match, chosen=vote), *(m for m in types if m is not first)), None

    def _inherits_acled(self, type_id: str) -> bool:
        """Whether a type is a finer child of a type with the same ACLED name."""
        return any(self._acled[a] == self._acled[type_id] for a in self._type_ancestors[type_id])

    def _entity_matches(self, folded: FoldedText) -> tuple[EntityMatch, ...]:
        hits = self._entities.find(folded)
        if self._fuzzy is not None:
            hits = longest_first(hits + self._fuzzy.find(folded, hits))
        by_entity: dict[int, list[AliasHit]] = defaultdict(list)
        for hit in hits:
            by_entity[hit.entity].append(hit)
        matches = []
        for index, entity_hits in by_entity.items():
            entity = self.watchlist.entities[index]
            mentions = tuple(_mention(folded, h) for h in entity_hits)
            ancestors = self._entity_ancestors[entity.id]
            matches.append(EntityMatch(entity.id, entity.kind, entity.name, mentions, ancestors))
        matches.sort(key=lambda m: (-len(m.mentions), m.mentions[0].start))
        return tuple(matches)


def _declined(shares: dict[str, float], decision: Decision | None, learned: LearnedTyping) -> str:
    near = max(((s, n) for n, s in shares.items() if n in learned.fill_types), default=None)
    if near is None:
        return "no type: the watchlist defines none of the fill types"
    share, name = near
    if share == 0:
        return "no type: no rule saw words of the fill types"
    if share < learned.min_rule_share:
        return (
            f"no type: the closest fill type, {name}, reached {share:.2f} of its threshold "
            f"(the fill needs {learned.min_rule_share:.2f})"
        )
    p = decision.probability_of(learned.fill_types) if decision is not None else 0.0
    version = learned.model.version if learned.model is not None else "-"
    return (
        f"no type: {name} reached {share:.2f} of its threshold, but the learned model "
        f"({version}) gives a clear violent event p={p:.2f} (the fill needs "
        f"{learned.min_probability:.2f})"
    )


def acled_shares(scores: Sequence[TypeScore]) -> dict[str, float]:
    """Per ACLED name of the watchlist's types, the best score / threshold among them: how
    close the rules came to each ACLED type. A type an exclusion vetoed is left out: the
    watchlist said the article is not of that type."""
    out: dict[str, float] = {}
    for s in scores:
        if s.type.acled and s.vetoed_by is None:
            out[s.type.acled] = max(out.get(s.type.acled, 0.0), s.score / s.type.threshold)
    return out


SPACE_SEARCH = 100  # characters a cut steps back to end on a space, not inside a word


def within_limit(title: str, text: str, limit: int) -> tuple[str, str, bool]:
    """The title and text cut to ``limit`` characters together, ending between words
    ("Bagh" of a cut "Baghdad" must not match anything), and whether anything was cut."""
    if len(title) + 1 + len(text) <= limit:
        return title, text, False
    title = title[:limit]
    budget = max(0, limit - len(title) - 1)  # the line break between them
    space = max(text.rfind(c, max(0, budget - SPACE_SEARCH), budget + 1) for c in " \n\t")
    return title, text[: space if space > 0 else budget], True


def _precedence(
    fired: list[TypeScore], supersedes: dict[str, set[str]], ancestors: dict[str, tuple[str, ...]]
) -> list[TypeScore]:
    """Types superseded by a fired type (its own or its ancestors' ``supersedes``) rank below.

    Superseding a type supersedes its children too: a suicide car bomb is not an IED.
    """
    beaten = {loser for s in fired for loser in supersedes[s.type.id]}

    def lost(s: TypeScore) -> bool:
        return s.type.id in beaten or not beaten.isdisjoint(ancestors[s.type.id])

    return [s for s in fired if not lost(s)] + [s for s in fired if lost(s)]


def _mention(folded: FoldedText, hit: AliasHit) -> Mention:
    start, end = folded.span(hit.first, hit.last)
    if hit.possessive:
        end -= 2  # the name, not its "'s": explain and the alert highlight the name
    return Mention(
        folded.full[start:end],
        start,
        end,
        folded.sentence(start),
        fuzzy=hit.fuzzy,
        demonym=hit.demonym,
    )
