"""Time per article with 10,000 vs 200,000 articles stored, all inside the candidate window.

The archive is synthetic (random words drawn per story, stored with sketches and story
features as the clusterer writes them), bulk-inserted so the setup stays quick; then the
same 400 new articles are assigned after a fresh start on each archive.

A deliberate worst case, denser than real feeds: 200,000 articles inside one 3-day window
is ~67,000 a day (a large aggregator), every stored story is a live candidate, and the
uniform random vocabulary fills every posting list, so each probe always finds the full
``max_candidates`` to score.
"""

from __future__ import annotations

import random
import tempfile
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert

from bench._report import sized, update_section
from monitor.dedup.clusterer import StoryClusterer
from monitor.dedup.meaning import Encoder, load_encoder
from monitor.dedup.profile import ArticleFeatures, StoryProfile
from monitor.dedup.settings import DedupSettings
from monitor.dedup.text import term_frequencies, top_terms
from monitor.dedup.vectors import pack_vector
from monitor.storage.db import make_engine, session_factory, transaction, upgrade
from monitor.storage.models import ArticleRow, Story
from monitor.types import Article, Classification

COMMAND = ".venv/bin/python -m bench.dedup_scale"
NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
PER_STORY = 5
PROBES = sized(400, 21)
VOCAB = [f"w{i}x" for i in range(60000)]
DIMENSIONS = 384
SMALL, BIG = sized(10_000, 100), sized(200_000, 200)  # stored articles


def story_words(rng: random.Random) -> list[str]:
    return rng.sample(VOCAB, 25)


def article_text(rng: random.Random, words: list[str]) -> tuple[str, str]:
    body = [rng.choice(words) if rng.random() < 0.5 else rng.choice(VOCAB) for _ in range(90)]
    return " ".join(rng.sample(words, 8)), " ".join(body)


def unit_vector(rng: random.Random) -> tuple[float, ...]:
    """A random sentence embedding: stored stories need one for the semantic check."""
    v = [rng.gauss(0.0, 1.0) for _ in range(DIMENSIONS)]
    norm = sum(x * x for x in v) ** 0.5
    return tuple(x / norm for x in v)


def fill(engine_url: str, articles: int, rng: random.Random) -> None:
    """Store ``articles`` articles in stories of ``PER_STORY``, all within the last 2 days."""
    engine = make_engine(engine_url)
    upgrade(engine)
    stories, rows = [], []
    for sid in range(1, articles // PER_STORY + 1):
        words, seen = story_words(rng), NOW - timedelta(seconds=rng.randint(0, 2 * 86400))
        profile = StoryProfile(sid, seen, seen)
        for _ in range(PER_STORY):
            title, body = article_text(rng, words)
            terms = term_frequencies(title, body)
            meaning = unit_vector(rng)
            profile.add(
                ArticleFeatures(
                    terms, term_frequencies("", title), frozenset(), frozenset(), seen, meaning
                )
            )
            sketch = {
                "minhash": [rng.getrandbits(32) for _ in range(64)],
                "terms": sorted(top_terms(terms, 300)),
                "meaning": pack_vector(meaning),
            }
            rows.append(
                {
                    "id": len(rows) + 1,
                    "key": f"a{len(rows) + 1}",
                    "title": title,
                    "text": body,
                    "processed_at": seen,
                    "published_at": seen,
                    "story_id": sid,
                    "sketch": sketch,
                }
            )
        stories.append(
            {
                "id": sid,
                "headline": title,
                "first_seen": seen,
                "last_seen": seen,
                "features": profile.to_features(),
                "revision": sid,
                "source_count": 5,
            }
        )
    with engine.begin() as conn:
        for start in range(0, len(stories), 5000):
            conn.execute(insert(Story), stories[start : start + 5000])
        for start in range(0, len(rows), 5000):
            conn.execute(insert(ArticleRow), rows[start : start + 5000])
    engine.dispose()


def measure(articles: int, encoder: Encoder | None) -> tuple[float, float]:
    """(seconds to load the index, mean seconds per new article)."""
    rng = random.Random(articles)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/scale.db"
        fill(url, articles, rng)
        engine = make_engine(url)
        sessions, clusterer = (
            session_factory(engine),
            StoryClusterer(DedupSettings(), encoder=encoder),
        )
        probe_rng = random.Random(7)  # the same probes for every archive size
        probes = [article_text(probe_rng, story_words(probe_rng)) for _ in range(PROBES)]
        timings, load = [], 0.0
        for i, (title, body) in enumerate(probes):
            a = Article(key=f"probe{i}", url=None, title=title, text=body, published=NOW)
            start = time.perf_counter()
            with transaction(sessions) as s:
                row = ArticleRow(
                    key=a.key,
                    title=title,
                    text=body,
                    processed_at=NOW,
                    published_at=NOW,
                    text_hash=a.content_hash,
                )
                s.add(row)
                s.flush()
                clusterer.assign(
                    session=s,
                    article=a,
                    article_id=row.id,
                    classification=Classification(),
                    now=NOW,
                )
            elapsed = time.perf_counter() - start
            if i == 0:
                load = elapsed  # the first call builds the index from the database
            else:
                timings.append(elapsed)
        engine.dispose()
    timings.sort()
    return load, sum(timings[: int(len(timings) * 0.95)]) / int(len(timings) * 0.95)


def main() -> None:
    encoder = load_encoder()
    rows, ratios = [], []
    for label, enc in (("words only", None), ("with semantic check", encoder)):
        (small_load, small), (big_load, big) = measure(SMALL, enc), measure(BIG, enc)
        ratios.append(f"{label} {big / small:.2f}")
        rows.append(f"| {label} | {SMALL:,} | {small_load:.2f} s | {small * 1000:.2f} ms |")
        rows.append(f"| {label} | {BIG:,} | {big_load:.2f} s | {big * 1000:.2f} ms |")
    md = (
        "## dedup-scale: time per article vs archive size (all inside the 3-day window)\n\n"
        f"SQLite, {PROBES - 1} new articles assigned after a fresh start; mean of the fastest "
        "95 % (the rest are sweeps and disk hiccups). Stored stories carry random "
        "embeddings; with the semantic check each new article is embedded by the real "
        "model (most of its time, and the same at any archive size).\n\n"
        "| scoring | stored articles | index load (first article) | time per article |\n"
        "|---|---|---|---|\n" + "\n".join(rows) + "\n\n"
        f"**Ratio 200k / 10k: {'; '.join(ratios)}** (target < 1.5)."
    )
    update_section("dedup-scale", md, command=COMMAND)


if __name__ == "__main__":
    main()
