"""Where a report puts its event, read from its own words: the same-kind twin veto.

Two earthquakes, two bombings, two rocket salvos of one week are told in the same words;
what tells them apart is where they happened. The watchlist knows only the user's places,
so the place is read from the text as well: a capitalised name after a locative
preposition ("slammed into Tell Hamra", "villagers in Tell Hamra", "the market of
Tell Hamra") in the headline or the first sentence, skipping landmarks ("12 km from
Kirkuk", "near Kirkuk", "east of Kirkuk").

Two sides disagree on the place only when each names one in its lede and neither names
the other's anywhere, so a report that says "Oakland" and one that says "East Oakland",
or one that places the event in a village and mentions its province further down,
agree. Names are compared by a consonant key (lower case, accents, vowels after the
first letter and doubled letters dropped), so spelling variants of one name
("Tell Hamra", "Tel Hamrah") are the same name.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from monitor.dedup.text import STOPWORDS

# Locative prepositions that put the event somewhere. Not "from" or "near": landmarks.
_PLACE_RE = re.compile(
    r"(?<![\w-])(?P<prep>in|at|into|on|onto|inside|outside|across|throughout|of)\s+"
    r"(?:the\s+)?(?P<name>[A-ZÀ-ÖØ-Þ][\w'’-]*(?:\s+(?:[A-ZÀ-ÖØ-Þ][\w'’-]*|al-\w+|el-\w+))*)"
)
# "north of Kirkuk", "12 km east of Kirkuk", "the outskirts" is the place itself.
_LANDMARK_BEFORE_RE = re.compile(
    r"(?:north|south|east|west|northeast|northwest|southeast|southwest)(?:ern)?\s*$",
    re.IGNORECASE,
)
_WORD_RE = re.compile(r"[^\W\d_]+", re.UNICODE)
# Capitalised words that name no place: a day, a month, a designator that every place has.
_NOT_NAMES = frozenset(
    """monday tuesday wednesday thursday friday saturday sunday january february march april
    may june july august september october november december i the a an""".split()  # noqa: SIM905
)
_GENERIC = frozenset(
    "city town village province district county state region camp al el ez ad as ash".split()  # noqa: SIM905
)
_VOWELS = frozenset("aeiouy")
_TITLE_CASE_SHARE = 0.6
MIN_STEM = 4  # "amrc" (America) names "amrcn" (American): a key's shorter form, so long
MAX_WORDS = 3  # "Tell Hamra", "Abu Kamal", "Deir ez-Zor"; longer runs are Title Case
# The event's place is what a report comes back to: a lede place counts when this many of
# its sentences (headline included) name it. Chosen by cross-validation on the development
# pairs (bench/dedup_veto.py, BENCHMARKS.md dedup-veto) among 1 and 2.
REPEATED = 2  # a headline with more capitalised words than this is Title Case


def name_key(word: str) -> str:
    """A spelling-tolerant key of one word: "Hamrah" and "Hamra", "Tel" and "Tell" agree."""
    letters = [c for c in unicodedata.normalize("NFKD", word.lower()) if c.isalpha()]
    if not letters:
        return ""
    kept = [letters[0]] + [c for c in letters[1:] if c not in _VOWELS]
    if len(kept) > 1 and kept[-1] == "h" and letters[-1] == "h":
        kept.pop()  # a trailing transliterated h: Hamrah, Hamra
    out: list[str] = []
    for c in kept:
        if not out or out[-1] != c:
            out.append(c)
    return "".join(out)


@dataclass(frozen=True, slots=True)
class Whereabouts:
    """Where one report (or a story's reports together) puts its event."""

    lede: frozenset[str]  # places the headline and first sentence name, as written
    names: frozenset[str]  # name keys of every capitalised word of the text(s)


def whereabouts(
    title: str,
    sentences: Iterable[str],
    *,
    repeated: int | None = None,
    not_places: Iterable[str] = (),
) -> Whereabouts:
    """The places of ``title`` and the first of ``sentences`` (the cleaned body) that
    ``repeated`` (default ``REPEATED``) of its sentences name, and the names the whole text
    mentions. ``not_places`` are names the watchlist knows as no place (a militia, a
    person): "a strike on Asaib Ahl al-Haq office in Kirkuk" happened in Kirkuk."""
    repeated = REPEATED if repeated is None else repeated
    body = list(sentences)
    others = [set(k) for k in map(place_keys, not_places) if k]
    lede: set[str] = set()
    for sentence in (title, *body[:1]):
        if not _title_case(sentence):  # (a feed may repeat its Title Case headline as the lede)
            lede |= _first_place(sentence, others)
    said = [_names(s) for s in dict.fromkeys((title, *body))]  # a title repeated in the body once
    names = frozenset().union(*said)
    if repeated > 1:
        lede = {p for p in lede if sum(set(place_keys(p)) <= s for s in said) >= repeated}
    return Whereabouts(frozenset(lede), names)


def _names(sentence: str) -> frozenset[str]:
    """Name keys of a sentence's capitalised words ("An" at its start is no "Ain")."""
    keys = {
        name_key(w)
        for w in _WORD_RE.findall(sentence)
        if w[0].isupper() and w.lower() not in STOPWORDS
    }
    keys.discard("")
    return frozenset(keys)


def _title_case(title: str) -> bool:
    """Title Case capitalises every word, so a capital says nothing of a name there."""
    words = [w for w in _WORD_RE.findall(title)[1:] if len(w) > 3]
    return bool(words) and sum(w[0].isupper() for w in words) > _TITLE_CASE_SHARE * len(words)


def _first_place(sentence: str, not_places: list[set[str]]) -> set[str]:
    """The first place the sentence names with a locative preposition, if any, that is
    not one of ``not_places`` (name keys of things that are no place)."""
    for m in _PLACE_RE.finditer(sentence):
        if m.group("prep") == "of" and _not_a_place_of(sentence[: m.start()]):
            continue
        name = m.group("name").strip("'’-")
        if len(name.split()) > MAX_WORDS:
            continue  # a run of capitals: a Title Case fragment, names after names
        keys = place_keys(name)
        if keys and not any(set(keys) <= other for other in not_places):
            return {name}
    return set()


def _not_a_place_of(before: str) -> bool:
    """ "east of Kirkuk" is a landmark; "CEO of Acme", "Bank of England" a name's part.
    "The market of Tell Hamra", "Residents of Tell Hamra" (a sentence's first word is
    capitalised whatever it is) place the event."""
    if _LANDMARK_BEFORE_RE.search(before):
        return True
    words = before.split()
    return not words or (len(words) > 1 and not words[-1][:1].islower())


@functools.lru_cache(maxsize=4096)
def place_keys(name: str) -> tuple[str, ...]:
    """The name keys of a place's own words (not "the", "province", "camp", "al")."""
    words = [w for w in _WORD_RE.findall(name) if len(w) > 1 and w.lower() not in _NOT_NAMES]
    if not words or not words[0][0].isupper():
        return ()
    keys = (name_key(w) for w in words if w.lower() not in _GENERIC)
    return tuple(k for k in keys if k)


def named_by(place: str, names: frozenset[str] | set[str]) -> bool:
    """Whether every word of the place ``place`` is among ``names``, or the longer form
    of a name that is ("South American" is named by "South America")."""
    keys = place_keys(place)
    return bool(keys) and all(_named(key, names) for key in keys)


def _named(key: str, names: frozenset[str] | set[str]) -> bool:
    return key in names or any(key[:n] in names for n in range(MIN_STEM, len(key)))


def places_apart(mine: Whereabouts, theirs: Whereabouts) -> bool:
    """Both put their event somewhere, and neither names the other's place at all."""
    if not mine.lede or not theirs.lede:
        return False
    return not any(named_by(p, theirs.names) for p in mine.lede) and not any(
        named_by(p, mine.names) for p in theirs.lede
    )


NOWHERE = Whereabouts(frozenset(), frozenset())
