"""What a term's document frequency is before the stream has taught us: general English.

Learned document frequencies need thousands of articles before "market" stops looking as
rare as "Kataib". Until then (a fresh install, a replay of a few hundred articles) the
learned counts are blended with a prior: ``PRIOR_DOCUMENTS`` imaginary articles in which
each word occurs as often as in general English (wordfreq's word lists). The stream
outweighs the prior as it grows, so a newsroom's own vocabulary still wins in the end.
"""

from __future__ import annotations

import gzip
import importlib.util
import math
from functools import lru_cache
from itertools import chain
from pathlib import Path

import msgpack
import numpy as np

PRIOR_DOCUMENTS = 3000  # weight of the prior, in articles
WORDS_PER_ARTICLE = 500  # running words of a typical article, to turn frequency into a rate


@lru_cache(maxsize=1)
def _frequencies() -> tuple[np.ndarray, np.ndarray]:
    """English words as (sorted hashes, frequency bucket of each) - about 3 MB, where
    wordfreq's own dictionary (and the word lists it caches to build it) held 33 MB for the
    life of the process. Hashes are this process's hashes of the words' UTF-8 bytes: 64 bits,
    no collision among ~320k words in practice, and never stored. Bucket i holds words of
    frequency 10^(-i/100) (wordfreq's "cBpack": the "large" list, "best" for English)."""
    buckets = _english_buckets()
    words = sum(len(b) for b in buckets)
    hashes = np.fromiter(map(_key, chain.from_iterable(buckets)), dtype=np.int64, count=words)
    ranks = np.repeat(np.arange(len(buckets), dtype=np.int16), [len(b) for b in buckets])
    order = np.argsort(hashes, kind="stable")
    return hashes[order], ranks[order]


def _english_buckets() -> list[list[str]]:
    """wordfreq's "large" English list, read from its data file as its ``read_cBpack`` reads
    it: importing wordfreq itself also imports langcodes, ftfy and regex, a fifth of
    `monitor replay`'s start-up, for two lines of code we do not use."""
    spec = importlib.util.find_spec("wordfreq")
    where = spec.submodule_search_locations if spec else None
    path = Path(where[0], "data", "large_en.msgpack.gz") if where else None
    if path is None or not path.is_file():  # another layout: ask wordfreq where it is
        import wordfreq

        path = Path(wordfreq.available_languages("large")["en"])
    with gzip.open(path, "rb") as packed:
        data = msgpack.load(packed, raw=False)
    header = data[0]
    if not isinstance(header, dict) or header.get("format") != "cB" or header.get("version") != 1:
        raise ValueError(f"{path}: not a wordfreq cBpack file (header {header!r})")
    return list(data[1:])


def _key(word: str) -> int:
    # Of its UTF-8 bytes: str's own hash reads the code units, so "火" (U+706B) and "kp"
    # (bytes 6B 70) hash alike.
    return hash(word.encode("utf-8"))


def word_frequency(term: str) -> float:
    """``term``'s frequency in general English, as wordfreq.get_frequency_dict gives it."""
    hashes, ranks = _frequencies()
    key = _key(term)
    # A word in two buckets (16 odd tokens) counts in the rarer, as in wordfreq's dict.
    at = int(np.searchsorted(hashes, key, side="right")) - 1
    if at < 0 or hashes[at] != key:
        return 0.0
    return float(10 ** (-int(ranks[at]) / 100))  # centibels, as wordfreq.cB_to_freq


@lru_cache(maxsize=262144)
def prior_rate(term: str) -> float:
    """Expected share of articles containing ``term`` (0 for words general English lacks)."""
    return 1.0 - math.exp(-word_frequency(term) * WORDS_PER_ARTICLE)
