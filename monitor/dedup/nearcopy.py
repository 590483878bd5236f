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

from monitor.dedup.text import sentences, shingles

PERMUTATIONS = 64
BANDS = 16
ROWS = PERMUTATIONS // BANDS
MIN_SHINGLES = 5  # fewer than this is too little text to call anything a copy
_SEED = 20200312  # fixed: sketches stored in the database must stay comparable


def _permutations() -> tuple[np.ndarray, np.ndarray]:
    """h -> a*h + b (mod 2^32), one per permutation: with ``a`` odd, each is a bijection of
    the 32-bit hashes, so it adds no collisions. Drawn as datasketch 2 drew them for our
    seed, so sketches stored before we dropped that library compare with new ones."""
    gen = np.random.RandomState(_SEED)
    a = gen.randint(0, 1 << 31, PERMUTATIONS, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, PERMUTATIONS, dtype=np.uint32)
    return a, b


_A, _B = _permutations()


def _hashes(grams: Iterable[str]) -> np.ndarray:
    """32-bit hash of each shingle, avalanched by MurmurHash3's finalizer (so that similar
    inputs spread over the whole range before the affine permutations)."""
    h = np.fromiter(
        (int.from_bytes(hashlib.blake2b(g.encode("utf-8"), digest_size=4).digest(), "little")
         for g in grams),
        dtype=np.uint32,
    )  # fmt: skip
    h ^= h >> np.uint32(16)
    h *= np.uint32(0x85EBCA6B)
    h ^= h >> np.uint32(13)
    h *= np.uint32(0xC2B2AE35)
    return h ^ (h >> np.uint32(16))


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
    # Every shingle under every permutation (uint32 arithmetic wraps: mod 2^32), minimum.
    permuted = _hashes(grams)[:, None] * _A[None, :] + _B[None, :]
    return Sketch(tuple(int(v) for v in permuted.min(axis=0)))


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
