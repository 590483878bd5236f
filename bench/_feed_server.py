"""A minimal keep-alive HTTP server for N synthetic feeds, run in its own process.

GET /feed/<i>.xml answers 304 when If-None-Match matches the feed's current version,
else 200 with 20 items. GET /publish bumps every tenth feed (new items), the way a
real population of feeds changes between two polls.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

ITEMS = 20
EPOCH = datetime(2020, 3, 12, tzinfo=UTC)


# Syllables of made-up words for items that differ per feed (``varied``), so a pipeline that
# groups near-copies sees distinct stories rather than one story with every feed as a source.
SYLLABLES = ("ka", "lo", "mi", "ren", "tu", "sa", "vel", "dor", "pi", "an", "ko", "mur", "es", "ti")


def texts(i: int, n: int, varied: bool) -> tuple[str, str]:
    """(title, summary) of item ``n`` of feed ``i``."""
    if not varied:
        return f"Feed {i} report {n}", (
            f"Synthetic report {n} of feed {i}, "
            "written for this benchmark, long enough to look like a real summary."
        )
    rng = random.Random(i * 100_003 + n)
    words = ["".join(rng.choices(SYLLABLES, k=rng.randint(2, 3))) for _ in range(30)]
    return " ".join(words[:6]).capitalize(), " ".join(words[6:]).capitalize() + "."


def feed_xml(i: int, version: int, count: int = ITEMS, varied: bool = False) -> bytes:
    items = []
    for n in range(version * 2 + count, version * 2, -1):  # newest first
        when = format_datetime(EPOCH + timedelta(minutes=n), usegmt=True)
        title, summary = texts(i, n, varied)
        items.append(
            f"<item><guid isPermaLink='false'>f{i}-{n}</guid><title>{title}</title>"
            f"<link>https://site{i % 50}.example/f{i}/{n}?utm_source=rss</link>"
            f"<pubDate>{when}</pubDate><description>{summary}</description>"
            "</item>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Feed {i}</title><link>https://site{i % 50}.example/</link>{''.join(items)}"
        "</channel></rss>"
    ).encode()


class State:
    def __init__(self, count: int, items: int = ITEMS, varied: bool = False) -> None:
        self.items, self.varied = items, varied
        self.versions = [0] * count
        self.bodies = [feed_xml(i, 0, items, varied) for i in range(count)]

    def publish(self) -> None:
        for i in range(0, len(self.versions), 10):
            self.versions[i] += 1
            self.bodies[i] = feed_xml(i, self.versions[i], self.items, self.varied)


async def _handle(state: State, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            path = lines[0].split(" ")[1]
            headers = dict(
                (k.strip().lower(), v.strip())
                for k, _, v in (h.partition(":") for h in lines[1:] if h)
            )
            writer.write(_respond(state, path, headers))
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError, IndexError):
        pass
    finally:
        writer.close()


def _respond(state: State, path: str, headers: dict[str, str]) -> bytes:
    if path == "/publish":
        state.publish()
        return b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n"
    try:
        i = int(path.removeprefix("/feed/").removesuffix(".xml"))
        body = state.bodies[i]
    except (ValueError, IndexError):
        return b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"
    etag = f'"{i}-{state.versions[i]}"'
    if headers.get("if-none-match") == etag:
        return f"HTTP/1.1 304 Not Modified\r\nETag: {etag}\r\nContent-Length: 0\r\n\r\n".encode()
    head = (
        f"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nETag: {etag}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def _serve(
    count: int, items: int, varied: bool, conn: multiprocessing.connection.Connection
) -> None:
    async def main() -> None:
        state = State(count, items, varied)
        server = await asyncio.start_server(
            lambda r, w: _handle(state, r, w), "127.0.0.1", 0, backlog=1024
        )
        conn.send(server.sockets[0].getsockname()[1])
        async with server:
            await server.serve_forever()

    asyncio.run(main())


def start(
    count: int, *, items: int = ITEMS, varied: bool = False
) -> tuple[multiprocessing.Process, str]:
    """A server process for ``count`` feeds of ``items`` items and its base URL;
    terminate() it when done."""
    parent, child = multiprocessing.Pipe()
    proc = multiprocessing.Process(target=_serve, args=(count, items, varied, child), daemon=True)
    proc.start()
    port = parent.recv()
    return proc, f"http://127.0.0.1:{port}"
