"""Entity matching: every alias variant in one Aho-Corasick automaton over folded text.

Patterns are ``" tok tok "`` so matches start and end on word boundaries. Acronyms are
checked against the text as written ("KH" fires, "kh" inside a word never does). When two
matches overlap, the longer wins: "Kataib Hezbollah" is not also Lebanese "Hezbollah".

English adds to a name's last word: a possessive ("Iraq's", "Hezbollah’s") always, a
plural ("Katyushas") only for entities that say ``plural: true``. Folding drops the
apostrophe, so "Iraq's" reads ``iraqs``: each alias also gets an ``...s`` pattern whose hits
count only when the text wrote ``'s``; "Iraqs" is no mention of Iraq. ("the Marines' base"
needs nothing: the apostrophe after the s is not part of the word.)
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

import ahocorasick

from monitor.classify.normalize import TOKEN, FoldedText, is_possessive, name_variants, plural
from monitor.classify.watchlist import Alias, Entity

Form = Literal["name", "possessive", "plural"]


@dataclass(frozen=True, slots=True)
class AliasHit:
    entity: int  # index into the matcher's entities
    first: int  # token indexes, inclusive
    last: int
    fuzzy: bool = False
    alias: str = ""
    possessive: bool = False  # the last token is "Name's": the mention ends before the 's
    demonym: bool = False  # "Iraqi", not "Iraq"


@dataclass(frozen=True, slots=True)
class _Target:
    entity: int
    alias: Alias
    ntokens: int
    form: Form
    demonym: bool


class EntityMatcher:
    def __init__(self, entities: tuple[Entity, ...]) -> None:
        self.entities = entities
        targets: dict[str, list[_Target]] = defaultdict(list)
        for i, entity in enumerate(entities):
            named = [(a, False) for a in entity.aliases] + [(d, True) for d in entity.demonyms]
            for alias, demonym in named:
                for variant, form in _patterns(alias, plurals=entity.plural and not demonym):
                    key = " " + " ".join(variant) + " "
                    targets[key].append(_Target(i, alias, len(variant), form, demonym))
        self._automaton = ahocorasick.Automaton()
        for key, values in targets.items():
            self._automaton.add_word(key, values)
        if targets:
            self._automaton.make_automaton()
        self._empty = not targets

    def find(self, text: FoldedText) -> list[AliasHit]:
        if self._empty:
            return []
        hits = []
        for end, targets in self._automaton.iter(text.folded):
            for t in targets:
                last = text.token_at(end - 1)  # ``end`` is the trailing space
                first = last - t.ntokens + 1
                if t.form == "possessive" and not is_possessive(text.tokens[last].text):
                    continue
                if t.alias.case_sensitive and not _as_written(text, first, last, t):
                    continue
                possessive = t.form == "possessive"
                hits.append(
                    AliasHit(t.entity, first, last, False, t.alias.text, possessive, t.demonym)
                )
        return longest_first(hits)


def _patterns(alias: Alias, *, plurals: bool) -> Iterator[tuple[tuple[str, ...], Form]]:
    """Folded token sequences for one alias: as listed, possessive, and plural if asked."""
    for variant in name_variants(alias.text):
        *head, last = variant
        yield variant, "name"
        yield (*head, last + "s"), "possessive"
        if plurals:  # an acronym's plural is "IEDs", never "IEDes"
            yield (*head, last + "s" if alias.case_sensitive else plural(last)), "plural"


def _as_written(text: FoldedText, first: int, last: int, target: _Target) -> bool:
    """The capitals as listed; a possessive or plural may only add its ending."""
    written = "".join(tok.text for tok in text.tokens[first : last + 1])
    listed = "".join(TOKEN.findall(target.alias.text))
    return written == listed if target.form == "name" else written.startswith(listed)


def longest_first(hits: list[AliasHit]) -> list[AliasHit]:
    """Keep the longest of overlapping matches (ties: exact before fuzzy, a name before a
    demonym, a possessive reading before a plain one; a name shared by two entities keeps
    both).

    A hit is kept only when every kept hit it overlaps has its very span, so kept spans
    never partly overlap: each token belongs to at most one kept span, and a hit's clashes
    are read off its own tokens (not found by comparing it with every kept hit).
    """
    kept: list[AliasHit] = []
    owner: dict[int, tuple[int, int]] = {}  # token -> the kept span covering it
    entities: dict[tuple[int, int], set[int]] = {}  # kept span -> its entities
    for hit in sorted(hits, key=_preference):
        span = (hit.first, hit.last)
        clash = {owner[t] for t in range(hit.first, hit.last + 1) if t in owner}
        if clash - {span} or hit.entity in entities.get(span, ()):
            continue
        kept.append(hit)
        entities.setdefault(span, set()).add(hit.entity)
        owner.update(dict.fromkeys(range(hit.first, hit.last + 1), span))
    return sorted(kept, key=lambda h: h.first)


def _preference(hit: AliasHit) -> tuple[int, bool, int, bool, bool]:
    return (hit.first - hit.last, hit.fuzzy, hit.first, hit.demonym, not hit.possessive)
