"""Shared by the dedup benchmarks: data conversion, running `monitor replay`, scoring."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from bench._report import SHARED, TINY, sample

DATA = SHARED / "data" / "story-dedup"
SEMEVAL = DATA / "semeval2022-task8-train-en-pairs.jsonl"
UCI = DATA / "uci-news-aggregator-2014-03-10.jsonl"
ECBPLUS = DATA / "ecbplus-topics-01-22.jsonl"
SHIPPED_CONFIG = Path(__file__).resolve().parents[1] / "config" / "monitor.yaml"
_SENTENCE = re.compile(r"(.+?[.!?])(?=\s|$)")


def split_title(text: str) -> tuple[str, str]:
    """Title and text of one SemEval article, exactly as the data README says."""
    if "\n" in text.strip():
        first, rest = text.strip().split("\n", 1)
        return first.strip(), rest.strip()
    line = text.strip()
    m = _SENTENCE.match(line)
    if m and 20 <= len(m.group(1)) <= 200:
        return m.group(1), line
    return line[:200], line


def semeval_inputs() -> tuple[list[dict[str, Any]], list[tuple[str, str, float]]]:
    """Replay lines (two per pair, pairs 60 days apart) and (id1, id2, overall) per pair."""
    base = datetime(2020, 1, 1, 12, 0, tzinfo=UTC)
    lines, pairs = [], []
    rows = [json.loads(x) for x in SEMEVAL.read_text(encoding="utf-8").splitlines() if x.strip()]
    for i, row in enumerate(sample(rows)):
        when = (base + timedelta(days=60 * i)).isoformat()
        ids = []
        for side in ("text1", "text2"):
            title, text = split_title(row[side])
            ids.append(f"{row['pair_id']}:{side[-1]}")
            lines.append({"id": ids[-1], "title": title, "text": text, "published": when})
        pairs.append((ids[0], ids[1], float(row["overall"])))
    return lines, pairs


def uci_inputs() -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Replay lines in time order, and the gold story label of each id."""
    rows = [json.loads(x) for x in UCI.read_text(encoding="utf-8").splitlines() if x.strip()]
    rows = sorted(rows, key=lambda r: r["published"])[: 40 if TINY else None]
    lines = [
        {
            "id": r["id"],
            "title": r["title"],
            "text": r["title"],
            "published": r["published"],
            "source": r["publisher"],
            "url": r["url"],
        }
        for r in rows
    ]
    return lines, {r["id"]: r["story"] for r in rows}


def ecbplus_inputs() -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Replay lines as the data README says: topic by topic, every report of a topic on one
    day 20 minutes apart with the two same-kind events interleaved, topics 60 days apart,
    a different outlet per report; and the gold story (topic + event) of each id."""
    rows = [json.loads(x) for x in ECBPLUS.read_text(encoding="utf-8").splitlines() if x.strip()]
    lines, gold = [], {}
    start = datetime(2015, 1, 5, 8, tzinfo=UTC)
    for t, topic in enumerate(sample(sorted({r["topic"] for r in rows}), 1)):
        events: dict[str, list[dict[str, Any]]] = {}
        for r in sorted((r for r in rows if r["topic"] == topic), key=lambda r: r["id"]):
            events.setdefault(r["event"], []).append(r)
        queues = [events[e] for e in sorted(events)]
        interleaved = [q[i] for i in range(max(map(len, queues))) for q in queues if i < len(q)]
        for n, r in enumerate(interleaved):
            when = start + timedelta(days=60 * t, minutes=20 * n)
            lines.append(
                {
                    "id": r["id"],
                    "title": r["title"],
                    "text": r["text"],
                    "published": when.isoformat(),
                    "source": f"outlet-{t}-{n}",
                }
            )
            gold[r["id"]] = f"{topic}-{r['event']}"
    return lines, gold


def words_only_config(tmp: Path) -> Path:
    """The shipped configuration with the semantic check off (for an ablation)."""
    return semantic_config(tmp, {"enabled": False}, name="words-only")


def semantic_config(tmp: Path, semantic: dict[str, Any], *, name: str) -> Path:
    """The shipped configuration with ``dedup.semantic`` set to ``semantic``."""
    return dedup_config(tmp, {"semantic": semantic}, name=name)


def dedup_config(tmp: Path, dedup: dict[str, Any], *, name: str) -> Path:
    """The shipped configuration with the ``dedup:`` settings ``dedup`` set."""
    config = yaml.safe_load(SHIPPED_CONFIG.read_text(encoding="utf-8"))
    config["watchlists"] = [str(SHIPPED_CONFIG.parent / w) for w in config["watchlists"]]
    config.setdefault("dedup", {}).update(dedup)
    path = tmp / f"{name}.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def run_replay(
    lines: Sequence[dict[str, Any]],
    *,
    words_only: bool = False,
    dedup: dict[str, Any] | None = None,
) -> dict[str, dict[str, Any]]:
    """Run `monitor replay` on ``lines``; output line by input id. ``dedup``: settings of
    the `dedup:` section changed from the shipped configuration."""
    if words_only and dedup:
        raise ValueError("run_replay: words_only and dedup changes are not combined")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "input.jsonl"
        path.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
        config = ["--config", str(words_only_config(Path(tmp)))] if words_only else []
        if dedup:
            config = ["--config", str(dedup_config(Path(tmp), dedup, name="changed"))]
        proc = subprocess.run(
            [sys.executable, "-m", "monitor", "replay", str(path), *config],
            capture_output=True,
            text=True,
            check=False,
            cwd=Path(__file__).parent.parent,
        )
    if proc.returncode != 0:
        raise RuntimeError(f"monitor replay failed ({proc.returncode}): {proc.stderr[-2000:]}")
    out = [json.loads(x) for x in proc.stdout.splitlines() if x.strip()]
    return final_stories({o["id"]: o for o in out})


def final_stories(out: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """``out`` (output lines by id, in stream order) with each ``story_id`` the story it
    ends in: a line's ``merged_stories`` were merged into its story as it arrived, so the
    earlier lines naming them are redirected (`monitor replay` prints each line as of
    its article)."""
    into: dict[Any, Any] = {}
    for line in out.values():
        for gone in line.get("merged_stories") or ():
            into[gone] = line["story_id"]

    def last(story: Any) -> Any:
        seen = set()
        while story in into and story not in seen:
            seen.add(story)
            story = into[story]
        return story

    return {i: {**line, "story_id": last(line["story_id"])} for i, line in out.items()}


def pair_counts(labels: dict[str, Any]) -> int:
    return sum(n * (n - 1) // 2 for n in Counter(labels.values()).values())


def pairwise(gold: dict[str, str], made: dict[str, Any]) -> tuple[float, float, float]:
    """Precision, recall, F1 over all pairs of articles (Miranda et al., 2018)."""
    both = pair_counts({i: (gold[i], made[i]) for i in gold})
    p = both / max(pair_counts({i: made[i] for i in gold}), 1)
    r = both / max(pair_counts(gold), 1)
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def bcubed(gold: dict[str, str], made: dict[str, Any]) -> tuple[float, float, float]:
    g, m = Counter(gold.values()), Counter(made[i] for i in gold)
    gm = Counter((gold[i], made[i]) for i in gold)
    p = sum(gm[(gold[i], made[i])] / m[made[i]] for i in gold) / len(gold)
    r = sum(gm[(gold[i], made[i])] / g[gold[i]] for i in gold) / len(gold)
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def run_direct(
    lines: Sequence[dict[str, Any]],
    *,
    clusterer: Any = None,
    classification_of: Callable[[str], Any] | None = None,
) -> dict[str, dict[str, Any]]:
    """The dedup stage alone, as the pipeline calls it: ``clusterer`` (default: the default
    settings, words only) with ``classification_of(id)`` (default: none).

    Used while `monitor replay` cannot run, and by bench/train_dedup.py to replay a stream
    many times with classifications and embeddings read once.
    """
    from sqlalchemy import select

    from monitor.dedup.clusterer import StoryClusterer
    from monitor.dedup.identity import find_same_item
    from monitor.dedup.settings import DedupSettings
    from monitor.storage.articles import insert_article
    from monitor.storage.db import make_engine, session_factory, transaction, upgrade
    from monitor.storage.models import ArticleRow
    from monitor.types import Article, Classification

    out: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/bench.db")
        upgrade(engine)
        sessions = session_factory(engine)
        clusterer = clusterer or StoryClusterer(DedupSettings())
        for x in lines:
            when = datetime.fromisoformat(x["published"])
            a = Article(
                key=x["id"],
                url=x.get("url"),
                canonical_url=x.get("url"),
                title=x["title"],
                text=x["text"],
                published=when,
                source=x.get("source"),
            )
            with transaction(sessions) as s:
                same = find_same_item(session=s, article=a)
                if same:
                    story = s.scalar(select(ArticleRow.story_id).where(ArticleRow.key == same))
                    out[a.key] = {"id": a.key, "story_id": story, "duplicate_of": same}
                    continue
                row = insert_article(session=s, article=a, classification={}, now=when)
                res = clusterer.assign(
                    session=s,
                    article=a,
                    article_id=row.id,
                    classification=classification_of(a.key)
                    if classification_of
                    else Classification(),
                    now=when,
                )
                out[a.key] = {
                    "id": a.key,
                    "story_id": res.story_id,
                    "duplicate_of": res.duplicate_of,
                    "story_reason": res.reason,
                    "merged_stories": list(res.merged),
                }
        engine.dispose()
    return final_stories(out)


def run(lines: Sequence[dict[str, Any]]) -> tuple[dict[str, dict[str, Any]], str]:
    """`monitor replay` when it runs, else the dedup stage directly; says which was used."""
    try:
        return run_replay(lines), "`monitor replay`"
    except RuntimeError as exc:
        last = str(exc).strip().splitlines()[-1][:160]
        return run_direct(lines), f"dedup stage directly (`monitor replay` failed: {last})"
