"""Entity matching: every alias variant in one Aho-Corasick automaton over folded text.

Patterns are ``" tok tok "`` so matches start and end on word boundaries. Acronyms are
checked against the text as written ("KH" fires, "kh" inside a word never does). When two
matches overlap, the longer wins: "Kataib Hezbollah" is not also Lebanese "Hezbollah".
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import ahocorasick

from monitor.classify.normalize import TOKEN, FoldedText, phrase_variants
from monitor.classify.watchlist import Alias, Entity


@dataclass(frozen=True, slots=True)
class AliasHit:
    entity: int  # index into the matcher's entities
    first: int  # token indexes, inclusive
    last: int
    fuzzy: bool = False
    alias: str = ""


@dataclass(frozen=True, slots=True)
class _Target:
    entity: int
    alias: Alias
    ntokens: int


class EntityMatcher:
    def __init__(self, entities: tuple[Entity, ...]) -> None:
        self.entities = entities
        targets: dict[str, list[_Target]] = defaultdict(list)
        for i, entity in enumerate(entities):
            for alias in entity.aliases:
                for variant in phrase_variants(alias.text):
                    targets[" " + " ".join(variant) + " "].append(_Target(i, alias, len(variant)))
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
                if t.alias.case_sensitive and not _as_written(text, first, last, t.alias.text):
                    continue
                hits.append(AliasHit(t.entity, first, last, alias=t.alias.text))
        return longest_first(hits)


def _as_written(text: FoldedText, first: int, last: int, alias: str) -> bool:
    written = "".join(tok.text for tok in text.tokens[first : last + 1])
    return written == "".join(TOKEN.findall(alias))


def longest_first(hits: list[AliasHit]) -> list[AliasHit]:
    """Keep the longest of overlapping matches (ties: exact before fuzzy; a name shared by
    two entities keeps both)."""
    kept: list[AliasHit] = []
    for hit in sorted(hits, key=lambda h: (h.first - h.last, h.fuzzy, h.first)):
        clash = [k for k in kept if k.first <= hit.last and hit.first <= k.last]
        same_span = all(k.first == hit.first and k.last == hit.last for k in clash)
        if same_span and not any(k.entity == hit.entity for k in clash):
            kept.append(hit)
    return sorted(kept, key=lambda h: h.first)
