"""Write one benchmark's section of BENCHMARKS.md, leaving the other sections alone."""

from __future__ import annotations

import os
import platform
import re
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

REPORT = Path(__file__).resolve().parent.parent / "BENCHMARKS.md"
SHARED = Path(__file__).resolve().parents[2] / "shared"
# `make bench-smoke` (and CI) run every benchmark at a tiny size so they keep working; such a
# run measures nothing and leaves BENCHMARKS.md alone.
TINY = os.environ.get("MONITOR_BENCH_TINY") == "1"
T = TypeVar("T")


def sized(full: T, tiny: T) -> T:
    """``full`` for a real run, ``tiny`` for the smoke run."""
    return tiny if TINY else full


def sample(items: Sequence[T], tiny: int = 8) -> Sequence[T]:
    """All of ``items``, or the first ``tiny`` of them in a smoke run."""
    return items[:tiny] if TINY else items


def missing(*paths: Path) -> bool:
    """True (saying so) when data a benchmark needs is absent: a clone without ../shared
    skips such benchmarks cleanly; CI and development machines have it."""
    absent = [p for p in paths if not p.exists()]
    for path in absent:
        print(f"skipped: {path} not present (see ../shared/README.md)")
    return bool(absent)


def machine() -> str:
    import os

    return f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"


EARLIER = "### Earlier runs of this section, as written"


def update_section(name: str, markdown: str, *, command: str) -> None:
    """Put this run on top of the block between <!-- bench:NAME --> markers (appending the
    block if new), the block's earlier text kept below it under ``EARLIER``: a re-run must
    not erase the figures, notes and decisions recorded with the runs before it."""
    if TINY:
        print(f"{markdown}\n(smoke run at a tiny size: BENCHMARKS.md not updated)")
        return
    stamp = datetime.now(UTC).strftime("%Y-%m-%d")
    run = f"{markdown.strip()}\n\n_Command: `{command}` — {stamp}, {machine()}._\n"
    text = REPORT.read_text(encoding="utf-8") if REPORT.exists() else "# Benchmarks\n"
    pattern = re.compile(
        rf"<!-- bench:{re.escape(name)} -->\n?(.*?)<!-- /bench:{re.escape(name)} -->", re.S
    )

    def block(earlier: str) -> str:
        kept = f"\n{EARLIER}\n\n{earlier.strip()}\n" if earlier.strip() else ""
        return f"<!-- bench:{name} -->\n{run}{kept}<!-- /bench:{name} -->"

    found = pattern.search(text)
    if found:
        text = text[: found.start()] + block(found.group(1)) + text[found.end() :]
    else:
        text = text.rstrip() + "\n\n" + block("") + "\n"
    REPORT.write_text(text, encoding="utf-8")
    print(markdown, file=sys.stdout)


def load_note() -> str:
    """The machine's 1-minute load average: figures taken on a shared box say so."""
    import os

    return f"Load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs."
