"""What a term's document frequency is before the stream has taught us: general English.

Learned document frequencies need thousands of articles before "market" stops looking as
rare as "Kataib". Until then (a fresh install, a replay of a few hundred articles) the
learned counts are blended with a prior: ``PRIOR_DOCUMENTS`` imaginary articles in which
each word occurs as often as in general English (wordfreq's word lists). The stream
outweighs the prior as it grows, so a newsroom's own vocabulary still wins in the end.
"""

from __future__ import annotations

import math
from functools import lru_cache

import wordfreq

PRIOR_DOCUMENTS = 3000  # weight of the prior, in articles
WORDS_PER_ARTICLE = 500  # running words of a typical article, to turn frequency into a rate


@lru_cache(maxsize=1)
def _frequencies() -> dict[str, float]:
    return wordfreq.get_frequency_dict("en", wordlist="best")


@lru_cache(maxsize=262144)
def prior_rate(term: str) -> float:
    """Expected share of articles containing ``term`` (0 for words general English lacks)."""
    frequency = _frequencies().get(term, 0.0)
    return 1.0 - math.exp(-frequency * WORDS_PER_ARTICLE)
