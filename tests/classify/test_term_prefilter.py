"""The cheap tests keyword terms run before their regex (word beginnings of the folded
text) must never skip a text the regex would find something in."""

from __future__ import annotations

import re

import pytest

from monitor.classify.normalize import MAX_WORD_START, FoldedText
from monitor.classify.terms import AnyTerm, CompiledTerm

TEXTS = [
    "Rockets hit the base; an air-strike followed. Airstrikes went on.",
    "The Kata'ib Hezbollah militia denied it.",
    "A " + "x" * (MAX_WORD_START + 10) + "ing word, and Ünïcödé spellings.",
    "Nothing of interest here.",
    "",
    "Strike strike strikes; air strike air strike, hit-hit hit.",
    "Militias' militia militiamen and Kataib Hezbollah Kataib Hezbollah.",
]
TERMS = [
    "rocket*",
    "air strike",
    "kataib hezbollah|militia*",
    "x" * (MAX_WORD_START + 5) + "*",  # its first word is longer than a word start kept
    "x" * MAX_WORD_START + "*",
    "unicode",
    "strike*",
    "hit",
    "nowhere*|absent",
]


def _regex_hits(term: CompiledTerm, text: FoldedText) -> list[tuple[int, int]]:
    """What ``find`` would return with no test before the regex."""
    return [(h.first, h.last) for h in term.search(text)]


@pytest.mark.parametrize("raw", TEXTS)
def test_a_term_is_skipped_only_where_its_regex_finds_nothing(raw: str) -> None:
    text = FoldedText(raw)
    for term_text in TERMS:
        term = CompiledTerm(term_text)
        expected = _regex_hits(term, text)
        assert [(h.first, h.last) for h in term.find(text)] == expected, term_text
        if expected:
            assert term.may_occur(text), term_text


def test_terms_found_by_their_first_words_including_long_ones() -> None:
    text = FoldedText(TEXTS[2])
    assert CompiledTerm("x" * (MAX_WORD_START + 5) + "*").find(text)
    assert CompiledTerm("unicode").find(text)
    assert not CompiledTerm("nowhere*|absent").find(text)


def test_any_term_may_occur_exactly_when_one_of_its_terms_may() -> None:
    terms = [CompiledTerm(t) for t in TERMS]
    for raw in TEXTS:
        text = FoldedText(raw)
        assert AnyTerm(terms).may_occur(text) == any(t.may_occur(text) for t in terms)
    assert not AnyTerm([CompiledTerm("nowhere*|absent")]).may_occur(FoldedText(TEXTS[0]))
    assert not AnyTerm([]).may_occur(FoldedText(TEXTS[0]))


def test_word_starts_are_the_beginnings_of_folded_words() -> None:
    text = FoldedText("Air-strikes hit")
    assert {"a", "ai", "air", "airstrikes", "h", "hi", "hit"} <= text.word_starts
    assert "strikes" not in text.word_starts  # inside a word, not at its start
    long_word = FoldedText("y" * (MAX_WORD_START * 2))
    assert max(map(len, long_word.word_starts)) == MAX_WORD_START


@pytest.mark.parametrize("raw", TEXTS)
def test_search_finds_what_a_word_start_look_behind_finds(raw: str) -> None:
    """The term's pattern matches the space before it (so the regex engine skips to word
    starts); its hits must be those of the same pattern behind a look-behind, the form it
    replaced, including back-to-back repeats, where a consumed space could hide the next."""
    text = FoldedText(raw)
    for term_text in TERMS:
        term = CompiledTerm(term_text)
        pattern = term._regex.pattern
        assert pattern.startswith(" ")
        behind = re.compile("(?<= )" + pattern[1:])
        expected = [
            (text.token_at(m.start()), text.token_at(m.end() - 1))
            for m in behind.finditer(text.folded)
        ]
        assert _regex_hits(term, text) == expected, term_text
