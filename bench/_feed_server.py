"""A minimal keep-alive HTTP server for N synthetic feeds, run in its own process.

GET /feed/<i>.xml answers 304 when If-None-Match matches the feed's current version,
else 200 with 20 items. GET /publish bumps every tenth feed (new items), the way a
real population of feeds changes between two polls.

``start_hostile`` serves two hostile feeds the same way (issue 14): /big.xml with tens of
thousands of items (50,000 come to ~6.7 MB) and /fat.xml whose items carry ~500 KB of
text each, with the pages their items link to, and /stats (what was asked for, as JSON).
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import random
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from functools import partial

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
    # Item links name 50 sites by RFC 6761 loopback names: never fetched, and if they
    # were, they could only mean this machine.
    items = []
    for n in range(version * 2 + count, version * 2, -1):  # newest first
        when = format_datetime(EPOCH + timedelta(minutes=n), usegmt=True)
        title, summary = texts(i, n, varied)
        items.append(
            f"<item><guid isPermaLink='false'>f{i}-{n}</guid><title>{title}</title>"
            f"<link>http://site{i % 50}.localhost/f{i}/{n}?utm_source=rss</link>"
            f"<pubDate>{when}</pubDate><description>{summary}</description>"
            "</item>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Feed {i}</title><link>http://site{i % 50}.localhost/</link>{''.join(items)}"
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


Respond = Callable[[str, dict[str, str]], bytes]  # (path, headers) -> the whole reply


async def _handle(
    respond: Respond, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            path = lines[0].split(" ")[1]
            headers = dict(
                (k.strip().lower(), v.strip())
                for k, _, v in (h.partition(":") for h in lines[1:] if h)
            )
            writer.write(respond(path, headers))
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
            lambda r, w: _handle(partial(_respond, state), r, w), "127.0.0.1", 0, backlog=1024
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


# Harmless wording (council business, weather): the hostile feeds cost work, not alerts.
_FILLER = (
    "The district council met on {day} to discuss the budget for roads, schools and the "
    "library, and agreed to publish the minutes of meeting {n} next week. Rain is expected "
    "in the afternoon with light winds from the west and a high of {t} degrees. "
)
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")


def filler(chars: int, seed: int) -> str:
    """About ``chars`` characters of varied, uneventful prose."""
    parts, size, n = [], 0, seed
    while size < chars:
        part = _FILLER.format(day=_DAYS[n % 5], n=n, t=10 + n % 17)
        parts.append(part)
        size, n = size + len(part), n + 1
    return "".join(parts)[:chars]


def hostile_feed(base: str, name: str, items: int, text_chars: int) -> bytes:
    """``items`` items, newest first; each links to base/<name>/<n> (its identity)."""
    out = []
    for n in range(items - 1, -1, -1):
        when = format_datetime(EPOCH + timedelta(seconds=n), usegmt=True)
        text = f"<description>{filler(text_chars, n)}</description>" if text_chars else ""
        out.append(
            f"<item><title>Notice {n}</title>"
            f"<link>{base}/{name}/{n}</link><pubDate>{when}</pubDate>{text}</item>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Hostile {name}</title><link>{base}/</link>{''.join(out)}</channel></rss>"
    ).encode()


def _page(name: str, n: int, chars: int) -> bytes:
    text = filler(chars, n)
    return (
        f"<html><head><title>Notice {n}</title></head><body><article><h1>Notice {n}</h1>"
        f"<p>{text}</p></article></body></html>"
    ).encode()


class Hostile:
    def __init__(self, base: str, big_items: int, fat_items: int, fat_chars: int) -> None:
        self.fat_chars = fat_chars
        self.feeds = {
            "/big.xml": hostile_feed(base, "big", big_items, 0),
            "/fat.xml": hostile_feed(base, "fat", fat_items, fat_chars),
        }
        self.asked: Counter[str] = Counter()  # feed downloads (200), 304s, pages served

    def respond(self, path: str, headers: dict[str, str]) -> bytes:
        if path == "/stats":
            return _ok(json.dumps({**self.asked, **self.sizes()}).encode(), "application/json")
        if path in self.feeds:
            etag = f'"{path}"'
            if headers.get("if-none-match") == etag:
                self.asked[f"{path} 304"] += 1
                return f"HTTP/1.1 304 Not Modified\r\nETag: {etag}\r\n\r\n".encode()
            self.asked[f"{path} 200"] += 1
            return _ok(self.feeds[path], "application/rss+xml", etag)
        name, _, page = path.strip("/").partition("/")
        try:
            n = int(page)
        except ValueError:
            return b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"
        self.asked[f"{name} pages"] += 1
        return _ok(_page(name, n, self.fat_chars if name == "fat" else 600), "text/html")

    def sizes(self) -> dict[str, int]:
        return {f"{path} bytes": len(body) for path, body in self.feeds.items()}


def _ok(body: bytes, ctype: str, etag: str | None = None) -> bytes:
    tag = f"ETag: {etag}\r\n" if etag else ""
    head = f"HTTP/1.1 200 OK\r\nContent-Type: {ctype}\r\n{tag}Content-Length: {len(body)}\r\n\r\n"
    return head.encode() + body


def _serve_hostile(
    sizes: tuple[int, int, int], conn: multiprocessing.connection.Connection
) -> None:
    async def main() -> None:
        box: list[Hostile] = []
        server = await asyncio.start_server(
            lambda r, w: _handle(box[0].respond, r, w), "127.0.0.1", 0, backlog=1024
        )
        port = server.sockets[0].getsockname()[1]
        box.append(Hostile(f"http://127.0.0.1:{port}", *sizes))
        conn.send((port, box[0].sizes()))
        async with server:
            await server.serve_forever()

    asyncio.run(main())


def start_hostile(
    big_items: int, fat_items: int, fat_chars: int
) -> tuple[multiprocessing.Process, str, dict[str, int]]:
    """A server process for the two hostile feeds, its base URL and the feeds' sizes."""
    parent, child = multiprocessing.Pipe()
    proc = multiprocessing.Process(
        target=_serve_hostile, args=((big_items, fat_items, fat_chars), child), daemon=True
    )
    proc.start()
    port, sizes = parent.recv()
    return proc, f"http://127.0.0.1:{port}", sizes
