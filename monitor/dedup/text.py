"""Text as dedup sees it: boilerplate-free sentences, terms, shingles and term vectors.

Pure functions only; the document frequencies they are weighed with live in `index.py`.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter

# Function words carry no story identity. Written for news English; kept short on purpose
# because learned document frequencies down-weight the rest.
STOPWORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been
    before being below between both but by can could did do does doing down during each few
    for from further had has have having he her here hers him his how i if in into is it its
    just me more most my no nor not now of off on once only or other our ours out over own
    same she should so some such than that the their theirs them then there these they this
    those through to too under until up very was we were what when where which while who
    whom why will with would you your yours said says say told according new one two three
    like get got make made may might must per since still via yet us mr mrs ms monday
    tuesday wednesday thursday friday saturday sunday week today yesterday""".split()  # noqa: SIM905
)

# Sentences that belong to the page, not the story: paywalls, sign-in and sharing prompts,
# cookie banners. Two outlets' identical paywall text must not make their stories one.
_BOILERPLATE = re.compile(
    r"\b(sign (in|up)|log ?in|log out|subscri(be|ber|ption)|password|free trial|"
    r"register|newsletter|cookies?|all rights reserved|click here|share this|"
    r"follow us|read more|e-?mail address(es)?|terms of (use|service)|privacy policy|"
    r"enter your details|registered users|first name|job title|request a (full )?trial|"
    r"advertisement|you have reached the limit|are you sure you want)",
    re.IGNORECASE,
)
# Contact furniture: press releases end with the same agency's e-mail, phone and links in
# every release, which would otherwise make two unrelated releases look alike.
_CONTACT = re.compile(
    # e-mail address, read from the start of its local part: tried from every character
    # of a long word it would rescan the rest of the word each time
    r"(?<![\w.+-])[\w.+-]+@[\w-]+\.[\w.]+"
    r"|https?://|www\."  # link
    r"|(?:\+?\d{1,3}[\s.-]?)?\(?\d{3}\)?[\s.-]?\d{3}[\s.-]\d{4}"  # phone number
)
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+|\s\|\s")
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?")


def normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def sentences(text: str) -> list[str]:
    """Sentences and lines of ``text``, without page boilerplate."""
    parts = (p.strip() for p in _SENTENCE.split(normalise(text)))
    return [p for p in parts if p and not _BOILERPLATE.search(p) and not _CONTACT.search(p)]


def clean_title(title: str) -> str:
    """The title without any page boilerplate glued to it by a careless feed."""
    title = normalise(title)
    m = _BOILERPLATE.search(title)
    return title[: m.start()].strip() if m else title.strip()


def _stem(word: str) -> str:
    """A light suffix strip so 'strikes'/'strike' and 'militia's'/'militia' agree."""
    for suffix in ("'s", "’s"):
        if word.endswith(suffix):
            word = word[: -len(suffix)]
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def words(text: str) -> list[str]:
    """Lower-cased word tokens, stop words kept (shingles need the running text)."""
    return [w.lower() for w in _WORD.findall(normalise(text))]


def terms(text: str) -> list[str]:
    """Content terms: stemmed words that are not stop words or single characters."""
    out = []
    for word in words(text):
        if word in STOPWORDS or len(word) < 2:
            continue
        stem = _stem(word)
        if stem not in STOPWORDS:
            out.append(stem)
    return out


def shingles(text: str, size: int) -> set[str]:
    """Overlapping runs of ``size`` words; a text shorter than that is one shingle."""
    ws = words(text)
    if len(ws) <= size:
        return {" ".join(ws)} if ws else set()
    return {" ".join(ws[i : i + size]) for i in range(len(ws) - size + 1)}


def term_frequencies(title: str, body: str, *, title_boost: float = 2.0) -> dict[str, float]:
    """Sublinear term frequencies, title terms counted ``title_boost`` times extra.

    Headlines name the event; bodies add background, so the title weighs more.
    """
    counts: dict[str, float] = dict(Counter(terms(body)))
    for term in terms(title):
        counts[term] = counts.get(term, 0.0) + title_boost
    return {t: 1.0 + math.log(c) for t, c in counts.items() if c > 0}


def cosine(a: dict[str, float], b: dict[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    dot = sum(w * b.get(t, 0.0) for t, w in a.items())
    na = math.sqrt(sum(w * w for w in a.values()))
    nb = math.sqrt(sum(w * w for w in b.values()))
    return dot / (na * nb) if na and nb else 0.0


def top_terms(vector: dict[str, float], n: int) -> dict[str, float]:
    return dict(sorted(vector.items(), key=lambda kv: (-kv[1], kv[0]))[:n])
