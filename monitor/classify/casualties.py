"""Killed and wounded counts, written as digits or words.

"killed one British and two U.S. service members" -> killed 3; "wounding 14 people" ->
wounded 14; "at least 12 people were killed" -> killed 12. An article usually repeats its
toll, so the figure kept is the largest single mention, not the sum of mentions.
"""

from __future__ import annotations

import re

from monitor.types import Casualties

_UNITS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
    "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17,
    "eighteen": 18, "nineteen": 19, "dozen": 12, "a dozen": 12,
}  # fmt: skip
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
         "eighty": 80, "ninety": 90}  # fmt: skip
_WORD_NUM = (
    rf"(?:(?:{'|'.join(_TENS)})(?:[- ](?:{'|'.join(k for k in _UNITS if ' ' not in k)}))?"
    rf"|a dozen|{'|'.join(sorted((k for k in _UNITS if ' ' not in k), key=len, reverse=True))})"
    r"(?: hundred)?"
)
NUM = rf"(?:\d{{1,3}}(?:,\d{{3}})+|\d+|{_WORD_NUM})"
# Up to four words naming who ("U.S. service members", "people", "Iraqi soldiers").
_WHO = r"(?:(?!and\b)[\w.'’-]+ ){0,4}"
_QUAL = r"(?:at least |as many as |more than |about |some |nearly |around |over )?"
KILLED = r"(?:killed|killing|kills|dead|died|slain|killed off)"
WOUNDED = r"(?:wounded|wounding|wounds|injured|injuring|injures|hurt)"
# "killed one British and two U.S. service members" / "wounding 14 people"
_VERB_FIRST = r"\b({verb}) ({qual}{num}\b {who}(?:and {qual}{num}\b {who})?)"
# "14 people were wounded" / "three soldiers killed" / "12 dead"
_NUM_FIRST = (
    r"\b(?!an?\b)({qual}{num})\b {who}(?:(?:were|was|have been|had been|are|being) )?{verb}\b"
)


def _compile(template: str, verb: str) -> re.Pattern[str]:
    return re.compile(template.format(verb=verb, qual=_QUAL, num=NUM, who=_WHO), re.IGNORECASE)


_PATTERNS = {
    kind: (_compile(_VERB_FIRST, verb), _compile(_NUM_FIRST, verb))
    for kind, verb in (("killed", KILLED), ("wounded", WOUNDED))
}
_NUMBER = re.compile(rf"\b{NUM}\b", re.IGNORECASE)


def to_int(number: str) -> int | None:
    s = number.lower().replace(",", "").strip()
    if s.isdigit():
        return int(s)
    total = 0
    for part in re.split(r"[- ]", s):
        if part in _TENS:
            total += _TENS[part]
        elif part in _UNITS:
            total += _UNITS[part] if part != "a" or total == 0 else 0
        elif part == "hundred":
            total = max(total, 1) * 100
    return total or None


def extract_casualties(text: str) -> Casualties:
    figures: dict[str, int | None] = {"killed": None, "wounded": None}
    evidence: list[str] = []
    for kind, (verb_first, num_first) in _PATTERNS.items():
        for m in verb_first.finditer(text):
            n = _sum_numbers(m.group(2))
            figures[kind], evidence = _keep(figures[kind], n, evidence, m.group(0))
        for m in num_first.finditer(text):
            n = _sum_numbers(m.group(1))
            figures[kind], evidence = _keep(figures[kind], n, evidence, m.group(0))
    return Casualties(figures["killed"], figures["wounded"], tuple(dict.fromkeys(evidence)))


def _sum_numbers(phrase: str) -> int | None:
    numbers = [to_int(m.group(0)) for m in _NUMBER.finditer(phrase)]
    values = [n for n in numbers if n is not None]
    return sum(values) if values else None


def _keep(
    current: int | None, new: int | None, evidence: list[str], phrase: str
) -> tuple[int | None, list[str]]:
    if new is None:
        return current, evidence
    evidence = [*evidence, " ".join(phrase.split())]
    return (new if current is None else max(current, new)), evidence
