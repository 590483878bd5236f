"""Killed and wounded counts, written as digits or words.

"killed one British and two U.S. service members" -> killed 3; "wounding 14 people" ->
wounded 14; "at least 12 people were killed" -> killed 12; "about a dozen" -> 12; "a
civilian contractor has died" -> killed 1 (a lone "a" counts only before a noun a victim is
called and a verb telling its death or wound: not "a man said"). An article usually repeats
its toll, so the figure kept is the largest single mention, not the sum; two groups joined
by "and" add up ("15 protesters and 20 police officers were wounded" = 35), and the event
reader adds another side's count told apart (``another_group``). Vague counts take
their unit, as conflict datasets code them conservatively ("dozens" = 12, "hundreds" = 100);
a range takes its lower end ("10 to 15" = 10). A count inside a clause that dates its event
before this one ("a week after the attack that killed three") is another event's toll and
is not this article's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from monitor.types import Casualties

_UNITS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
    "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17,
    "eighteen": 18, "nineteen": 19,
}  # fmt: skip
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
         "eighty": 80, "ninety": 90}  # fmt: skip
_SCALES = {"dozen": 12, "hundred": 100, "thousand": 1000}
_VAGUE = {"dozens": 12, "scores": 20, "hundreds": 100, "thousands": 1000}
_UNIT_WORDS = "|".join(sorted(_UNITS, key=len, reverse=True))
_SMALL = rf"(?:(?:{'|'.join(_TENS)})(?:[- ](?:{_UNIT_WORDS}))?|{_UNIT_WORDS})"
_WORD_NUM = (
    rf"(?:(?:half an? |{_SMALL} )?(?:{'|'.join(_SCALES)})(?: (?:and )?{_SMALL}(?: hundred)?)?"
    rf"|{'|'.join(_VAGUE)}|{_SMALL})"
)
# Digits are read from a number's start, never from inside "1,000,000" (which would also
# rescan the rest of a long run of groups from every comma).
NUM = rf"(?:(?<!\d,)(?:\d{{1,3}}(?:,\d{{3}})+|\d+)|{_WORD_NUM})"
# Up to four words naming who ("U.S. service members", "people", "Iraqi soldiers").
_WHO = r"(?:(?!and\b)[\w.'’-]+ ){0,4}"
# Who, before the "and" of a second group: no verb ("12 people were killed and 30 wounded"
# is one group's dead and its wounded)
_GROUP = (
    r"(?:(?!and\b|were\b|was\b|are\b|is\b|had\b|have\b|has\b|been\b"
    r"|kill|wound|injur|hurt|dead|died|slain)[\w.'’-]+ ){0,3}"
)
_QUAL = (
    r"(?:(?:at least|as many as|more than|about|some|nearly|around|over|almost|roughly"
    r"|approximately|an estimated|up to|between) )?"
)
KILLED = r"(?:killed|killing|kills|dead|died|slain|killed off)"
WOUNDED = r"(?:wounded|wounding|wounds|injured|injuring|injures|hurt)"
# "killed one British and two U.S. service members" / "wounding 14 people"
# (a headline cut at "killed a" counts no one)
_VERB_FIRST = r"\b({verb}) (?!an?[ \t]*(?:\n|$))({qual}{num}\b(?: {who}and {qual}{num}\b)?)"
# "14 people were wounded" / "three soldiers killed" / "12 dead"; a lone "a" is no count;
# "15 protesters and 20 police officers were wounded": two groups, 35
_NUM_FIRST = (
    r"\b(?<!\bno )(?<!\bnot )(?!an? (?!dozen|hundred|thousand))"
    r"({qual}{num}\b(?: {group}and {qual}{num}\b)?) {who}"
    r"(?:(?:were|was|have been|had been|are|being) )?{verb}\b"
)
# "A civilian contractor has died of his wounds" / "a soldier was wounded": one victim, by
# a noun a victim is called, whose death or wound the verb tells (not "a man said", not "a
# soldier killed two militants": a verb with an object tells what the noun did)
_VICTIMS = (
    r"(?:civilian|contractor|soldier|marine|policeman|policewoman|police officer|officer"
    r"|guard|journalist|reporter|protester|demonstrator|man|woman|child|boy|girl|teenager"
    r"|worker|driver|resident|student|farmer|shepherd|fighter|militant|member|pilgrim"
    r"|service member|serviceman|servicewoman|passer-by|bystander)"
)
_LONE = (
    r"\b(?<!\bnot )(?<!\bsingle )(an?) (?:[\w'’-]+ ){{0,2}}?" + _VICTIMS + r" "
    r"(?:(?:has|had|was|is|has been|had been|was later|later) )?(?:shot |found )?"
    r"(?:{verb}(?= (?:in|on|at|when|by|during|after|near|as|while|from|of|and|overnight)\b"
    r"|[,.;]))"
)
# "the death toll rose to 25" / "claimed 30 lives" / "40 deaths"
_TOLL = (
    r"\b(?:death toll|toll)(?: \w+){{0,3}}? (?:to|of|at|reached|hit) ({qual}{num})\b"
    r"|\bclaimed ({qual}{num}) lives\b|\b({qual}{num}) deaths\b"
)
_RANGE = re.compile(
    rf"\b(?:between ({NUM}) and ({NUM})|({NUM}) (?:to|or) ({NUM})|(\d+)[-–](\d+))\b", re.I
)
# A clause dating its event before this one: elapsed time, or "an earlier/similar attack".
_EARLIER = re.compile(
    r"\b(?:(?:days?|weeks?|months?|years?|decades?) (?:after|since|before|earlier)"
    r"|(?:an?|the) (?:previous|earlier|prior|similar) (?!day|night|morning|evening|afternoon)"
    r"|last (?:week|month|year)['’]s|(?:deadliest|worst|biggest) since|anniversary of)\b",
    re.IGNORECASE,
)
# "No one was killed", "there were no casualties", "nobody was hurt", "no injuries".
_NONE = re.compile(
    r"\b(?:no(?: ?one|body)(?: else)? (?:was|were|had been) (?:reported )?"
    r"(killed|hurt|injured|wounded)"
    r"|(?:there were |caused |causing |with |without )?no (?:immediate )?(?:reports? of )?"
    r"(casualties|deaths|injuries|dead)\b"
    r"|without (casualties))",
    re.IGNORECASE,
)
_CLAUSE_END = re.compile(r"[.;:!?,()\n](?=\s)|\n")


def _compile(template: str, verb: str = "") -> re.Pattern[str]:
    fields = {"verb": verb, "qual": _QUAL, "num": NUM, "who": _WHO, "group": _GROUP}
    return re.compile(template.format(**fields), re.IGNORECASE)


_TOLL_PATTERN = _compile(_TOLL)
_PATTERNS = {
    "killed": (
        _compile(_VERB_FIRST, KILLED),
        _compile(_NUM_FIRST, KILLED),
        _TOLL_PATTERN,
        _compile(_LONE, KILLED),
    ),
    "wounded": (
        _compile(_VERB_FIRST, WOUNDED),
        _compile(_NUM_FIRST, WOUNDED),
        _compile(_LONE, WOUNDED),
    ),
}
MAX_DIGITS = 9
_NUMBER = re.compile(rf"\b{NUM}\b", re.IGNORECASE)
# The patterns above try every word of a text, most of which no count is near: the slowest
# part of classifying. Every match holds one of its kind's cue words (a verb, or a toll's
# "toll", "claimed" or "deaths"), and is spelled in word characters, . ' ’ , - and single
# spaces with fewer than CUE_REACH spaces before its cue. So a text without a cue has no
# match, and none starts before the CUE_REACH-th space (or the first other character)
# before the first cue: the search starts there, with the same matches.
_CUES = {
    "killed": re.compile(r"kill|dead|died|slain|toll|claimed|deaths", re.IGNORECASE),
    "wounded": re.compile(r"wound|injur|hurt", re.IGNORECASE),
}
_NOT_IN_COUNT = re.compile(r"[^\w.'’,\- ]")
CUE_REACH = 32


def _search_start(text: str, cues: re.Pattern[str]) -> int | None:
    """Where a count of ``cues``' kind can start at the earliest; None: nowhere."""
    cue = cues.search(text)
    if cue is None:
        return None
    start = max((m.end() for m in _NOT_IN_COUNT.finditer(text, 0, cue.start())), default=0)
    at = cue.start()
    for _ in range(CUE_REACH):
        at = text.rfind(" ", start, at)
        if at < 0:
            return start
    return at + 1


def to_int(number: str) -> int | None:
    s = number.lower().replace(",", "").strip()
    if s.isdigit():  # no toll has ten digits; a longer run is no count (and int() of
        return int(s) if len(s) <= MAX_DIGITS else None  # 4,301 digits raises)
    if s in _VAGUE:
        return _VAGUE[s]
    total = current = 0
    half = False
    for part in re.split(r"[- ]", s):
        if part in _TENS:
            current += _TENS[part]
        elif part in _UNITS:
            current += _UNITS[part] if part not in ("a", "an") or current == 0 else 0
        elif part == "half":
            half = True
        elif part == "thousand":
            total, current = total + max(current, 1) * 1000, 0
        elif part in _SCALES:
            current = max(current, 1) * _SCALES[part]
    value = total + current
    return (value // 2 if half else value) or None


@dataclass(frozen=True, slots=True)
class CountMention:
    """One stated count: "wounding 14 people" -> wounded 14 at [start, end)."""

    kind: str  # "killed" | "wounded"
    value: int
    start: int
    end: int
    phrase: str
    toll: bool = False  # a total ("the death toll rose to 25"): later reports revise it


def count_mentions(text: str, *, earlier: bool = False) -> list[CountMention]:
    """Every count of the dead or wounded, except those a clause dates to an earlier event
    (kept with ``earlier``, for reading that event)."""
    found = []
    for kind, patterns in _PATTERNS.items():
        start = _search_start(text, _CUES[kind])
        if start is None:
            continue
        for pattern in patterns:
            for m in pattern.finditer(text, start):
                if not earlier and _refers_to_earlier_event(text, m.start()):
                    continue
                group = next(g for g in m.groups()[::-1] if g is not None)
                n = _count(group)
                if n is not None:
                    phrase = " ".join(m.group(0).split())
                    toll = pattern is _TOLL_PATTERN
                    found.append(CountMention(kind, n, m.start(), m.end(), phrase, toll=toll))
    return sorted(found, key=lambda c: (c.start, c.kind))


# Victims an article counts apart: the security forces, the crowd or civilians, fighters
_SECURITY = re.compile(
    r"\b(?:police\w*|officers?|security|soldiers?|troops|guards?|servicem[ae]n"
    r"|service members|personnel)\b",
    re.IGNORECASE,
)
_CROWD = re.compile(
    r"\b(?:protesters?|demonstrators?|civilians?|residents?|worshippers?|mourners?"
    r"|students?|bystanders?|passers-by|shoppers?|pilgrims?)\b",
    re.IGNORECASE,
)
_ARMED = re.compile(
    r"\b(?:militants?|fighters?|insurgents?|gunm[ae]n|jihadists?|militiam[ae]n|rebels?)\b",
    re.IGNORECASE,
)
_SIDES = {"security": _SECURITY, "crowd": _CROWD, "armed": _ARMED}
# "including four policemen", "among them": a part of a figure already given
_PART_OF = re.compile(r"\b(?:including|among|of them|of whom|of those)\b", re.IGNORECASE)


def victim_group(phrase: str) -> str | None:
    """Whom a count names, when it is one side ("security", "crowd" or "armed"); None when
    it names none or several ("four soldiers and nine militants")."""
    named = [side for side, words in _SIDES.items() if words.search(phrase)]
    return named[0] if len(named) == 1 else None


def another_group(largest: CountMention, other: CountMention, other_sentence: str) -> bool:
    """Whether ``other``, told in another sentence than ``largest``, counts victims the
    largest figure does not hold, so that the two add up: the two name different sides
    ("15 protesters were hurt" / "20 officers were hurt"), or only ``largest`` names its
    side and is above the unattributed figure, which therefore cannot hold it ("wounding
    15" / "20 officers were hurt by stones"). A restatement names the same side or none."""
    if other.toll or largest.toll or _PART_OF.search(other_sentence):
        return False
    mine, theirs = victim_group(largest.phrase), victim_group(other.phrase)
    if mine is not None and theirs is not None:
        return mine != theirs
    return mine is not None and theirs is None and largest.value > other.value


def no_casualties(text: str) -> dict[str, int]:
    """Kinds an article says explicitly did not happen: "no one was killed" -> killed 0."""
    found: dict[str, int] = {}
    for m in _NONE.finditer(text):
        word = next(g for g in m.groups() if g).lower()
        if word.startswith("casualt"):
            kinds: tuple[str, ...] = ("killed", "wounded")
        else:
            kinds = ("killed",) if word in ("killed", "dead", "deaths") else ("wounded",)
        found.update(dict.fromkeys(kinds, 0))
    return found


def extract_casualties(text: str) -> Casualties:
    figures: dict[str, int | None] = {"killed": None, "wounded": None}
    evidence: list[str] = []
    for c in count_mentions(text):
        figures[c.kind], evidence = _keep(figures[c.kind], c.value, evidence, c.phrase)
    return Casualties(figures["killed"], figures["wounded"], tuple(dict.fromkeys(evidence)))


def _refers_to_earlier_event(text: str, start: int) -> bool:
    """True when the clause before the count dates its event earlier (no comma in between)."""
    window = text[max(0, start - 120) : start]
    ends = list(_CLAUSE_END.finditer(window))
    clause = window[ends[-1].end() :] if ends else window
    return _EARLIER.search(clause) is not None


def _count(phrase: str) -> int | None:
    """The number a phrase states: a range's lower end, else its numbers added up."""
    rng = _RANGE.search(phrase)
    if rng:
        low = next(g for g in rng.groups() if g is not None)
        return to_int(low)
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
