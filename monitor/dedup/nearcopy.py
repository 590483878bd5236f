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
SMALL_LOAD = 1024  # fewer articles than this are added one by one (``LshIndex.load``)
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


def pack_bands(keys: Sequence[int]) -> bytes:
    """Band keys as stored (``articles.sketch_bands``): 64-bit little-endian integers."""
    return struct.pack(f"<{len(keys)}Q", *keys)


class LshIndex:
    """Band key -> article ids, in memory; rebuilt from stored band keys on start.

    What a start loads (up to a few million band keys) is held as two sorted arrays, looked
    up by bisection: a dict of lists would take seconds to build and ~100 bytes a key.
    Articles added later go to a small dict; removed loaded ones are only marked, and the
    arrays are compacted once most of them are gone.
    """

    def __init__(self) -> None:
        self._base_keys = np.empty(0, dtype=np.uint64)  # sorted
        self._base_ids = np.empty(0, dtype=np.int64)  # article id of each key
        self._base_members = np.empty(0, dtype=np.int64)  # loaded article ids, sorted
        self._removed: set[int] = set()  # loaded articles removed since the arrays were built
        self._buckets: dict[int, list[int]] = {}
        self._keys: dict[int, list[int]] = {}  # article id -> its band keys, for removal

    def __len__(self) -> int:
        return len(self._keys) + len(self._base_members) - len(self._removed)

    def __contains__(self, article_id: object) -> bool:
        return article_id in self._keys or self._loaded(article_id)

    def _loaded(self, article_id: object) -> bool:
        """Loaded in bulk and not removed since."""
        if not isinstance(article_id, int) or article_id in self._removed:
            return False
        at = int(np.searchsorted(self._base_members, article_id))
        return at < len(self._base_members) and int(self._base_members[at]) == article_id

    def add(self, article_id: int, sketch: Sketch) -> None:
        self.add_bands(article_id, sketch.bands)

    def add_bands(self, article_id: int, keys: Sequence[int]) -> None:
        if article_id in self:
            return
        self._keys[article_id] = list(keys)
        for key in keys:
            self._buckets.setdefault(key, []).append(article_id)

    def load(self, members: Iterable[tuple[int, bytes]]) -> None:
        """Add many (article id, packed band keys) at once, as a start does."""
        fresh = [(a, b) for a, b in members if len(b) == 8 * BANDS and a not in self]
        if len(fresh) < SMALL_LOAD:  # another replica's few: re-sorting the arrays costs more
            for article_id, packed in fresh:
                self.add_bands(article_id, struct.unpack(f"<{BANDS}Q", packed))
            return
        ids = np.fromiter((a for a, _ in fresh), dtype=np.int64, count=len(fresh))
        keys = np.frombuffer(b"".join(b for _, b in fresh), dtype="<u8").astype(np.uint64)
        self.load_arrays(ids, keys)

    def load_arrays(self, ids: np.ndarray, keys: np.ndarray) -> None:
        """``load`` of articles not in the index yet, as arrays: ``BANDS`` keys per id."""
        if not len(ids):
            return
        self._compact()  # the removed ones go before the arrays grow
        members = np.sort(np.concatenate([self._base_members, ids]))
        self._base_members = members[np.concatenate([[True], members[1:] != members[:-1]])]
        self._rebuild(
            np.concatenate([self._base_keys, keys]),
            np.concatenate([self._base_ids, np.repeat(ids, BANDS)]),
        )

    def _rebuild(self, keys: np.ndarray, ids: np.ndarray) -> None:
        order = np.argsort(keys)  # the order of one key's ids does not matter
        self._base_keys, self._base_ids = keys[order], ids[order]

    def _compact(self) -> None:
        if not self._removed:
            return
        gone = np.fromiter(self._removed, dtype=np.int64, count=len(self._removed))
        keep = ~np.isin(self._base_ids, gone)
        self._base_members = np.setdiff1d(self._base_members, gone)
        self._base_keys, self._base_ids = self._base_keys[keep], self._base_ids[keep]
        self._removed = set()

    def remove(self, article_ids: Iterable[int]) -> None:
        for article_id in article_ids:
            if self._loaded(article_id):
                self._removed.add(article_id)
            for key in self._keys.pop(article_id, ()):
                bucket = self._buckets.get(key)
                if bucket and article_id in bucket:
                    bucket.remove(article_id)
                    if not bucket:
                        del self._buckets[key]
        if self._removed and 2 * len(self._removed) >= len(self._base_members):
            self._compact()  # most loaded ones are gone

    def candidates(self, sketch: Sketch) -> list[int]:
        """Article ids sharing at least one band with ``sketch``, most recent first."""
        found: set[int] = set()
        bands = sketch.bands
        if len(self._base_keys):
            removed = self._removed
            wanted = np.array(bands, dtype=np.uint64)
            lo = np.searchsorted(self._base_keys, wanted, side="left")
            hi = np.searchsorted(self._base_keys, wanted, side="right")
            for a, b in zip(lo.tolist(), hi.tolist(), strict=True):
                if b > a:
                    found.update(i for i in self._base_ids[a:b].tolist() if i not in removed)
        for key in bands:
            found.update(self._buckets.get(key, ()))
        return sorted(found, reverse=True)
