"""HTTP/1.1 on httpcore's connection pool, dialling only the addresses the guard checked.

httpcore owns keep-alive and the protocol; this module owns the sockets. ``PinnedBackend``
asks the ``AddressBook`` (the same book the pre-flight check filled) for a host's
addresses and dials those, never resolving the name again, so a DNS answer cannot change
between check and connection. TLS still names the host (httpcore passes the URL's host as
``server_hostname``), so SNI and certificate checks are against the name, not the address.

Sockets are asyncio transports with a receive buffer kept here: the pool asks every idle
connection "has the server closed you?" on each request, and answering from our own
buffer costs no system call (anyio polls the socket) and reads no private attribute.
"""

from __future__ import annotations

import asyncio
import importlib.util
import ssl
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import httpcore
import httpx

from monitor.errors import ConfigError
from monitor.fetch.safety import AddressBook
from monitor.fetch.settings import FetchSettings

Pool = httpcore.AsyncConnectionPool  # AsyncHTTPProxy and AsyncSOCKSProxy are pools too
# Received bytes buffered per connection before the socket stops being read.
_HIGH_WATER = 2**16


class _Wire(asyncio.Protocol):
    """One connection's asyncio side: received bytes, end of stream, write flow control."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self._buffer = bytearray()
        self._eof = False
        self._lost: Exception | None = None
        self._reading_paused = False
        self._writing_paused = False
        self._waiter: asyncio.Future[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        if len(self._buffer) > _HIGH_WATER and not self._reading_paused and self.transport:
            self.transport.pause_reading()
            self._reading_paused = True
        self._wake()

    def eof_received(self) -> bool:
        self._eof = True
        self._wake()
        return False  # let the transport close itself

    def connection_lost(self, exc: Exception | None) -> None:
        self._eof = True
        self._lost = exc
        self._writing_paused = False
        self._wake()

    def pause_writing(self) -> None:
        self._writing_paused = True

    def resume_writing(self) -> None:
        self._writing_paused = False
        self._wake()

    def readable(self) -> bool:
        """True when a read would not wait: data or end of stream (for an idle keep-alive
        connection, the server closed it or sent something unasked: either way, drop it)."""
        return bool(self._buffer) or self._eof

    async def read(self, max_bytes: int) -> bytes:
        while not self._buffer and not self._eof:
            await self._wait()
        if not self._buffer and self._lost is not None:
            raise self._lost
        data = bytes(self._buffer[:max_bytes])
        del self._buffer[:max_bytes]
        if self._reading_paused and len(self._buffer) <= _HIGH_WATER // 2 and self.transport:
            self.transport.resume_reading()
            self._reading_paused = False
        return data

    async def write(self, data: bytes) -> None:
        if self.transport is None or self.transport.is_closing():
            raise ConnectionResetError("connection closed")
        self.transport.write(data)
        while self._writing_paused:
            await self._wait()
        if self._lost is not None:
            raise self._lost

    async def _wait(self) -> None:
        self._waiter = asyncio.get_running_loop().create_future()
        try:
            await self._waiter
        finally:
            self._waiter = None

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)


class _Stream(httpcore.AsyncNetworkStream):
    """httpcore's view of one connection; errors are httpcore's, as the pool expects."""

    def __init__(self, wire: _Wire) -> None:
        self._wire = wire
        self._tcp: asyncio.BaseTransport | None = None  # under TLS: the socket's own transport

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        try:
            async with asyncio.timeout(timeout):
                return await self._wire.read(max_bytes)
        except TimeoutError as exc:
            raise httpcore.ReadTimeout(f"nothing received in {timeout}s") from exc
        except OSError as exc:
            raise httpcore.ReadError(str(exc) or type(exc).__name__) from exc

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        try:
            async with asyncio.timeout(timeout):
                await self._wire.write(buffer)
        except TimeoutError as exc:
            raise httpcore.WriteTimeout(f"could not send in {timeout}s") from exc
        except OSError as exc:
            raise httpcore.WriteError(str(exc) or type(exc).__name__) from exc

    async def aclose(self) -> None:
        # No wait for the peer: a dripping server must not hold us. Under TLS, closing sends
        # close_notify and would keep the socket open until the peer answers it (up to 30 s,
        # or for ever once the loop stops); closing the TCP transport too flushes that alert
        # and lets the socket go now.
        for transport in (self._wire.transport, self._tcp):
            if transport is not None:
                transport.close()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        wire = self._wire
        assert wire.transport is not None
        try:
            async with asyncio.timeout(timeout):
                tls = await asyncio.get_running_loop().start_tls(
                    wire.transport, wire, ssl_context, server_hostname=server_hostname
                )
        except TimeoutError as exc:
            await self.aclose()
            raise httpcore.ConnectTimeout(f"no TLS handshake in {timeout}s") from exc
        except (OSError, ssl.SSLError) as exc:
            await self.aclose()
            raise httpcore.ConnectError(str(exc) or type(exc).__name__) from exc
        if tls is None:  # the peer closed during the handshake
            raise httpcore.ConnectError(f"{server_hostname}: connection closed in TLS handshake")
        self._tcp, wire.transport = wire.transport, tls  # same protocol, fed decrypted bytes
        return self

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":
            return self._wire.readable()
        transport = self._wire.transport
        if transport is None:
            return None
        if info == "server_addr":
            return transport.get_extra_info("peername")
        if info == "client_addr":
            return transport.get_extra_info("sockname")
        return transport.get_extra_info(info)  # "ssl_object", "socket"


class DirectBackend(httpcore.AsyncNetworkBackend):
    """Opens asyncio TCP connections to ``host``, as given (a checked address, or a proxy)."""

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        local = (local_address, 0) if local_address else None
        try:
            async with asyncio.timeout(timeout):
                transport, wire = await loop.create_connection(_Wire, host, port, local_addr=local)
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(f"no connection to {host}:{port} in {timeout}s") from exc
        except OSError as exc:
            raise httpcore.ConnectError(f"{host}:{port}: {exc}") from exc
        sock = transport.get_extra_info("socket")
        for option in socket_options or ():
            sock.setsockopt(*option)
        return _Stream(wire)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class PinnedBackend(httpcore.AsyncNetworkBackend):
    """Dials the host's checked addresses, in order, until one answers."""

    def __init__(self, book: AddressBook, dial: httpcore.AsyncNetworkBackend) -> None:
        self._book = book
        self._dial = dial

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await self._book.addresses(host, port)  # FetchError passes through
        failure: httpcore.ConnectError | None = None
        try:
            async with asyncio.timeout(timeout):  # one connect timeout for all the addresses
                for address in addresses:
                    try:
                        return await self._dial.connect_tcp(
                            address, port, local_address=local_address,
                            socket_options=socket_options,
                        )  # fmt: skip
                    except httpcore.ConnectError as exc:
                        failure = exc
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(f"no connection to {host}:{port} in {timeout}s") from exc
        raise httpcore.ConnectError(f"{host}: {failure}") from failure

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


def open_pool(
    settings: FetchSettings,
    book: AddressBook,
    *,
    dial: httpcore.AsyncNetworkBackend | None = None,
    ssl_context: ssl.SSLContext | None = None,
) -> Pool:
    """The process's connection pool: pinned to checked addresses, or through the proxy.

    Through ``fetch.proxy`` the proxy resolves names and connects (the guard still checks
    every URL's host before the request, see docs/feeds.md).
    """
    dial = dial or DirectBackend()
    context = ssl_context or _ssl_context(settings.ca_bundle)
    limits: dict[str, Any] = {
        "max_connections": settings.concurrency,
        "max_keepalive_connections": settings.concurrency,
        "keepalive_expiry": 15.0,
    }
    if settings.proxy is None:
        return httpcore.AsyncConnectionPool(
            ssl_context=context, network_backend=PinnedBackend(book, dial), **limits
        )
    proxy = urlsplit(settings.proxy)
    auth = (unquote(proxy.username or ""), unquote(proxy.password or ""))
    plain_url = proxy._replace(netloc=proxy.netloc.rpartition("@")[2]).geturl()
    if proxy.scheme in ("http", "https"):
        return httpcore.AsyncHTTPProxy(
            proxy_url=plain_url, proxy_auth=auth if proxy.username else None,
            ssl_context=context, network_backend=dial, **limits,
        )  # fmt: skip
    if importlib.util.find_spec("socksio") is None:  # settings allow only socks5 besides
        raise ConfigError("fetch.proxy: a SOCKS proxy needs the 'socksio' package installed")
    return httpcore.AsyncSOCKSProxy(
        proxy_url=plain_url.replace("socks5h://", "socks5://", 1),
        proxy_auth=auth if proxy.username else None,
        ssl_context=context, network_backend=dial, **limits,
    )  # fmt: skip


def _ssl_context(ca_bundle: str | None) -> ssl.SSLContext:
    """fetch.ca_bundle (a file or a directory), else what httpx trusts (certifi, or
    SSL_CERT_FILE / SSL_CERT_DIR when set)."""
    if ca_bundle is None:
        return httpx.create_ssl_context()
    if Path(ca_bundle).is_dir():
        return ssl.create_default_context(capath=ca_bundle)
    return ssl.create_default_context(cafile=ca_bundle)
