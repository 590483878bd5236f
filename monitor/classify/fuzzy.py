"""Spelling variants nobody listed: "Kitaeb Hezbollah", "Hizballah".

Transliterations of one Arabic or Persian name differ mostly in their vowels, so a text
word is a candidate when its consonant skeleton equals that of an alias's longest word
(a dictionary lookup: the cost does not grow with the number of aliases). A candidate is
accepted only when every differing word is capitalised (a name, not a common word), has
the same skeleton, and the whole phrase is at least ``MIN_SIMILARITY`` alike by edit
distance. That rejects "Homs" for "Hamas" (similarity 0.6) and "Soria" for "Syria"
(skeleton too short) while accepting "Hizballah" for "Hezbollah" (0.78) and
"Kitaeb Hezbollah" for "Kataib Hezbollah" (0.88).
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz.distance import Levenshtein

from monitor.classify.entities import AliasHit
from monitor.classify.normalize import FoldedText, is_possessive, phrase_variants
from monitor.classify.watchlist import Entity

MIN_SIMILARITY = 0.75
MIN_ANCHOR = 5  # shorter words have too many look-alikes
MIN_SKELETON = 3  # "Syria" (s-r) vs "Soria": two consonants do not make a name
_VOWELS = re.compile(r"[aeiouyh]")
_RUNS = re.compile(r"(.)\1+")


@lru_cache(maxsize=65536)
def skeleton(word: str) -> str:
    """First letter, then consonants with h dropped, q/c as k and doubles collapsed."""
    if not word:
        return ""
    head = "a" if word[0] in "aeiouy" else word[0].replace("q", "k").replace("c", "k")
    rest = _VOWELS.sub("", word[1:]).replace("q", "k").replace("c", "k")
    return _RUNS.sub(r"\1", head + rest)


@dataclass(frozen=True, slots=True)
class _Candidate:
    entity: int
    alias: str
    words: tuple[str, ...]
    anchor: int  # index of the longest word


class FuzzyIndex:
    def __init__(self, entities: tuple[Entity, ...]) -> None:
        self._by_skeleton: dict[str, list[_Candidate]] = defaultdict(list)
        for i, entity in enumerate(entities):
            if not entity.fuzzy:
                continue
            for alias in entity.aliases:
                if alias.case_sensitive:
                    continue
                for words in phrase_variants(alias.text):
                    anchor = max(range(len(words)), key=lambda k: len(words[k]))
                    key = skeleton(words[anchor])
                    if len(words[anchor]) >= MIN_ANCHOR and len(key) >= MIN_SKELETON:
                        cand = _Candidate(i, alias.text, words, anchor)
                        self._by_skeleton[key].append(cand)

    def find(self, text: FoldedText, exact: list[AliasHit]) -> list[AliasHit]:
        """Fuzzy hits not inside an exact one; a longer fuzzy name may still win an overlap
        ("Kitaeb Hezbollah" over the exact "Hezbollah")."""
        hits = []
        reach = _exact_reach(exact)
        for i, tok in enumerate(text.tokens):
            if len(tok.folded) < MIN_ANCHOR or not tok.text[0].isupper():
                continue
            word = text.stem(i)  # "Hizballah's" is looked up as "hizballah"
            if len(word) < MIN_ANCHOR:
                continue
            for cand in self._by_skeleton.get(skeleton(word), ()):
                first = i - cand.anchor
                last = first + len(cand.words) - 1
                if first < 0 or last >= len(text.tokens):
                    continue
                if reach.get(first, -1) >= last:  # inside an exact hit
                    continue
                if _accept(text, first, cand.words):
                    possessive = is_possessive(text.tokens[last].text)
                    hits.append(AliasHit(cand.entity, first, last, True, cand.alias, possessive))
        return hits


def _exact_reach(exact: list[AliasHit]) -> dict[int, int]:
    """Token -> the furthest last token of an exact hit covering it: a span starting at a
    token lies inside an exact hit exactly when it ends by then. Costs the hits' length,
    not hits x tokens."""
    reach: dict[int, int] = {}
    for e in exact:
        for t in range(e.first, e.last + 1):
            reach[t] = max(reach.get(t, -1), e.last)
    return reach


def _accept(text: FoldedText, first: int, words: tuple[str, ...]) -> bool:
    seen = text.tokens[first : first + len(words)]
    folded = [t.folded for t in seen]
    if is_possessive(seen[-1].text):  # "Kitaeb Hezbollah's" is read without its 's
        folded[-1] = folded[-1][:-1]
    if tuple(folded) == words:
        return False  # an exact match the exact matcher declined (e.g. an acronym's case)
    for tok, got, word in zip(seen, folded, words, strict=True):
        if got == word:
            continue
        if not tok.text[0].isupper():
            return False
        if skeleton(got) != skeleton(word):
            return False
    similarity = Levenshtein.normalized_similarity(" ".join(folded), " ".join(words))
    return similarity >= MIN_SIMILARITY
