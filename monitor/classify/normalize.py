"""Text folding shared by aliases, keywords and article text.

Both sides go through the same fold, so "Kata'ib", "Kata-ib", "KATAIB" and "Kataïb" all
become ``kataib``. The article is kept as a list of tokens with their original offsets, and
as one folded string ``" tok tok tok "`` (a space before and after every token) so that a
search for ``" kataib hezbollah "`` can only match whole words.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from dataclasses import dataclass
from functools import cached_property, lru_cache
from itertools import product

APOSTROPHES = "'’‘ʼʻʿʾ`´"
HYPHENS = "-‐‑"
# A word: letters/digits, possibly joined by apostrophes or hyphens ("Kata'ib", "al-Asad").
_JOIN = re.escape(APOSTROPHES + HYPHENS)
TOKEN = re.compile(rf"[^\W_]+(?:[{_JOIN}][^\W_]+)*")
_JOINERS = re.compile(f"[{_JOIN}]")
# A sentence ends at . ! ? followed by space and a capital/quote/digit, or at a line break.
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"”’)]?\s+(?=[A-Z\"“‘'(\d])|\n+")


def is_possessive(word: str) -> bool:
    """ "Hezbollah's", "Iraq’s": a word ending in apostrophe + s, which folds to "...s"."""
    return len(word) > 2 and word[-2] in APOSTROPHES and word[-1] in "sS"


def plural(word: str) -> str:
    """The regular English plural of a folded word: "militia" -> "militias", "bus" ->
    "buses", "party" -> "parties". Irregular ones are listed as aliases instead."""
    if word.endswith(("s", "x", "z", "ch", "sh")):
        return word + "es"
    if len(word) > 1 and word[-1] == "y" and word[-2] not in "aeiou":
        return word[:-1] + "ies"
    return word + "s"


def dropped_marks(phrase: str) -> list[str]:
    """Characters matching would silently drop from a name ("C++" would match "C",
    "(?i)taji" would match "i taji"). Spaces, apostrophes, hyphens, combining accents and
    the '.' and ',' of "U.S." or "Washington, D.C." separate words as intended."""
    outside = TOKEN.sub(" ", phrase)
    return list(dict.fromkeys(c for c in outside if not _separates(c)))


def _separates(c: str) -> bool:
    return c.isspace() or c in APOSTROPHES + HYPHENS + ".," or unicodedata.category(c)[0] == "M"


@lru_cache(maxsize=65536)
def fold(word: str) -> str:
    """Case, Unicode form, diacritics and in-word apostrophes/hyphens folded away."""
    decomposed = unicodedata.normalize("NFKD", word)
    kept = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _JOINERS.sub("", kept).casefold()


def phrase_variants(phrase: str) -> list[tuple[str, ...]]:
    """Token sequences a phrase may appear as: hyphens joined or split, words run together.

    "al-Muhandis" -> ("almuhandis",), ("al", "muhandis"); "air strike" -> also ("airstrike",).
    """
    words = TOKEN.findall(phrase)
    joined = tuple(fold(w) for w in words)
    split = tuple(fold(p) for w in words for p in re.split(f"[{re.escape(HYPHENS)}]", w) if p)
    variants = [joined, split]
    if 2 <= len(split) <= 3:
        variants.append(("".join(split),))
    return [v for v in dict.fromkeys(variants) if v]


MAX_JOINED_WORDS = 4  # 2**3 spellings per name; longer names keep phrase_variants'


def name_variants(name: str) -> list[tuple[str, ...]]:
    """phrase_variants, and for names of up to four words every way of running neighbours
    together, as writers do with a hyphen or none: "Al Asad air base" is also "Al-Asad
    airbase", "K-1 Air Base" also "K1 airbase"."""
    variants = phrase_variants(name)
    split = max(variants, key=len)  # hyphenated words split: the most tokens
    if 2 < len(split) <= MAX_JOINED_WORDS:
        for gaps in product((" ", ""), repeat=len(split) - 1):
            joined = split[0] + "".join(g + w for g, w in zip(gaps, split[1:], strict=True))
            variants.append(tuple(joined.split(" ")))
    return list(dict.fromkeys(variants))


MAX_QUOTE = 1000  # characters of a sentence quoted as evidence; news sentences are shorter
# Longest word beginning ``FoldedText.word_starts`` holds: keyword terms' first words fit.
MAX_WORD_START = 24


@dataclass(frozen=True, slots=True)
class Token:
    text: str  # as written
    folded: str
    start: int  # offsets in the original string
    end: int


class FoldedText:
    """An article as tokens, as a folded search string, and as sentences."""

    def __init__(self, full: str, *, title_end: int = 0, lead_sentences: int = 2) -> None:
        self.full = full
        self.tokens = [
            Token(m.group(), fold(m.group()), m.start(), m.end()) for m in TOKEN.finditer(full)
        ]
        self.positions: list[int] = []  # where each token starts in self.folded
        parts, pos = [" "], 1
        for tok in self.tokens:
            self.positions.append(pos)
            parts.append(tok.folded + " ")
            pos += len(tok.folded) + 1
        self.folded = "".join(parts)
        self.sentences = sentence_spans(full)
        self._starts = [s for s, _ in self.sentences]
        self.title_end = title_end
        body = [s for s in self.sentences if s[0] >= title_end]
        self.lead_end = body[min(lead_sentences, len(body)) - 1][1] if body else title_end

    @cached_property
    def word_starts(self) -> frozenset[str]:
        """Every beginning (up to MAX_WORD_START characters) of every word of ``folded``:
        ``" " + w in folded`` exactly when ``w`` (no space, at most that long) is among
        them, a question each keyword term asks of each article before searching it.
        Built from the distinct words: a long article repeats most of its words, and the
        prefixes of each once are the same set at a fraction of the cost."""
        return frozenset(
            word[:n]
            for word in set(self.folded.split(" "))
            for n in range(1, min(len(word), MAX_WORD_START) + 1)
        )

    def token_at(self, folded_pos: int) -> int:
        """Index of the token covering a position of the folded string."""
        return max(0, bisect_right(self.positions, folded_pos) - 1)

    def span(self, first: int, last: int) -> tuple[int, int]:
        """Original offsets of tokens first..last (inclusive)."""
        return self.tokens[first].start, self.tokens[last].end

    def stem(self, index: int) -> str:
        """A token folded without its possessive: "Hezbollah's" -> ``hezbollah``."""
        tok = self.tokens[index]
        return tok.folded[:-1] if is_possessive(tok.text) else tok.folded

    def sentence(self, offset: int) -> str:
        """The sentence around ``offset``, as evidence quotes it: a run-on "sentence" (text
        without full stops) only up to MAX_QUOTE characters around the offset, so that each
        of its many mentions does not carry a copy of all of it."""
        start, end = self.sentences[self.sentence_index(offset)] if self.sentences else (0, 0)
        if end - start > MAX_QUOTE or not self.sentences:
            end = end if self.sentences else len(self.full)
            start = max(start, min(offset - MAX_QUOTE // 2, end - MAX_QUOTE))
            end = min(end, start + MAX_QUOTE)
        return self.full[start:end].strip()

    def sentence_index(self, offset: int) -> int:
        return max(0, bisect_right(self._starts, offset) - 1)

    def region(self, offset: int) -> str:
        """ "title", "lead" or "body": matches early in an article count more."""
        if offset < self.title_end:
            return "title"
        return "lead" if offset < self.lead_end else "body"


def sentence_spans(full: str) -> list[tuple[int, int]]:
    spans, start = [], 0
    for m in _SENTENCE_END.finditer(full):
        if full[start : m.start()].strip():
            spans.append((start, m.start()))
        start = m.end()
    if full[start:].strip():
        spans.append((start, len(full)))
    return spans
