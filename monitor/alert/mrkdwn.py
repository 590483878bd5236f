"""Slack mrkdwn text: escaping, clipping, links and bold highlights. Pure functions.

Slack reads ``&``, ``<`` and ``>`` as markup, so every text from an article, a feed or a
watchlist is escaped (api.slack.com/reference/surfaces/formatting#escaping), and lengths are
counted as sent: escaped, with markers, an escape like ``&amp;`` never cut in half.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from monitor.classify.normalize import APOSTROPHES, HYPHENS

EVIDENCE_MAX = 600
URL_MAX = 1500  # escaped; a longer link shows as its label only

# Words as the classifier tokenises them: letters and digits, joined by apostrophes/hyphens.
_LETTER = r"[^\W_]"
_APOSTROPHE = f"[{re.escape(APOSTROPHES)}]"
_JOINER = f"[{re.escape(APOSTROPHES + HYPHENS)}]"


# Slack's date token (api.slack.com/reference/surfaces/formatting#date-formatting): each
# reader sees the instant in their own zone; the text after "|" where a client cannot.
DATE_TOKEN = re.compile(r"<!date\^(-?\d+)\^([^|^<>]+)\|([^|<>]+)>")


def instant(when: datetime) -> str:
    """A point in time (published, first seen, sent) as Slack's date token: shown in each
    reader's zone, falling back to UTC with the zone named. Built from a datetime only,
    never from article text, and after escaping: text whose ``<`` is escaped cannot make one.
    """
    at = when if when.tzinfo else when.replace(tzinfo=UTC)  # naive means UTC, never local
    fallback = at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(at.timestamp())}^{{date_short_pretty}} {{time}}|{fallback}>"


def escape(text: str) -> str:
    """Slack's three control characters; everything else is literal."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int, *, escaped: bool = True) -> str:
    """``text`` escaped (if asked) and cut to ``limit`` characters without splitting an entity."""
    out: list[str] = []
    used = 0
    for ch in text:
        piece = escape(ch) if escaped else ch
        if used + len(piece) > limit - 1:
            return "".join(out).rstrip() + "…"
        out.append(piece)
        used += len(piece)
    return "".join(out)


def link(url: str | None, label: str, limit: int = 300) -> str:
    """``<url|label>``; a URL Slack could misread is encoded, a non-web one is not linked."""
    label = clip(" ".join(label.split()) or "link", limit).replace("|", "¦")
    if not url or not url.startswith(("http://", "https://")):
        return label
    safe = escape(url.replace("|", "%7C").replace(" ", "%20"))
    # Measured escaped: a URL of '&'s grows five-fold and would burst its section.
    return f"<{safe}|{label}>" if len(safe) <= URL_MAX else label


def bold_matches(sentence: str, words: tuple[str, ...], limit: int = EVIDENCE_MAX) -> str:
    """The sentence escaped, every matched word or phrase in *bold*, at most ``limit``
    characters as sent (escapes and markers counted, an escape never cut in half)."""
    sentence = " ".join(sentence.split())
    pieces: list[tuple[str, bool]] = []
    last = 0
    for start, end in _whole_words(sentence, words):
        pieces += [(sentence[last:start], False), (sentence[start:end], True)]
        last = end
    pieces.append((sentence[last:], False))
    out: list[str] = []
    used = 0
    for text, bold in pieces:
        room = limit - used - (2 if bold else 0)
        shown = clip(text, room) if room > 1 else "…"
        cut = shown != escape(text)
        if bold and shown != "…":
            shown = f"*{shown}*"
        out.append(shown)
        used += len(shown)
        if cut:
            break
    return "".join(out)


def _whole_words(sentence: str, words: tuple[str, ...]) -> list[tuple[int, int]]:
    """Where the words occur as whole words. Slack shows bold markers inside a word as
    literal asterisks ("*Russia*n"), so "Russia" is not highlighted inside "Russian" nor
    "Hezbollah" inside "Hezbollah-backed"; a possessive joins its name ("*Iraq's*")."""
    words = tuple(w for w in dict.fromkeys(" ".join(w.split()) for w in words) if w)
    if not words:
        return []
    alternatives = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    pattern = re.compile(
        rf"(?<!{_LETTER})(?<!{_LETTER}{_JOINER})(?:{alternatives})(?:{_APOSTROPHE}s)?"
        rf"(?!{_LETTER})(?!{_JOINER}{_LETTER})",
        re.IGNORECASE,
    )
    return [m.span() for m in pattern.finditer(sentence)]
