"""Story list and full-text search latency of /api/v1/stories with 100k stories, on SQLite
and PostgreSQL (target: p95 < 200 ms).

Synthetic stories (one article each, 80 words drawn Zipf-like from a 20k-word vocabulary)
spread over 90 days; each query is asked 40 times through the ASGI app (JSON included).
Each story has an incident type, two entities, a place and an outlet drawn Zipf-like, and
one in ten a rule of the shipped iraq-syria watchlist; a rare value of each kind is on 20
stories. PostgreSQL is the server at 127.0.0.1:5432 ($MONITOR_TEST_PG), in a throwaway
schema.
"""

from __future__ import annotations

import itertools
import os
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import Engine

from bench._report import sized, update_section
from monitor.classify.watchlist import load_watchlists
from monitor.storage.db import make_engine, session_factory, upgrade
from monitor.storage.facets import refresh_facets
from monitor.storage.models import ArticleRow, Story
from monitor.web.app import create_app
from monitor.web.deps import Console
from monitor.web.settings import WebSettings

STORIES = sized(100_000, 2_000)
RUNS = sized(40, 3)
CHUNK = min(5000, STORIES)
RARE = STORIES // 20  # one story in RARE has the rare word: 20 hits
T0 = datetime(2026, 1, 1, tzinfo=UTC)
COMMAND = "python -m bench.console_latency"
PG = os.environ.get("MONITOR_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
RARE_QUERIES = {
    f"/api/v1/stories?{q}": min(STORIES // RARE, 50)
    for q in ("incident_type=rare-type", "entity=rare-entity", "place=rare-place",
              "source=Rare+Outlet", "q=kitaeb")
}  # fmt: skip
WATCHLIST = Path(__file__).resolve().parents[1] / "config" / "watchlists" / "iraq-syria.yaml"
WATCHED_RULES = (
    "attack-on-coalition-in-iraq-syria",
    "iran-aligned-militia-activity",
    "attack-on-us-embassy",
)


# Built once: per story they cost more than the rest of the fill (same draws either way).
_VOCABULARY = [f"w{n}" for n in range(20_000)]
_CUM_WEIGHTS = list(itertools.accumulate(1 / (n + 1) for n in range(20_000)))


def _words(rng: random.Random) -> list[str]:
    return rng.choices(_VOCABULARY, cum_weights=_CUM_WEIGHTS, k=80)


def _zipf(rng: random.Random, prefix: str, n: int) -> str:
    """One of ``n`` values, the k-th about k times rarer than the first."""
    return f"{prefix}{int(n ** rng.random()) - 1}"


def _about(i: int, rng: random.Random) -> dict[str, object]:
    """Story ``i``'s facet-bearing parts; a rare value of each kind on 1 story in RARE."""
    types = [_zipf(rng, "type-", 20)] + (["rare-type"] if i % RARE == 1 else [])
    names = {_zipf(rng, "entity-", 2000) for _ in range(2)} | (
        {"rare-entity"} if i % RARE == 2 else set()
    )
    place = "rare-place" if i % RARE == 3 else _zipf(rng, "place-", 500)
    source = "Rare Outlet" if i % RARE == 4 else _zipf(rng, "Outlet ", 200)
    rule = rng.choice(WATCHED_RULES) if i % 10 == 0 else _zipf(rng, "other-rule-", 50)
    return {
        "incident_types": types,
        "entities": [{"id": e, "kind": "group", "name": e} for e in sorted(names)],
        "event": {"place": {"id": place, "name": place, "ancestors": []}, "actors": []},
        "source": source,
        "classification": {"rules": [{"rule_id": rule, "severity": "high", "routes": []}]},
    }


def fill(engine: Engine) -> None:
    rng, facet_rng = random.Random(16), random.Random(17)
    sessions = session_factory(engine)
    for start in range(0, STORIES, CHUNK):
        ids = range(start + 1, start + CHUNK + 1)
        seen = [T0 + timedelta(seconds=rng.randrange(90 * 86400)) for _ in ids]
        about = [_about(i, facet_rng) for i in ids]
        with sessions.begin() as s:
            s.execute(insert(Story), [
                {"id": i, "headline": f"Story {i}", "first_seen": at, "last_seen": at,
                 "severity": rng.choice(["low", "medium", "high", "critical", None]),
                 "incident_types": a["incident_types"], "entities": a["entities"],
                 "event": a["event"], "features": {}, "source_count": 1}
                for i, at, a in zip(ids, seen, about, strict=True)
            ])  # fmt: skip
            s.execute(insert(ArticleRow), [
                {"id": i, "key": f"k{i}", "title": f"Story {i}", "processed_at": at,
                 "text": " ".join(_words(rng)) + (" kitaeb" if i % RARE == 0 else ""),
                 "story_id": i, "source": a["source"], "classification": a["classification"]}
                for i, at, a in zip(ids, seen, about, strict=True)
            ])  # fmt: skip
            refresh_facets(session=s, story_ids=ids)  # as dedup does when an article joins


def p95(call: Callable[[], object]) -> tuple[float, float]:
    call()  # warm the caches once
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), statistics.quantiles(times, n=20)[18]


def measure(engine: Engine) -> dict[str, tuple[float, float]]:
    watchlist = load_watchlists([WATCHLIST])
    console = Console(
        WebSettings(), session_factory(engine), clock=lambda: T0, watchlist=lambda: watchlist
    )
    app = create_app(console)
    web = TestClient(app, base_url="http://127.0.0.1")

    def get(path: str) -> dict[str, object]:
        response = web.get(path)
        assert response.status_code == 200, response.text
        body: dict[str, object] = response.json()
        return body

    for path, hits in RARE_QUERIES.items():  # a fast answer must also be the right one
        assert len(get(path)["stories"]) == hits, path  # type: ignore[arg-type]
    cursor = ""
    for _ in range(20):  # page 21 of 50 stories
        cursor = str(
            get(f"/api/v1/stories?after={cursor}" if cursor else "/api/v1/stories")["next"]
        )
    return {
        "list, first page": p95(lambda: get("/api/v1/stories")),
        "list, page 21 (keyset)": p95(lambda: get(f"/api/v1/stories?after={cursor}")),
        "list, severity=high": p95(lambda: get("/api/v1/stories?severity=high")),
        "list, most severe first": p95(lambda: get("/api/v1/stories?order=severity")),
        "list, one watchlist (1 story in 10)": p95(
            lambda: get("/api/v1/stories?watchlist=iraq-syria")
        ),
        "list, common incident type (~23%)": p95(
            lambda: get("/api/v1/stories?incident_type=type-0")
        ),
        "list, rare incident type (20 stories)": p95(
            lambda: get("/api/v1/stories?incident_type=rare-type")
        ),
        "list, rare entity (20 stories)": p95(lambda: get("/api/v1/stories?entity=rare-entity")),
        "list, rare place (20 stories)": p95(lambda: get("/api/v1/stories?place=rare-place")),
        "list, rare source (20 stories)": p95(lambda: get("/api/v1/stories?source=Rare+Outlet")),
        "search, rare word (20 hits)": p95(lambda: get("/api/v1/stories?q=kitaeb")),
        "search, common word": p95(lambda: get("/api/v1/stories?q=w3")),
        "search, two words": p95(lambda: get("/api/v1/stories?q=w3+w17")),
    }


def run_sqlite() -> dict[str, tuple[float, float]]:
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'bench.db'}")
        upgrade(engine)
        fill(engine)
        try:
            return measure(engine)
        finally:
            engine.dispose()


def run_postgres() -> dict[str, tuple[float, float]]:
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = make_engine(f"{PG}{'&' if '?' in PG else '?'}options=-csearch_path%3D{schema}")
    try:
        upgrade(engine)
        fill(engine)
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
        return measure(engine)
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def main() -> None:
    results = {"SQLite": run_sqlite(), "PostgreSQL": run_postgres()}
    rows = [
        f"| {query} | {db} | {median:.1f} | {worst:.1f} |"
        for db, found in results.items()
        for query, (median, worst) in found.items()
    ]
    md = "\n".join([
        "## Console: story list and search latency (console-latency)",
        "",
        f"{STORIES:,} synthetic stories, one article each (80 words, Zipf-like over 20k "
        "words), over 90 days; each with an incident type (of 20), two entities (of 2,000), "
        "a place (of 500) and an outlet (of 200), Zipf-like, one in ten a rule of the shipped "
        "iraq-syria watchlist, and a rare value of each kind on 1 story in "
        f"{RARE:,}; `/api/v1/stories` through the ASGI app (JSON included), 50 "
        f"stories a page, each query {RUNS} times after one warm-up. Target: p95 < 200 ms.",
        "",
        "| query | database | median ms | p95 ms |",
        "|---|---|---|---|",
        *rows,
        "",
        f"Load average when the run ended: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs.",
    ])  # fmt: skip
    update_section("console-latency", md, command=COMMAND)


if __name__ == "__main__":
    main()
