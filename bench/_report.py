"""Write one benchmark's section of BENCHMARKS.md, leaving the other sections alone."""

from __future__ import annotations

import platform
import re
import sys
from datetime import UTC, datetime
from pathlib import Path

REPORT = Path(__file__).resolve().parent.parent / "BENCHMARKS.md"
SHARED = Path(__file__).resolve().parents[2] / "shared"


def machine() -> str:
    import os

    return f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"


def update_section(name: str, markdown: str, *, command: str) -> None:
    """Replace the block between <!-- bench:NAME --> markers (appending it if new)."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%d")
    body = (
        f"<!-- bench:{name} -->\n{markdown.strip()}\n\n"
        f"_Command: `{command}` — {stamp}, {machine()}._\n<!-- /bench:{name} -->"
    )
    text = REPORT.read_text(encoding="utf-8") if REPORT.exists() else "# Benchmarks\n"
    pattern = re.compile(
        rf"<!-- bench:{re.escape(name)} -->.*?<!-- /bench:{re.escape(name)} -->", re.S
    )
    text = (
        pattern.sub(lambda _m: body, text)
        if pattern.search(text)
        else text.rstrip() + "\n\n" + body + "\n"
    )
    REPORT.write_text(text, encoding="utf-8")
    print(markdown, file=sys.stdout)


def load_note() -> str:
    """The machine's 1-minute load average: figures taken on a shared box say so."""
    import os

    return f"Load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs."
