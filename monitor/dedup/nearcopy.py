"""Level 2: near-copies (wire copy, re-posts under a new headline) by MinHash and LSH.

The sketch is taken over word shingles of the body without page boilerplate, so a new
headline or a different paywall notice does not hide a copy. Banding (``BANDS`` bands of
``ROWS`` rows) makes pairs above Jaccard ~0.5 collide with high probability; every
collision is then checked against the estimated Jaccard before it counts.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from datasketch import MinHash

from monitor.dedup.text import sentences, shingles

PERMUTATIONS = 64
BANDS = 16
ROWS = PERMUTATIONS // BANDS
MIN_SHINGLES = 5  # fewer than this is too little text to call anything a copy
_SEED = 20200312  # fixed: sketches stored in the database must stay comparable


def _hash32(data: bytes) -> int:
    return int(struct.unpack("<I", hashlib.blake2b(data, digest_size=4).digest())[0])


@dataclass(frozen=True, slots=True)
class Sketch:
    values: tuple[int, ...]

    @property
    def bands(self) -> list[int]:
        """One key per band; equal keys in any band make two articles candidates."""
        keys = []
        for band in range(BANDS):
            chunk = self.values[band * ROWS : (band + 1) * ROWS]
            packed = struct.pack(f"<B{ROWS}Q", band, *chunk)
            keys.append(int.from_bytes(hashlib.blake2b(packed, digest_size=8).digest(), "little"))
        return keys

    def jaccard(self, other: Sketch) -> float:
        same = sum(a == b for a, b in zip(self.values, other.values, strict=True))
        return same / PERMUTATIONS


def sketch_text(text: str, *, shingle_words: int) -> Sketch | None:
    """The MinHash of ``text``'s shingles, or None when there is too little text."""
    body = " ".join(sentences(text))
    grams = shingles(body, shingle_words)
    if len(grams) < MIN_SHINGLES:
        return None
    mh = MinHash(num_perm=PERMUTATIONS, seed=_SEED, hashfunc=_hash32)
    mh.update_batch([g.encode("utf-8") for g in grams])
    return Sketch(tuple(int(v) for v in np.asarray(mh.hashvalues)))


def sketch_from_json(values: Sequence[int] | None) -> Sketch | None:
    if not values or len(values) != PERMUTATIONS:
        return None
    return Sketch(tuple(int(v) for v in values))


class LshIndex:
    """Band key -> article ids, in memory; rebuilt from stored sketches on start."""

    def __init__(self) -> None:
        self._buckets: dict[int, list[int]] = {}
        self._keys: dict[int, list[int]] = {}  # article id -> its band keys, for removal

    def __len__(self) -> int:
        return len(self._keys)

    def __contains__(self, article_id: object) -> bool:
        return article_id in self._keys

    def add(self, article_id: int, sketch: Sketch) -> None:
        if article_id in self._keys:
            return
        keys = sketch.bands
        self._keys[article_id] = keys
        for key in keys:
            self._buckets.setdefault(key, []).append(article_id)

    def remove(self, article_ids: Iterable[int]) -> None:
        for article_id in article_ids:
            for key in self._keys.pop(article_id, ()):
                bucket = self._buckets.get(key)
                if bucket and article_id in bucket:
                    bucket.remove(article_id)
                    if not bucket:
                        del self._buckets[key]

    def candidates(self, sketch: Sketch) -> list[int]:
        """Article ids sharing at least one band with ``sketch``, most recent first."""
        found: set[int] = set()
        for key in sketch.bands:
            found.update(self._buckets.get(key, ()))
        return sorted(found, reverse=True)
