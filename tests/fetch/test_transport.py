"""Keep-alive, the checked-address book (DNS rebinding), and batched polls."""

from __future__ import annotations

import asyncio
import gc
import shutil
import ssl
import subprocess
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import aclosing
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from monitor.errors import UnsafeAddressError
from monitor.fetch.http import Fetcher
from monitor.fetch.poller import FeedPoll, poll_feeds
from monitor.fetch.safety import AddressBook
from monitor.fetch.settings import FeedConfig, FetchSettings
from monitor.storage.models import Feed

from .conftest import TWO_ITEMS, Handler, Server, rss
from .test_poller import NOW, SETTINGS

Serve = Callable[[dict[str, Callable[[Handler], None]]], Server]


def test_requests_to_one_host_reuse_a_connection(serve: Serve) -> None:
    peers: list[tuple[str, int]] = []

    def route(h: Handler) -> None:
        peers.append(h.client_address)
        h.reply(200, b"ok", "text/plain")

    server = serve({"/p": route})

    async def run() -> list[int]:
        async with Fetcher(SETTINGS) as fetcher:
            return [(await fetcher.get(server.url(f"/p?n={n}"))).status for n in range(6)]

    assert asyncio.run(run()) == [200] * 6
    assert len(peers) == 6 and len(set(peers)) == 1  # one TCP connection for all six


def test_connections_go_to_the_address_the_book_resolved(serve: Serve) -> None:
    server = serve({"/p": lambda h: h.reply(200, b"ok", "text/plain")})
    port = server.httpd.server_address[1]
    lookups: list[str] = []

    async def resolver(host: str, port: int) -> list[str]:
        lookups.append(host)
        return ["127.0.0.1"]

    async def run() -> list[int]:
        # A loopback-only name (RFC 6761): only the book's answer (127.0.0.1) reaches the server.
        async with Fetcher(SETTINGS, resolver=resolver) as fetcher:
            urls = [f"http://feeds.localhost:{port}/p?n={n}" for n in range(3)]
            return [r.status for r in await asyncio.gather(*(fetcher.get(u) for u in urls))]

    assert asyncio.run(run()) == [200, 200, 200]
    assert lookups == ["feeds.localhost"]  # one lookup per host and TTL, shared


def test_a_feed_header_replaces_the_default_and_host_names_the_host(serve: Serve) -> None:
    seen: list[list[str]] = []

    def route(h: Handler) -> None:
        seen.append([*h.headers.get_all("user-agent", []), *h.headers.get_all("host", [])])
        h.reply(200, b"ok", "text/plain")

    server = serve({"/p": route})
    port = server.httpd.server_address[1]

    async def run() -> None:
        async with Fetcher(SETTINGS) as fetcher:
            await fetcher.get(server.url("/p"), headers={"User-Agent": "feed-specific/1"})
            await fetcher.get(server.url("/p"))

    asyncio.run(run())
    assert seen == [["feed-specific/1", f"127.0.0.1:{port}"],
                    [SETTINGS.user_agent, f"127.0.0.1:{port}"]]  # fmt: skip


def test_an_idle_connection_the_server_closed_is_not_reused(serve: Serve) -> None:
    peers: list[tuple[str, int]] = []

    def route(h: Handler) -> None:  # keep-alive by the headers, then the server hangs up
        peers.append(h.client_address)
        h.reply(200, b"ok", "text/plain")
        h.close_connection = True

    server = serve({"/p": route})

    async def run() -> list[int]:
        statuses = []
        async with Fetcher(SETTINGS) as fetcher:
            for n in range(3):
                statuses.append((await fetcher.get(server.url(f"/p?n={n}"))).status)
                await asyncio.sleep(0.05)  # the server's FIN arrives
        return statuses

    assert asyncio.run(run()) == [200, 200, 200]
    assert len(set(peers)) == 3


def test_a_keep_alive_connection_closed_as_it_is_reused_is_retried_on_a_new_one(
    serve: Serve,
) -> None:
    served: dict[tuple[str, int], int] = {}

    def route(h: Handler) -> None:  # answers a connection's first request, drops its second
        served[h.client_address] = served.get(h.client_address, 0) + 1
        if served[h.client_address] == 1:
            h.reply(200, b"ok", "text/plain")
        else:
            h.close_connection = True

    server = serve({"/p": route})

    async def run() -> list[int]:
        async with Fetcher(SETTINGS) as fetcher:
            return [(await fetcher.get(server.url(f"/p?n={n}"))).status for n in range(2)]

    assert asyncio.run(run()) == [200, 200]
    assert sorted(served.values()) == [1, 2]  # the second GET: dropped, then a new connection


def test_through_a_proxy_the_host_is_checked_and_the_proxy_dialled(serve: Serve) -> None:
    # The proxy (operator-configured, on loopback) gets the absolute-form request. The guard is
    # on and refuses *.localhost by name, so the feed's host is a name that can never resolve
    # (RFC 6761 .invalid): only the injected resolver answers, and only the proxy is dialled.
    proxy = serve({"http://feeds.invalid/p": lambda h: h.reply(200, b"via proxy", "text/plain")})
    looked_up: list[str] = []

    async def resolver(host: str, port: int) -> list[str]:
        looked_up.append(host)
        return ["93.184.216.34"]  # public: the check passes; only the proxy can answer

    async def run() -> bytes:
        settings = FetchSettings(proxy=proxy.base)
        async with Fetcher(settings, resolver=resolver) as fetcher:
            return (await fetcher.get("http://feeds.invalid/p")).content

    assert asyncio.run(run()) == b"via proxy"
    assert looked_up == ["feeds.invalid"]
    assert proxy.hits[0][0] == "http://feeds.invalid/p"


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[ThreadingHTTPServer, Path, list[str]]]:
    """An HTTPS server on 127.0.0.1 whose certificate names only ``feeds.localhost``."""
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command to make a certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "3650",
         "-subj", "/CN=feeds.localhost", "-addext", "subjectAltName=DNS:feeds.localhost",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    names: list[str] = []
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    context.sni_callback = lambda sock, name, ctx: names.append(name)
    handler = type("H", (Handler,), {"routes": {"/p": lambda h: h.reply(200, b"ok")}, "hits": []})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield httpd, cert, names
    httpd.shutdown()
    httpd.server_close()


def test_https_dials_the_checked_address_and_names_the_host(
    tls_server: tuple[ThreadingHTTPServer, Path, list[str]],
) -> None:
    httpd, cert, names = tls_server
    port = httpd.server_address[1]

    async def resolver(host: str, port: int) -> list[str]:
        return ["127.0.0.1"]  # a loopback-only name (RFC 6761), answered here

    async def run() -> int:
        settings = FetchSettings(allow_private_addresses=True, ca_bundle=str(cert))
        async with Fetcher(settings, resolver=resolver) as fetcher:
            return (await fetcher.get(f"https://feeds.localhost:{port}/p")).status

    # The certificate is checked against the name (it names no address), sent as SNI and Host.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        assert asyncio.run(run()) == 200
        gc.collect()
    assert names == ["feeds.localhost"]
    assert httpd.RequestHandlerClass.hits[0][1]["host"] == f"feeds.localhost:{port}"  # type: ignore[attr-defined]
    # Closing a TLS connection let its socket go at once, not after the peer's close_notify
    # (which never came: the loop had stopped).
    assert [str(w.message) for w in caught if w.category is ResourceWarning] == []


def test_a_rebinding_answer_is_never_used_within_the_ttl_and_refused_after() -> None:
    answers = [["93.184.216.34"], ["127.0.0.1"]]
    clock = [0.0]

    async def resolver(host: str, port: int) -> list[str]:
        return answers.pop(0)

    async def run() -> list[list[str]]:
        book = AddressBook(resolver, ttl=60, check=True, clock=lambda: clock[0])
        # The check refuses *.localhost by name; a name that never resolves (.invalid) is
        # answered by the injected resolver only. Nothing is dialled here.
        checked = [await book.addresses("news.invalid", 443)]
        checked.append(await book.addresses("NEWS.invalid", 443))  # what connect() dials
        clock[0] = 61
        with pytest.raises(UnsafeAddressError, match=r"127\.0\.0\.1"):
            await book.addresses("news.invalid", 443)
        return checked

    assert asyncio.run(run()) == [["93.184.216.34"], ["93.184.216.34"]]


def test_poll_feeds_yields_each_feed_once_and_writes_every_state(
    serve: Serve, sessions: sessionmaker[Session]
) -> None:
    server = serve({"/a": lambda h: h.reply(200, rss(TWO_ITEMS)),
                    "/b": lambda h: h.reply(404, b"no", "text/plain")})  # fmt: skip
    a, b = FeedConfig(url=server.url("/a")), FeedConfig(url=server.url("/b"))

    async def run(feeds: list[FeedConfig], stop_after: int) -> list[FeedPoll]:
        polls: list[FeedPoll] = []
        async with Fetcher(SETTINGS) as fetcher:
            batch = poll_feeds(feeds, fetcher=fetcher, sessions=sessions, settings=SETTINGS,
                               now=NOW)  # fmt: skip
            async with aclosing(batch) as stream:
                async for poll in stream:
                    polls.append(poll)
                    if len(polls) == stop_after:
                        break
        return polls

    polls = asyncio.run(run([a, b, a], stop_after=0))
    assert sorted(p.feed_url for p in polls) == sorted([a.url, b.url])
    with sessions() as s:
        rows = {r.configured_url: r for r in s.scalars(select(Feed))}
    assert rows[a.url].last_status == 200 and rows[a.url].pending_keys == ["id-1", "id-2"]
    assert rows[b.url].consecutive_errors == 1 and "404" in (rows[b.url].last_error or "")

    # A caller that stops early still gets the finished polls' states written at once.
    first = asyncio.run(run([b], stop_after=1))
    assert first[0].error is not None
    with sessions() as s:
        errors = s.scalars(select(Feed.consecutive_errors).where(Feed.configured_url == b.url))
        assert errors.one() == 2


def test_a_batch_keeps_no_more_polls_alive_than_the_fetch_concurrency(
    serve: Serve, sessions: sessionmaker[Session]
) -> None:
    """Thousands of feeds in one batch must not mean a task (and its memory) per feed."""

    def slow_304(h: Handler) -> None:
        time.sleep(0.01)  # polls overlap: each is alive for a while
        h.reply(304)

    server = serve({"/f": slow_304})
    feeds = [FeedConfig(url=server.url(f"/f?n={n}")) for n in range(24)]
    settings = SETTINGS.model_copy(update={"concurrency": 3, "per_host": 3})
    alive: list[int] = []

    async def watch() -> None:
        while True:
            alive.append(len(asyncio.all_tasks()) - 2)  # neither this task nor the consumer
            await asyncio.sleep(0)

    async def run() -> list[FeedPoll]:
        async with Fetcher(settings) as fetcher:
            watcher = asyncio.create_task(watch())
            batch = poll_feeds(feeds, fetcher=fetcher, sessions=sessions, settings=settings,
                               now=NOW)  # fmt: skip
            polls = [poll async for poll in batch]
            watcher.cancel()
            return polls

    polls = asyncio.run(run())
    assert sorted(p.feed_url for p in polls) == sorted(f.url for f in feeds)
    assert max(alive) == 3  # all three workers busy at some point, never more
    with sessions() as s:
        statuses = s.scalars(select(Feed.last_status).where(Feed.configured_url.in_(
            [f.url for f in feeds])))  # fmt: skip
        assert list(statuses) == [304] * len(feeds)
