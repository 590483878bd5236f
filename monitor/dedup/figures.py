"""The figures a report leads with: scores, tolls, rounds, counts, magnitudes.

Same-kind twins are told in the same words and differ in their figures: a fight stopped in
the sixth round and one stopped in the seventh, ten killed and five hurt, a magnitude 6.1
quake and a 5.6. Reports of one event lead with the same figures more often
than not (tolls that rise are the exception), so figures the headline and first sentence
give, none of them in common with a story's, are evidence of another event: a feature of
the learned combiner (combiner.py), not a veto.

Years and the day of a date are left out: they say when, which `classify/dates.py` reads.
So are numbers glued to other signs (a sum after "$", a time "10:53", a part of "9-14").
Numbers written as words up to twenty and ordinals from "third" on count as their digits
("sixth round", "6th round"); "one", "first" and "second" are too common in any sentence.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from monitor.dedup.text import normalise

# Number words, by their value: up to twenty, and ordinals from "third" on.
_SMALL = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen twenty"
)
_ORDINAL = (
    "zeroth first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth"
)
WORD_NUMBERS = {w: str(i) for i, w in enumerate(_SMALL.split()) if i > 1}
WORD_NUMBERS |= {w: str(i) for i, w in enumerate(_ORDINAL.split()) if i > 2}
_TOKEN_RE = re.compile(
    r"(?<![\w.,:$])(?P<digits>\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)(?:st|nd|rd|th)?(?![\w:])"
    r"|(?P<word>[A-Za-z]+)"
)
_YEAR_RE = re.compile(r"(?:19|20)\d\d")
_MONTHS_WRITTEN = "january february march april may june july august september october november december jan feb mar apr jun jul aug sep sept oct nov dec"  # noqa: E501
_MONTHS = frozenset(_MONTHS_WRITTEN.split())


def lede_figures(title: str, sentences: Sequence[str]) -> frozenset[str]:
    """The figures of ``title`` and the first of ``sentences``, as digits."""
    return figures(" . ".join([title, *sentences[:1]]))


def figures(text: str) -> frozenset[str]:
    found: set[str] = set()
    previous = ""
    for m in _TOKEN_RE.finditer(normalise(text)):
        word = (m.group("word") or "").lower()
        digits = m.group("digits")
        if digits is not None and not _YEAR_RE.fullmatch(digits) and previous not in _MONTHS:
            value = digits.replace(",", "")
            found.add(value.rstrip("0").rstrip(".") if "." in value else value)
        elif word in WORD_NUMBERS:
            found.add(WORD_NUMBERS[word])
        previous = word
    return frozenset(found)
