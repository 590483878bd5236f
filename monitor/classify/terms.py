"""Keyword terms ("rocket*|missile", "air strike") compiled to searches over folded text."""

from __future__ import annotations

import re
from dataclasses import dataclass

from monitor.classify.normalize import FoldedText, fold, phrase_variants


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
        self._regex = re.compile(rf"(?<= )(?:{body})(?= )")
        # Cheap substring tests before the regex: the first word of every alternative.
        self._needles = tuple(
            dict.fromkeys(" " + fold(alt.split()[0].rstrip("*")) for alt in term.split("|"))
        )

    def find(self, text: FoldedText) -> list[Hit]:
        folded = text.folded
        if not any(n in folded for n in self._needles):
            return []
        hits = []
        for m in self._regex.finditer(folded):
            first = text.token_at(m.start())
            hits.append(Hit(first, text.token_at(m.end() - 1)))
        return hits


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
