"""What one `monitor poll --once` over the e2e-poll pages stores, as JSON, to compare versions.

A change meant to be faster only must leave every stored value as it was. This runs the
e2e-poll bench's poll (its page server, config and fake Slack) over ``--feeds`` feeds (1 by
default: one feed is processed in a fixed order, so story grouping is reproducible) and
writes every row of every table, with what differs from run to run replaced: the page
server's port numbers (in URLs, keys and feed names) and timestamps (the feed's dates are
set from the clock). Two runs of one version give equal files.

    python -m bench.e2e_dump --out old.json        # in a checkout of the old version
    python -m bench.e2e_dump --out new.json
    python -m bench.e2e_dump --compare old.json new.json

Writes nothing to BENCHMARKS.md. With MONITOR_BENCH_TINY=1, 6 pages.
"""

from __future__ import annotations

import argparse
import base64
import json
import re
import sqlite3
import tempfile
from pathlib import Path
from typing import Any

from bench._report import TINY
from bench.e2e_poll import PAGES, pages, poll_once

_PORT = re.compile(r"(127\.0\.0\.1:|[Ff]eed )\d{4,5}")
_TIME = re.compile(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:\.\d+)?(?:\+00:00|Z)?")
# A hash of the feed document, which holds the ports and dates replaced above.
_RUN_BOUND = {("feeds", "body_hash")}


def dump(db: Path) -> dict[str, list[dict[str, Any]]]:
    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        tables = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND sql NOT LIKE '%VIRTUAL%'"
            " ORDER BY name")]  # fmt: skip
        return {t: [_row(t, r) for r in conn.execute(f'SELECT * FROM "{t}"')] for t in tables}


def _row(table: str, row: sqlite3.Row) -> dict[str, Any]:
    names = row.keys()  # iterating a Row gives its values, not its column names
    return {k: _value(row[k]) for k in names if (table, k) not in _RUN_BOUND}


def _value(value: object) -> object:
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, str):
        return _TIME.sub("<time>", _PORT.sub(lambda m: m.group(1) + "<port>", value))
    return value


def compare(a: dict[str, list[dict[str, Any]]], b: dict[str, list[dict[str, Any]]]) -> list[str]:
    """One line per table that differs: its row counts, or the columns differing and in how
    many rows."""
    out = []
    for table in sorted(set(a) | set(b)):
        rows_a, rows_b = a.get(table, []), b.get(table, [])
        if len(rows_a) != len(rows_b):
            out.append(f"{table}: {len(rows_a)} rows vs {len(rows_b)}")
            continue
        columns: dict[str, int] = {}
        for x, y in zip(rows_a, rows_b, strict=True):
            for column in sorted(set(x) | set(y)):
                if x.get(column) != y.get(column):
                    columns[column] = columns.get(column, 0) + 1
        if columns:
            out.append(f"{table}: differing columns (rows) {columns}")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.e2e_dump")
    parser.add_argument("--feeds", type=int, default=1)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--compare", nargs=2, type=Path, metavar=("A", "B"))
    args = parser.parse_args([] if __name__ != "__main__" else None)
    if args.compare:
        a, b = (json.loads(p.read_text(encoding="utf-8")) for p in args.compare)
        differences = compare(a, b)
        print("\n".join(differences) or f"identical: every column of {len(a)} tables")
        return 1 if differences else 0
    if not PAGES.exists():
        print(f"skipped: {PAGES} not present")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "kept.db"
        poll_once(pages(6 if TINY else None), args.feeds, keep_db=db)
        stored = dump(db)
    text = json.dumps(stored, indent=1, sort_keys=True, ensure_ascii=False)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    print(", ".join(f"{t}: {len(rows)}" for t, rows in stored.items() if rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
