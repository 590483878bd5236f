"""The in-memory view of recent stories: profiles, candidate postings, LSH, document frequencies.

The database is the truth. The index is built from it on first use, and before every
decision it reloads the stories whose ``revision`` moved since it last looked (another
replica's work, an operator's merge or split). What is loaded is measured from each
article's own time, not the wall clock: a backfilled or late report (a new feed's archive,
a catch-up after an outage) is compared with the stories active around its publication,
exactly as `monitor replay` compares it, so a replay is an honest backtest of live runs.
Posting lists keep only the most recent stories per term, so finding candidates costs the
same with 10,000 or 200,000 articles.

The index owns what it stores for the next start and reads back: of each story its keys
as 64-bit hashes and its articles with their band keys, packed (``store_entry``); of each
article its MinHash, embedding, lede targets, band keys and terms (``store_article``). The
clusterer hands it each decision (``join``, ``merge``) and the operator commands call
these functions; neither writes those columns nor the index's profiles themselves.

A stored value it cannot read (a story's packed keys or members cut short, its features or
an article's sketch not decoding) is never fatal: the index logs a warning naming the story
or article, has the story rebuilt from its articles (``repair``, injected: the operator
commands' rebuild) and goes on; other stories are not touched.
"""

from __future__ import annotations

import binascii
import hashlib
import logging
import math
import struct
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import islice

import numpy as np
from sqlalchemy.orm import Session

from monitor.dedup.features import ArticleFeatures
from monitor.dedup.nearcopy import BANDS, LshIndex, Sketch, pack_bands, sketch_from_json
from monitor.dedup.prior import PRIOR_DOCUMENTS, prior_rate
from monitor.dedup.profile import StoryProfile, Weighed, Weighted
from monitor.dedup.settings import DedupSettings
from monitor.dedup.text import top_terms
from monitor.dedup.vectors import pack_vector, unpack_vector
from monitor.errors import DedupError
from monitor.storage import stories as db
from monitor.storage.models import ArticleRow, Story
from monitor.units import counted

log = logging.getLogger(__name__)
# What decoding a stored value that was cut or garbled raises (binascii: bad base64).
CORRUPT = (ValueError, TypeError, KeyError, struct.error, binascii.Error)
# Rebuilds a story's row and index entry from its articles (``operations.repair_story``).
Repair = Callable[[Session, Story], None]

NEAR_COPY_CANDIDATES = 20  # stored articles the LSH finds that are compared in full
STORED_TERMS = 300  # distinct terms kept per article to relearn document frequencies
POSTINGS_PER_KEY = 64  # most recent stories remembered per term / entity
SCAN_PER_KEY = 32  # postings read per key per article: bounds candidate work
QUERY_TERMS = 20  # an article's most distinctive terms used to find candidates
SWEEP_EVERY = 256  # assignments between evictions of stories that left the window
# A story's weighed centroid is reused until the stream grew by this share: document
# frequencies of a large stream barely move per article, and reweighing 150 terms of
# every candidate for every article was the cost that grew with the archive.
REWEIGH_GROWTH = 0.02


class DocumentFrequencies:
    """How many articles of the stream contained each term, learned as they arrive.

    Blended with a general-English prior (`prior.py`) so a young stream weighs words sensibly.
    """

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.documents = 0
        self._stable: dict[str, float] = {}  # idf cached for story vectors, see ``stable_idf``
        self._stable_at = 0

    def learn(self, terms: Iterable[str]) -> None:
        self.counts.update(set(terms))
        self.documents += 1

    def learn_stored(self, documents: list[str]) -> None:
        """Learn many stored term lists (``articles.sketch_terms``): each is already
        distinct (the keys of a vector), so counting its words as they are counts as
        ``learn`` does, without making a set of each."""
        counts = self.counts
        for terms in documents:
            counts.update(terms.split())
        self.documents += len(documents)

    def idf(self, term: str) -> float:
        seen = PRIOR_DOCUMENTS * prior_rate(term) + self.counts.get(term, 0)
        return math.log((1 + PRIOR_DOCUMENTS + self.documents) / (1 + seen)) + 1.0

    def weigh(self, vector: dict[str, float]) -> dict[str, float]:
        return {t: w * self.idf(t) for t, w in vector.items()}

    def weigh_stable(self, vector: dict[str, float]) -> dict[str, float]:
        """Like ``weigh``, with idf values reused until the stream grew ``REWEIGH_GROWTH``.

        For story centroids, which tolerate the same staleness (``StoryIndex.weighed_story``).
        """
        if self.documents - self._stable_at > REWEIGH_GROWTH * (self._stable_at + PRIOR_DOCUMENTS):
            self._stable, self._stable_at = {}, self.documents
        table = self._stable
        out = {}
        for t, w in vector.items():
            idf = table.get(t)
            if idf is None:
                idf = table[t] = self.idf(t)
            out[t] = w * idf
        return out


MEMBER = struct.Struct(f"<Q{BANDS}Q")  # a story's article in ``index_members``: id, band keys


def key_hash(key: str) -> int:
    """A candidate key as the 64-bit integer stored in ``stories.index_hashes``."""
    return int.from_bytes(hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest(), "little")


def pack_keys(keys: Iterable[str]) -> bytes:
    hashes = [key_hash(k) for k in keys]
    return struct.pack(f"<{len(hashes)}Q", *hashes)


def pack_members(members: Iterable[tuple[int, bytes | None]]) -> bytes:
    """(article id, its packed band keys as ``articles.sketch_bands``) of a story's
    articles, as ``stories.index_members``; articles without a sketch have no entry."""
    return b"".join(
        struct.pack("<Q", article_id) + bands
        for article_id, bands in members
        if bands is not None and len(bands) == 8 * BANDS
    )


def members_problem(members: bytes | None) -> str | None:
    """Why a stored ``index_members`` value cannot be read (None: it can, or is absent)."""
    if members is None or len(members) % MEMBER.size == 0:
        return None
    return f"index_members is {counted(len(members), 'byte')}, not whole {MEMBER.size}-byte entries"


def hashes_problem(hashes: bytes | None) -> str | None:
    """Why a stored ``index_hashes`` value cannot be read (None: it can, or is absent)."""
    if hashes is None or len(hashes) % 8 == 0:
        return None
    return f"index_hashes is {counted(len(hashes), 'byte')}, not whole 8-byte keys"


def store_article(row: ArticleRow, article: ArticleFeatures, sketch: Sketch | None) -> None:
    """Write what the index reads back of an assigned article (``stored_article``; its
    band keys and terms at a start) and what rebuilding its story reads (meaning, targets)."""
    row.sketch = {
        "minhash": list(sketch.values) if sketch else None,
        "meaning": pack_vector(article.meaning),
        "targets": sorted(article.targets),
    }
    row.sketch_bands = pack_bands(sketch.bands) if sketch else None
    row.sketch_terms = " ".join(sorted(top_terms(article.terms, STORED_TERMS)))


@dataclass(frozen=True, slots=True)
class StoredArticle:
    """What ``store_article`` kept of an article."""

    minhash: Sketch | None
    meaning: tuple[float, ...] | None
    targets: list[str] | None


def stored_article(row: ArticleRow | None) -> StoredArticle:
    kept = (row.sketch if row else None) or {}
    try:
        return StoredArticle(
            sketch_from_json(kept.get("minhash")),
            unpack_vector(kept.get("meaning")),
            kept.get("targets"),
        )
    except CORRUPT as exc:  # read as if never sketched: a rebuild still has its text
        where = row.id if row is not None else None
        log.warning("article %s: stored sketch unreadable (%s); read without it", where, exc)
        return StoredArticle(None, None, None)


@dataclass(frozen=True, slots=True)
class NearCopy:
    """A stored article an article nearly copies, in a story open at the article's time."""

    key: str
    profile: StoryProfile  # of its story
    similarity: float  # the two sketches' estimated Jaccard
    meaning: tuple[float, ...] | None  # its stored embedding


def in_article_order(members: bytes) -> bytes:
    """``pack_members`` entries sorted by article id, as ``pack_members`` of a story's
    articles read from the database gives them (two merged stories' entries interleave)."""
    rows = np.frombuffer(members, dtype="<u8").reshape(-1, MEMBER.size // 8)
    return rows[np.argsort(rows[:, 0], kind="stable")].tobytes()


def store_entry(story: Story, profile: StoryProfile, members: bytes) -> None:
    """Write what the index loads of ``story`` at a start: its keys (as ``profile`` files
    it) and ``members`` (``pack_members`` of all its articles)."""
    keys = profile.index_keys
    story.index_keys = keys
    story.index_hashes = pack_keys(keys)
    story.index_members = members


def store_rebuilt(story: Story, profile: StoryProfile, rows: Iterable[ArticleRow]) -> None:
    """``store_entry`` of a story rebuilt from the articles it holds (``rows``, in article
    order), their band keys read as ``store_article`` wrote them."""
    store_entry(story, profile, pack_members((r.id, r.sketch_bands) for r in rows))


def clear_members(story: Story) -> None:
    """``story`` holds no article any more (merged into another)."""
    story.index_members = b""


class _Filed:
    """The posting lists of the stories filed at a start, as sorted arrays (key hash, story
    id), read into a posting list only when its key is first used: filing 40,000 stories
    under ~25 keys each one by one took seconds. Within a key, story ids ascend: the order
    in which filing them oldest first would have left them."""

    def __init__(self, hashes: np.ndarray, stories: np.ndarray) -> None:
        order = np.argsort(hashes, kind="stable")  # stable: story ids stay ascending
        self.hashes, self.stories = hashes[order], stories[order]
        self.read: set[str] = set()

    def take(self, key: str) -> list[int] | None:
        """The newest ``POSTINGS_PER_KEY`` stories filed under ``key``, once (None after)."""
        if key in self.read:
            return None
        h = np.uint64(key_hash(key))
        lo = int(np.searchsorted(self.hashes, h, side="left"))
        hi = int(np.searchsorted(self.hashes, h, side="right"))
        if hi == lo:  # never filed here: nothing to remember
            return None
        self.read.add(key)
        return self.stories[max(lo, hi - POSTINGS_PER_KEY) : hi].tolist()


@dataclass(frozen=True, slots=True)
class Candidate:
    """A story an article may join, and the two term vectors a scorer compares."""

    profile: StoryProfile
    vectors: tuple[Weighed, Weighed]  # (the article's, the story's), weighed alike


class StoryIndex:
    def __init__(self, settings: DedupSettings, *, repair: Repair | None = None) -> None:
        """``repair``: rebuilds a story whose stored entry cannot be read (without it, such
        a story is left out of the index, with an error logged)."""
        self.settings = settings
        self.repair = repair
        self.df = DocumentFrequencies()
        self.lsh = LshIndex()
        self.profiles: dict[int, StoryProfile] = {}  # stories read in full
        # Stories filed under their keys but not read yet: a story's features are decoded
        # only once it is a candidate, so a start reads ~40 bytes of most stories, not ~6 KB.
        self.spans: dict[int, db.StorySpan] = {}
        self.members: dict[int, list[int]] = {}  # story id -> article ids known here
        self.postings: dict[str, deque[int]] = {}
        self._filed = _Filed(np.empty(0, np.uint64), np.empty(0, np.int64))  # see ``_posting``
        # Articles of the stories filed at a start, by story (sorted), for ``drop``.
        self._loaded_story = np.empty(0, dtype=np.int64)
        self._loaded_article = np.empty(0, dtype=np.int64)
        self.known: set[int] = set()  # article ids already counted in ``df``
        # Stored articles from this id on count in ``df`` when another process adds them.
        self.learn_from = 0
        self.revision = -1  # -1: not loaded
        # Every stored story last seen at or after this is in ``profiles`` or ``spans``
        # (None: not loaded).
        self.loaded_from: datetime | None = None
        self._since_sweep = 0

    def invalidate(self) -> None:
        """Forget everything; the next ``sync`` reloads from the database."""
        self.__init__(self.settings, repair=self.repair)  # type: ignore[misc]

    def sync(self, *, session: Session, now: datetime, at: datetime | None = None) -> None:
        """Catch up with the database, with every story active around ``at`` (an article's
        own time; default ``now``) loaded."""
        horizon = min(now, at or now) - self.settings.window
        self._since_sweep += 1
        if self._since_sweep >= SWEEP_EVERY:  # before loading, so nothing needed is evicted
            self.sweep(now)
        if self.revision < 0:
            self._load(session, horizon)
        else:
            self._refresh(session)
            self._extend(session, horizon)

    def _load(self, session: Session, horizon: datetime) -> None:
        """Document frequencies of the latest ``df_memory`` articles; every open story filed
        under its keys and its articles' band keys, from what the index wrote of each story
        (``store_entry``): two queries, no features decoded, nothing filed one by one."""
        self.revision = db.latest_revision(session=session)
        recent = db.recent_terms(session=session, limit=self.settings.df_memory)
        self.known.update(article_id for article_id, _ in recent)
        self.df.learn_stored([terms for _, terms in recent])
        self.learn_from = recent[-1][0] if len(recent) >= self.settings.df_memory else 0
        self.loaded_from = horizon
        self._load_entries(session, db.index_entries(session=session, since=horizon))

    def _extend(self, session: Session, horizon: datetime) -> None:
        """Load the older stories an article from before ``loaded_from`` must meet."""
        if self.loaded_from is None or horizon >= self.loaded_from:
            return
        before, self.loaded_from = self.loaded_from, horizon
        older = db.story_spans(session=session, since=horizon, before=before)
        self._reload(session, [s for s in older if not self.has(s.id)])

    def _refresh(self, session: Session) -> None:
        changed = db.spans_changed_since(session=session, revision=self.revision)
        if not changed:
            return
        self.revision = max(self.revision, *(s.revision for s in changed))
        start = self.loaded_from
        live = [s for s in changed if start is None or s.last_seen >= start]
        for story in changed:
            self.drop(story.id)
        self._reload(session, live)

    def _reload(self, session: Session, spans: list[db.StorySpan]) -> None:
        self._file(session, spans)
        members = db.members_of_stories(session=session, story_ids=[s.id for s in spans])
        self._add_members(members)
        for row in members:  # another process's articles count as if seen here
            if row.terms and row.article_id >= self.learn_from:
                self.learn(row.article_id, row.terms.split())

    def _file(self, session: Session, spans: list[db.StorySpan]) -> None:
        for span in spans:
            self.members[span.id] = []
            if span.index_keys is None:  # written without its keys: read it whole
                self._read(session, [span.id])
                if span.id in self.profiles:
                    self._post(span.id, self.profiles[span.id].index_keys)
            else:
                self.spans[span.id] = span
                self._post(span.id, span.index_keys)

    def _load_entries(self, session: Session, entries: list[db.StoryEntry]) -> None:
        """File every open story and its articles' band keys from the packed columns: a
        few array operations, whatever the number of stories. Stories written without
        them (by an older version) are completed from ``index_keys`` and their articles."""
        keyless = [e.id for e in entries if e.hashes is None]
        stored_keys = db.index_keys_of(session=session, story_ids=keyless) if keyless else {}
        alone = [e.id for e in entries if e.members is None]
        members = self._stored_members(session, alone) if alone else {}
        filed, hashes, key_counts, packed, member_counts = [], [], [], [], []
        for entry in entries:
            if hashes_problem(entry.hashes) or members_problem(entry.members):
                repaired = self._repaired_entry(session, entry)
                if repaired is None:
                    continue
                entry = repaired
            keyed = entry.hashes
            if keyed is None:
                keys = stored_keys.get(entry.id)
                if keys is None:  # written without its keys: read it whole
                    self._read(session, [entry.id])
                    profile = self.profiles.get(entry.id)
                    if profile is None:
                        continue
                    keys = profile.index_keys
                keyed = pack_keys(keys)
            if entry.id not in self.profiles:
                self.spans[entry.id] = db.StorySpan(
                    entry.id, entry.first_seen, entry.last_seen, entry.revision, None
                )
            self.members[entry.id] = []
            filed.append(entry.id)
            hashes.append(keyed)
            key_counts.append(len(keyed) // 8)
            own = entry.members if entry.members is not None else members.get(entry.id, b"")
            packed.append(own)
            member_counts.append(len(own) // MEMBER.size)
        ids = np.array(filed, dtype=np.int64)
        self._filed = _Filed(
            np.frombuffer(b"".join(hashes), dtype="<u8").astype(np.uint64),
            np.repeat(ids, key_counts),
        )
        rows = np.frombuffer(b"".join(packed), dtype="<u8").reshape(-1, 1 + BANDS)
        self._loaded_story = np.repeat(ids, member_counts)  # ids ascend: sorted
        self._loaded_article = rows[:, 0].astype(np.int64)
        self.lsh.load_arrays(self._loaded_article, rows[:, 1:].astype(np.uint64).reshape(-1))

    def _repaired_entry(self, session: Session, entry: db.StoryEntry) -> db.StoryEntry | None:
        """``entry`` as it reads once its story was rebuilt (None: left out)."""
        problem = hashes_problem(entry.hashes) or members_problem(entry.members)
        story = self._repair_story(session, entry.id, str(problem))
        if (
            story is None
            or hashes_problem(story.index_hashes)
            or members_problem(story.index_members)
        ):
            log.error("story %d: index entry still unreadable; left out of the index", entry.id)
            return None
        return db.StoryEntry(
            entry.id, story.first_seen, story.last_seen, story.revision,
            story.index_hashes, story.index_members,
        )  # fmt: skip

    def _repair_story(self, session: Session, story_id: int, problem: str) -> Story | None:
        """Rebuild story ``story_id`` from its articles (``repair``) after ``problem`` was
        met reading it, and give it the next revision (other replicas reload it)."""
        story = session.get(Story, story_id)
        if story is None or self.repair is None:
            log.error("story %d: %s; cannot rebuild it here, left out", story_id, problem)
            return None
        log.warning("story %d: %s; rebuilding it from its articles", story_id, problem)
        self.repair(session, story)
        latest = self.revision if self.revision >= 0 else None
        story.revision = db.bump_revision(session=session, stories=[story], latest=latest)
        self.revision = max(self.revision, story.revision)
        return story

    def _members_of(self, session: Session, story: Story, *, without: int | None = None) -> bytes:
        """``story``'s stored members; read from its articles when written by a version
        without them or when they cannot be read (then a warning names the story)."""
        members = story.index_members
        problem = members_problem(members)
        if problem:
            log.warning("story %d: %s; read from its articles", story.id, problem)
        if members is None or problem:
            return self._stored_members(session, [story.id], without=without).get(story.id, b"")
        return members

    @staticmethod
    def _stored_members(
        session: Session, story_ids: list[int], *, without: int | None = None
    ) -> dict[int, bytes]:
        """``pack_members`` of the stories' articles as stored (but ``without``), by story,
        each in article order as a rebuild packs them (``members_of_stories``' order)."""
        found: dict[int, list[tuple[int, bytes | None]]] = {}
        for row in db.members_of_stories(session=session, story_ids=story_ids):
            if row.story_id is not None and row.article_id != without:
                found.setdefault(row.story_id, []).append((row.article_id, row.bands))
        return {story: pack_members(rows) for story, rows in found.items()}

    def _add_members(self, members: list[db.StoredMember]) -> None:
        for row in members:
            if row.story_id is not None:
                self.members.setdefault(row.story_id, []).append(row.article_id)
        self.lsh.load((row.article_id, row.bands) for row in members if row.bands)

    def has(self, story_id: int) -> bool:
        return story_id in self.profiles or story_id in self.spans

    def _span(self, story_id: int) -> StoryProfile | db.StorySpan | None:
        return self.profiles.get(story_id) or self.spans.get(story_id)

    def profile_for(self, session: Session, story: Story) -> StoryProfile | None:
        """The index's profile of ``story``, or one read from its row when not held here
        (None: its row cannot be read, even rebuilt)."""
        return self.profiles.get(story.id) or self._decoded(session, story)

    def _decoded(self, session: Session, story: Story) -> StoryProfile | None:
        """``profile_of(story)``; a row whose features cannot be read is rebuilt first."""
        try:
            return self.profile_of(story)
        except CORRUPT as exc:
            problem = f"stored features unreadable ({type(exc).__name__}: {exc})"
        if self._repair_story(session, story.id, problem) is None:
            return None
        try:
            return self.profile_of(story)
        except CORRUPT:
            log.error("story %d: features still unreadable; left out of the index", story.id)
            return None

    @staticmethod
    def profile_of(story: Story) -> StoryProfile:
        profile = StoryProfile.from_features(
            story.id,
            story.first_seen,
            story.last_seen,
            dict(story.features or {}),
            incident_types=list(story.incident_types or []),
            revision=story.revision,
        )
        profile.merged_into = story.merged_into_id
        return profile

    def learn(self, article_id: int, terms: Iterable[str]) -> None:
        if article_id not in self.known:
            self.known.add(article_id)
            self.df.learn(terms)

    def weighed_article(self, article: ArticleFeatures) -> Weighed:
        weigh = self.df.weigh
        return Weighed(Weighted.of(article.terms, weigh), Weighted.of(article.title_terms, weigh))

    def weighed_story(self, profile: StoryProfile) -> Weighed:
        documents = self.df.documents
        cached = profile.weighed
        if cached is not None and documents - cached[0] <= REWEIGH_GROWTH * (
            cached[0] + PRIOR_DOCUMENTS
        ):
            return cached[1]
        weigh = self.df.weigh_stable
        vectors = Weighed(Weighted.of(profile.centroid, weigh), Weighted.of(profile.titles, weigh))
        profile.weighed = (documents, vectors)
        return vectors

    def put(self, profile: StoryProfile) -> None:
        self.profiles[profile.id] = profile
        self.spans.pop(profile.id, None)
        self._post(profile.id, profile.index_keys)

    def _posting(self, key: str) -> deque[int] | None:
        """The stories filed under ``key``, most recent last; the ones filed at a start are
        read into it when the key is first used, in the order filing them would have left."""
        # A key is read from the start's arrays the first time it is used, before anything
        # else is filed under it; after that ``postings`` alone holds it.
        filed = self._filed.take(key) if len(self._filed.hashes) else None
        if filed:
            self.postings[key] = deque(filed, maxlen=POSTINGS_PER_KEY)
        return self.postings.get(key)

    def _post(self, story_id: int, keys: Iterable[str] | None) -> None:
        """File the story under ``keys``, as the most recent story of each."""
        for key in keys or ():
            posting = self._posting(key)
            if posting is None:
                posting = self.postings[key] = deque(maxlen=POSTINGS_PER_KEY)
            elif story_id in posting:
                posting.remove(story_id)
            posting.append(story_id)

    def join(
        self,
        *,
        session: Session,
        story: Story,
        row: ArticleRow,
        article: ArticleFeatures,
        sketch: Sketch | None,
    ) -> StoryProfile:
        """The stored article ``row`` (its features, its near-copy sketch) joins ``story``:
        the story's profile takes it in, the story gets the next revision (read by the other
        replicas), what the next start loads of both is written (``store_article``,
        ``store_entry``), and what this process wrote needs no reload. Returns the profile,
        for what the story row says (``aggregate``)."""
        article_id = row.id
        store_article(row, article, sketch)
        profile = self.profile_for(session, story)
        if profile is None:
            raise DedupError(f"story {story.id}: stored features unreadable, even rebuilt")
        profile.add(article)
        # Synced under the assignment lock: ``revision`` is the latest.
        profile.revision = db.bump_revision(session=session, stories=[story], latest=self.revision)
        members = self._members_of(session, story, without=article_id)
        if sketch is not None:
            members += pack_members([(article_id, pack_bands(sketch.bands))])
        store_entry(story, profile, members)
        self.revision = max(self.revision, profile.revision)
        self.put(profile)
        if sketch is not None:
            self.lsh.add(article_id, sketch)
        self.members.setdefault(profile.id, []).append(article_id)
        return profile

    def merge(
        self,
        *,
        session: Session,
        keep: Story,
        gone: Story,
        kept: StoryProfile,
        merged: StoryProfile,
    ) -> None:
        """Story ``gone`` (profile ``merged``) was merged into ``keep`` (profile ``kept``;
        ``merging.merge``, after moving its articles): ``kept`` takes ``merged`` in, both
        stories get the next revision, what a start loads of them is written (``gone``
        holds no article any more), and they are held as a restart would load them:
        ``gone`` redirecting to ``keep``, its articles (and their near-copy keys) ``keep``'s."""
        kept.absorb(merged)
        members, more = keep.index_members, gone.index_members
        problem = members_problem(members) or members_problem(more)
        if problem:  # read from the articles, which are all keep's now
            log.warning("stories %d, %d: %s; read from their articles", keep.id, gone.id, problem)
            members = None
        elif members is not None and more is not None:
            members = in_article_order(members + more)
        if members is None:  # a story written by a version without them: read them
            members = self._stored_members(session, [keep.id]).get(keep.id, b"")
        store_entry(keep, kept, members)
        clear_members(gone)  # its articles are the kept story's now
        revision = db.bump_revision(session=session, stories=[keep, gone], latest=self.revision)
        kept.revision = merged.revision = revision
        merged.merged_into = keep.id
        self.revision = max(self.revision, revision)
        self.put(kept)
        if merged.id in self.profiles:
            self.profiles[merged.id] = merged
        self.members.setdefault(kept.id, []).extend(self.members.pop(merged.id, ()))

    def near_copies(self, sketch: Sketch) -> list[int]:
        """Stored articles whose sketch may be a near-copy of ``sketch``, likeliest first."""
        return self.lsh.candidates(sketch)

    def copies_of(
        self, sketch: Sketch | None, *, session: Session, seen: datetime
    ) -> Iterator[NearCopy]:
        """Stored articles ``sketch`` nearly copies (estimated Jaccard at least
        ``near_copy_threshold``), likeliest first, read one by one as they are asked for,
        whose story is open at ``seen``: a copy joins its original's story only inside the
        window (the LSH forgets closed stories lazily), and never a story that began more
        than a window after it."""
        if sketch is None:
            return
        opens = seen - self.settings.window
        for candidate in self.near_copies(sketch)[:NEAR_COPY_CANDIDATES]:
            stored = stored_article(session.get(ArticleRow, candidate))
            if stored.minhash is None:
                continue
            similarity = sketch.jaccard(stored.minhash)
            if similarity < self.settings.near_copy_threshold:
                continue
            placement = db.article_placement(session=session, article_id=candidate)
            if not placement or placement[1] is None:
                continue
            key, story_id = placement
            story = session.get(Story, story_id)
            if story is None or not opens <= story.last_seen:
                continue
            if story.first_seen > seen + self.settings.window:
                continue
            profile = self.profile_for(session, story)
            if profile is not None:
                yield NearCopy(key, profile, similarity, stored.meaning)

    def drop(self, story_id: int) -> None:
        self.profiles.pop(story_id, None)
        self.spans.pop(story_id, None)
        self.lsh.remove(self.members.pop(story_id, ()))
        lo, hi = np.searchsorted(self._loaded_story, [story_id, story_id + 1])
        if hi > lo:  # its articles loaded at the start (removing twice is harmless)
            self.lsh.remove(self._loaded_article[lo:hi].tolist())

    def candidates(
        self,
        article: ArticleFeatures,
        *,
        session: Session,
        now: datetime,
        admit: Callable[[StoryProfile], bool] | None = None,
    ) -> list[Candidate]:
        """Recent stories sharing the article's most distinctive terms or its entities, each
        with both sides' vectors weighed as the stream weighs them now (what a scorer
        compares). ``admit``: a story it refuses (one the article can never join) takes no
        place among the ``max_candidates``: many same-kind twins must not crowd out its story."""
        mine = self.weighed_article(article)
        found = self._stories_for(article, mine, session=session, now=now, admit=admit)
        return [Candidate(profile, (mine, self.weighed_story(profile))) for profile in found]

    def _stories_for(
        self,
        article: ArticleFeatures,
        mine: Weighed,
        *,
        session: Session,
        now: datetime,
        admit: Callable[[StoryProfile], bool] | None,
    ) -> list[StoryProfile]:
        weighted = mine.text.vector
        best = sorted(weighted, key=lambda t: (-weighted[t], t))[:QUERY_TERMS]
        keys = [(f"t:{t}", self.df.idf(t)) for t in best]
        keys += [(f"e:{e}", 2.0) for e in sorted(article.entities)]
        hits: dict[int, float] = {}
        for key, weight in keys:
            # Newest first, at most SCAN_PER_KEY: a term every story uses says little anyway.
            for story_id in islice(reversed(self._posting(key) or ()), SCAN_PER_KEY):
                hits[story_id] = hits.get(story_id, 0.0) + weight
        # The window is measured from the article's own time: a late report of an older
        # event is compared with the stories of its day, not with today's or later ones.
        start = min(now, article.seen) - self.settings.window
        end = article.seen + self.settings.window
        in_window = []
        for story_id in sorted(hits, key=lambda s: (-hits[s], -s)):
            span = self._span(story_id)
            if span is not None and span.last_seen >= start and span.first_seen <= end:
                in_window.append(story_id)
        found: list[StoryProfile] = []
        limit = self.settings.max_candidates
        # Read in slices of `limit`: features of stories filed at start-up are read only
        # when they are candidates, and a refused one makes room for the next.
        for first in range(0, len(in_window), limit):
            chunk = in_window[first : first + limit]
            self._read(session, [s for s in chunk if s not in self.profiles])
            for story_id in chunk:
                profile = self.profiles.get(story_id)
                if profile is not None and (admit is None or admit(profile)):
                    found.append(profile)
                    if len(found) >= limit:
                        return found
        return found

    def _read(self, session: Session, story_ids: list[int]) -> None:
        """Read the features of stories filed at start-up, now that they are candidates."""
        if not story_ids:
            return
        for story in db.stories_by_id(session=session, story_ids=story_ids):
            profile = self._decoded(session, story)
            if profile is not None:
                self.profiles[story.id] = profile
                self.spans.pop(story.id, None)
        for story_id in story_ids:
            if story_id not in self.profiles:  # deleted since: nothing joins it any more
                self.drop(story_id)

    def sweep(self, now: datetime) -> None:
        """Evict stories that left the window, and posting lists that point nowhere."""
        self._since_sweep = 0
        start = now - self.settings.window
        if self.loaded_from is not None:
            self.loaded_from = max(self.loaded_from, start)
        gone = [s.id for s in self.profiles.values() if s.last_seen < start]
        gone += [s.id for s in self.spans.values() if s.last_seen < start]
        for story_id in gone:
            self.drop(story_id)
        for key in [k for k, p in self.postings.items() if not any(self.has(s) for s in p)]:
            del self.postings[key]
