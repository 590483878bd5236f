"""End-to-end offline throughput: `monitor replay` over full-text articles.

Every SemEval article (title + full text) is replayed once as a stream through
classification, story assignment and the alert decision on a fresh SQLite database, with
the semantic check (shipped configuration) and without it (words only), interleaved in the
same run so both see the same machine load. Reports the fastest of ``ROUNDS`` runs of each,
articles/s, the ratio of the two, and each process's peak memory.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench._dedup import SHIPPED_CONFIG, words_only_config
from bench._report import SHARED, sample, sized, update_section

COMMAND = ".venv/bin/python -m bench.pipeline_replay"
PAIRS = SHARED / "data" / "story-dedup" / "semeval2022-task8-train-en-pairs.jsonl"
ROUNDS = sized(3, 1)


def articles() -> list[dict[str, str]]:
    out = []
    for n, raw in enumerate(PAIRS.read_text(encoding="utf-8").splitlines()):
        pair = json.loads(raw)
        for side in ("1", "2"):
            text = pair[f"text{side}"].strip()
            title = text.split("\n", 1)[0][:200]
            out.append({"id": f"{n}-{side}", "title": title, "text": text})
    return out


def run_once(path: Path, config: Path) -> tuple[float, int, float, float]:
    """(wall seconds, output lines, peak RSS MiB, CPU seconds: user + system, all threads)
    of one `monitor replay` process."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "monitor", "replay", str(path), "-c", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert proc.stdout is not None
    lines = proc.stdout.read().count(b"\n")
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"monitor replay failed ({proc.returncode})")
    return wall, lines, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime


def main() -> None:
    if not PAIRS.exists():
        print(f"skipped: {PAIRS} not present")
        return
    items = list(sample(articles(), 10))
    chars = sum(len(a["text"]) for a in items)
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "in.jsonl"
        path.write_text("".join(json.dumps(a) + "\n" for a in items), encoding="utf-8")
        configs = {"semantic check on (shipped)": SHIPPED_CONFIG,
                   "words only": words_only_config(Path(tmp))}  # fmt: skip
        runs: dict[str, list[tuple[float, int, float, float]]] = {name: [] for name in configs}
        for _ in range(ROUNDS):
            for name, config in configs.items():
                runs[name].append(run_once(path, config))
    best = {name: min(r) for name, r in runs.items()}
    rows = []
    for name, (wall, lines, _, _) in best.items():
        peak = max(r[2] for r in runs[name])
        cpu = min(r[3] for r in runs[name])
        rows.append(
            f"| {name} | {lines} | {wall:.1f} | {lines / wall:.1f} | {1000 * wall / lines:.1f} "
            f"| {cpu:.1f} | {peak:.0f} MiB |"
        )
    on, off = (best[name][0] for name in configs)
    md = (
        "## pipeline-replay: classify + dedup + alert decision, end to end\n\n"
        f"`monitor replay` over {best[next(iter(configs))][1]} full-text SemEval articles "
        f"(mean {chars // max(len(items), 1)} characters), fresh SQLite database, one process "
        "(start-up and watchlist compilation included); CPU s = user + system time of the "
        "process, all threads (the least of its runs). Fastest of "
        f"{ROUNDS} runs of each configuration, interleaved; peak RSS is the largest of its "
        "runs.\n\n"
        "| configuration | articles | wall s | articles/s | ms/article | CPU s | peak RSS |\n"
        "|---|---|---|---|---|---|---|\n" + "\n".join(rows) + "\n\n"
        f"**With the semantic check / without: {on / off:.2f}x the time** (target ≤ 1.5). "
        f"Load average when the run started: {load:.1f} on {os.cpu_count()} CPUs "
        "(other processes share this machine)."
    )
    update_section("pipeline-replay", md, command=COMMAND)


if __name__ == "__main__":
    main()
