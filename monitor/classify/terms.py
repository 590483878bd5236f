"""Keyword terms ("rocket*|missile", "air strike") compiled to searches over folded text."""

from __future__ import annotations

import re
from dataclasses import dataclass

from monitor.classify.normalize import MAX_WORD_START, FoldedText, fold, phrase_variants


@dataclass(frozen=True, slots=True)
class Hit:
    first: int  # token indexes, inclusive
    last: int


class CompiledTerm:
    """One term; ``find`` returns the token spans where it occurs."""

    def __init__(self, term: str) -> None:
        self.term = term
        alternatives = [_alternative(alt.split()) for alt in term.split("|")]
        body = "|".join(p for alt in alternatives for p in alt)
        # The space before the term is part of the match, not a look-behind: a pattern that
        # opens with a literal is tried only where that literal occurs (here: at word starts),
        # one that opens with a look-behind at every position of the text. Same matches
        # (a match ends before a space, so the next one's space is never inside it); 23% of
        # classification's CPU on the e2e-poll pages.
        self._regex = re.compile(rf" (?:{body})(?= )")
        # Cheap tests before the regex: the first word of every alternative begins a word
        # of the text. Most are one set lookup (``FoldedText.word_starts``, made once per
        # article for its hundreds of terms); others a substring test.
        firsts = dict.fromkeys(fold(alt.split()[0].rstrip("*")) for alt in term.split("|"))
        self._starts = frozenset(w for w in firsts if _is_word_start(w))
        self._needles = tuple(" " + w for w in firsts if not _is_word_start(w))

    def may_occur(self, text: FoldedText) -> bool:
        """False when ``find`` surely finds nothing in ``text``."""
        return _may_occur(self._starts, self._needles, text)

    def find(self, text: FoldedText) -> list[Hit]:
        return self.search(text) if self.may_occur(text) else []

    def search(self, text: FoldedText) -> list[Hit]:
        """``find`` without the cheap tests first."""
        return [
            Hit(text.token_at(m.start() + 1), text.token_at(m.end() - 1))  # after the space
            for m in self._regex.finditer(text.folded)
        ]


class AnyTerm:
    """Several terms' cheap tests as one: ``may_occur`` is False when none of them can
    occur in a text (then every one's ``find`` would return no hit)."""

    def __init__(self, terms: list[CompiledTerm]) -> None:
        self._starts = frozenset().union(*(t._starts for t in terms))
        self._needles = tuple(dict.fromkeys(n for t in terms for n in t._needles))

    def may_occur(self, text: FoldedText) -> bool:
        return _may_occur(self._starts, self._needles, text)


def _may_occur(starts: frozenset[str], needles: tuple[str, ...], text: FoldedText) -> bool:
    """Whether a word of ``text`` begins with one of ``starts`` or ``needles`` (" word")
    occurs in its folded string."""
    return not starts.isdisjoint(text.word_starts) or any(n in text.folded for n in needles)


def _is_word_start(word: str) -> bool:
    """Whether ``" " + word in folded`` is the same question as ``word in word_starts``."""
    return 0 < len(word) <= MAX_WORD_START and " " not in word


def _alternative(words: list[str]) -> list[str]:
    """Regex bodies for one alternative, hyphen/run-together variants included."""
    stars = [w.endswith("*") for w in words]
    plain = " ".join(w.rstrip("*") for w in words)
    bodies = []
    for variant in phrase_variants(plain):
        same = len(variant) == len(words)
        flags = stars if same else [False] * (len(variant) - 1) + [stars[-1]]
        parts = [
            re.escape(tok) + (r"[^ ]*" if star else "")
            for tok, star in zip(variant, flags, strict=True)
        ]
        bodies.append(" ".join(parts))
    return bodies
