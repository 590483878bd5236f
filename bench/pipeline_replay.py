"""End-to-end offline throughput: `monitor replay` over full-text articles.

Every SemEval article (title + full text) is replayed once as a stream through
classification, story assignment and the alert decision on a fresh SQLite database.
Reports articles/s and wall time, with the process's peak memory.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench._report import SHARED, update_section

COMMAND = ".venv/bin/python -m bench.pipeline_replay"
PAIRS = SHARED / "data" / "story-dedup" / "semeval2022-task8-train-en-pairs.jsonl"
CONFIG = Path(__file__).resolve().parents[1] / "config" / "monitor.yaml"


def articles() -> list[dict[str, str]]:
    out = []
    for n, raw in enumerate(PAIRS.read_text(encoding="utf-8").splitlines()):
        pair = json.loads(raw)
        for side in ("1", "2"):
            text = pair[f"text{side}"].strip()
            title = text.split("\n", 1)[0][:200]
            out.append({"id": f"{n}-{side}", "title": title, "text": text})
    return out


def main() -> None:
    if not PAIRS.exists():
        print(f"skipped: {PAIRS} not present")
        return
    items = articles()
    chars = sum(len(a["text"]) for a in items)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "in.jsonl"
        path.write_text("".join(json.dumps(a) + "\n" for a in items), encoding="utf-8")
        start = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-m", "monitor", "replay", str(path), "-c", str(CONFIG)],
            capture_output=True,
            text=True,
            check=True,
        )
        wall = time.perf_counter() - start
    lines = result.stdout.count("\n")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    md = (
        "## pipeline-replay: classify + dedup + alert decision, end to end\n\n"
        f"`monitor replay` over {lines} full-text SemEval articles "
        f"(mean {chars // max(len(items), 1)} characters), fresh SQLite database, one process "
        "(start-up and watchlist compilation included).\n\n"
        "| articles | wall s | articles/s | ms/article | peak RSS |\n|---|---|---|---|---|\n"
        f"| {lines} | {wall:.1f} | {lines / wall:.1f} | {1000 * wall / lines:.1f} "
        f"| {peak:.0f} MiB |"
    )
    update_section("pipeline-replay", md, command=COMMAND)


if __name__ == "__main__":
    main()
