"""A minimal keep-alive HTTP server for N synthetic feeds, run in its own process.

GET /feed/<i>.xml answers 304 when If-None-Match matches the feed's current version,
else 200 with 20 items. GET /publish bumps every tenth feed (new items), the way a
real population of feeds changes between two polls.
"""

from __future__ import annotations

import asyncio
import multiprocessing
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

ITEMS = 20
EPOCH = datetime(2020, 3, 12, tzinfo=UTC)


def feed_xml(i: int, version: int) -> bytes:
    items = []
    for n in range(version * 2 + ITEMS, version * 2, -1):  # newest first
        when = format_datetime(EPOCH + timedelta(minutes=n), usegmt=True)
        items.append(
            f"<item><guid isPermaLink='false'>f{i}-{n}</guid><title>Feed {i} report {n}</title>"
            f"<link>https://site{i % 50}.example/f{i}/{n}?utm_source=rss</link>"
            f"<pubDate>{when}</pubDate><description>Synthetic report {n} of feed {i}, "
            "written for this benchmark, long enough to look like a real summary.</description>"
            "</item>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Feed {i}</title><link>https://site{i % 50}.example/</link>{''.join(items)}"
        "</channel></rss>"
    ).encode()


class State:
    def __init__(self, count: int) -> None:
        self.versions = [0] * count
        self.bodies = [feed_xml(i, 0) for i in range(count)]

    def publish(self) -> None:
        for i in range(0, len(self.versions), 10):
            self.versions[i] += 1
            self.bodies[i] = feed_xml(i, self.versions[i])


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


def _serve(count: int, conn: multiprocessing.connection.Connection) -> None:
    async def main() -> None:
        state = State(count)
        server = await asyncio.start_server(
            lambda r, w: _handle(state, r, w), "127.0.0.1", 0, backlog=1024
        )
        conn.send(server.sockets[0].getsockname()[1])
        async with server:
            await server.serve_forever()

    asyncio.run(main())


def start(count: int) -> tuple[multiprocessing.Process, str]:
    """A server process for ``count`` feeds and its base URL; terminate() it when done."""
    parent, child = multiprocessing.Pipe()
    proc = multiprocessing.Process(target=_serve, args=(count, child), daemon=True)
    proc.start()
    port = parent.recv()
    return proc, f"http://127.0.0.1:{port}"
