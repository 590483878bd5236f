"""bench.e2e_dump: what it replaces as run-bound, and what its comparison reports."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bench.e2e_dump import compare, dump


def _db(path: Path, rows: list[tuple[str, str, bytes]]) -> Path:
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE feeds (url TEXT, body_hash TEXT, seen TEXT)")
        conn.execute("CREATE TABLE articles (key TEXT, title TEXT, sketch BLOB)")
        conn.execute("INSERT INTO feeds VALUES ('http://127.0.0.1:40123/feed.xml', 'ab', "
                     "'2026-12-07 15:01:02.123456')")  # fmt: skip
        conn.executemany("INSERT INTO articles VALUES (?, ?, ?)", rows)
    return path


def test_two_runs_differing_only_in_ports_and_times_dump_alike(tmp_path: Path) -> None:
    a = _db(tmp_path / "a.db", [("http://127.0.0.1:40123/feed.xml#page-1", "Feed 40123", b"\x01")])
    b = _db(tmp_path / "b.db", [("http://127.0.0.1:51234/feed.xml#page-1", "feed 51234", b"\x01")])
    first, second = dump(a), dump(b)
    assert first["feeds"] == [{"url": "http://127.0.0.1:<port>/feed.xml", "seen": "<time>"}]
    assert compare(first, second) == ["articles: differing columns (rows) {'title': 1}"]


def test_a_changed_value_or_a_missing_row_is_reported(tmp_path: Path) -> None:
    a = dump(_db(tmp_path / "a.db", [("k1", "Title", b"\x01"), ("k2", "Other", b"\x02")]))
    b = dump(_db(tmp_path / "b.db", [("k1", "Title", b"\x03"), ("k2", "Other", b"\x02")]))
    c = dump(_db(tmp_path / "c.db", [("k1", "Title", b"\x01")]))
    assert compare(a, a) == []
    assert compare(a, b) == ["articles: differing columns (rows) {'sketch': 1}"]
    assert compare(a, c) == ["articles: 2 rows vs 1"]
