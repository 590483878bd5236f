"""bench/dense_article.py runs end to end at a tiny size (the real run is in BENCHMARKS.md)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_dense_article_bench_runs_at_a_tiny_size() -> None:
    sys.path.insert(0, str(ROOT))  # bench/ is not an installed package
    try:
        spec = importlib.util.spec_from_file_location(
            "bench_dense", ROOT / "bench" / "dense_article.py"
        )
        assert spec and spec.loader
        bench = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = bench  # dataclasses look their module up
        spec.loader.exec_module(bench)
    finally:
        sys.path.remove(str(ROOT))
    ordinary = [
        {"id": f"o{i}", "title": "Report", "text": "Rockets hit a base. " * 20} for i in range(3)
    ]
    runs = bench.measure((120_000,), ordinary, uncapped_up_to=0, semantic=False)
    assert [r.articles for r in runs] == [3, 1, 1, 1]
    assert runs[1].chars >= sum(len(a["text"]) for a in ordinary)
    assert [r.truncated for r in runs] == [0, 0, 0, 1]  # only 120,000 is over the 100,000 cap
    assert "| replay of |" in bench.table(runs)
