"""A lean HTTP/1.1 transport: keep-alive per origin, connecting only to checked addresses.

httpx's default pool scans every pooled connection (and polls each socket) for every
request, which made the pool the largest cost of a poll cycle. Here an origin's idle
connections sit in their own list, so taking one is O(1); monitor's own semaphores
already bound how many requests run at once. Sockets are plain asyncio streams, and the
backend connects to the addresses the ``AddressBook`` checked, never resolving again.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import httpcore
import httpx

from monitor.fetch.safety import AddressBook

_ERRORS: tuple[tuple[type[Exception], type[httpx.HTTPError]], ...] = (
    (httpcore.ConnectTimeout, httpx.ConnectTimeout),
    (httpcore.ReadTimeout, httpx.ReadTimeout),
    (httpcore.WriteTimeout, httpx.WriteTimeout),
    (httpcore.TimeoutException, httpx.TimeoutException),
    (httpcore.ConnectError, httpx.ConnectError),
    (httpcore.ReadError, httpx.ReadError),
    (httpcore.WriteError, httpx.WriteError),
    (httpcore.RemoteProtocolError, httpx.RemoteProtocolError),
    (httpcore.LocalProtocolError, httpx.LocalProtocolError),
    (httpcore.UnsupportedProtocol, httpx.UnsupportedProtocol),
    (httpcore.ProtocolError, httpx.ProtocolError),
    (httpcore.NetworkError, httpx.NetworkError),
)
# A reused keep-alive connection the server closed meanwhile fails like this; GET is
# idempotent, so such a request is sent once more on a new connection.
_STALE = (httpcore.RemoteProtocolError, httpcore.ReadError, httpcore.WriteError)
_Conn = httpcore.AsyncHTTPConnection
_Key = tuple[bytes, bytes, int]  # scheme, host, port


@contextmanager
def _mapped() -> Iterator[None]:
    try:
        yield
    except httpcore.ConnectionNotAvailable as exc:
        raise httpx.ConnectError(str(exc) or "connection not available") from exc
    except Exception as exc:
        for source, target in _ERRORS:
            if isinstance(exc, source):
                raise target(str(exc)) from exc
        raise


class _Stream(httpcore.AsyncNetworkStream):
    """httpcore's view of one asyncio connection (cheap ``get_extra_info``, unlike anyio)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        try:
            async with asyncio.timeout(timeout):
                return await self._reader.read(max_bytes)
        except TimeoutError as exc:
            raise httpcore.ReadTimeout(str(exc) or "read timed out") from exc
        except OSError as exc:
            raise httpcore.ReadError(str(exc) or type(exc).__name__) from exc

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        try:
            async with asyncio.timeout(timeout):
                self._writer.write(buffer)
                await self._writer.drain()
        except TimeoutError as exc:
            raise httpcore.WriteTimeout(str(exc) or "write timed out") from exc
        except OSError as exc:
            raise httpcore.WriteError(str(exc) or type(exc).__name__) from exc

    async def aclose(self) -> None:
        self._writer.close()  # no wait for the peer: a dripping server must not hold us

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            async with asyncio.timeout(timeout):
                await self._writer.start_tls(ssl_context, server_hostname=server_hostname)
        except TimeoutError as exc:
            self._writer.close()
            raise httpcore.ConnectTimeout(str(exc) or "TLS handshake timed out") from exc
        except (OSError, ssl.SSLError) as exc:
            self._writer.close()
            raise httpcore.ConnectError(str(exc) or type(exc).__name__) from exc
        return self

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":  # idle yet readable: the server closed (or sent junk)
            buffered = bool(getattr(self._reader, "_buffer", b""))
            return buffered or self._reader.at_eof() or self._writer.is_closing()
        if info == "server_addr":
            return self._writer.get_extra_info("peername")
        if info == "client_addr":
            return self._writer.get_extra_info("sockname")
        return self._writer.get_extra_info(info)


class PinnedBackend(httpcore.AsyncNetworkBackend):
    """Connects to the host's checked addresses, in order, until one answers."""

    def __init__(self, book: AddressBook) -> None:
        self._book = book

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await self._book.addresses(host, port)  # FetchError passes through
        failure: Exception | None = None
        try:
            async with asyncio.timeout(timeout):
                for address in addresses:
                    try:
                        reader, writer = await asyncio.open_connection(address, port, limit=2**16)
                    except OSError as exc:
                        failure = exc
                        continue
                    return _Stream(reader, writer)
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(f"no connection to {host}:{port} in {timeout}s") from exc
        raise httpcore.ConnectError(f"{host}:{port}: {failure}") from failure

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class _Body(httpx.AsyncByteStream):
    """The response body; when read or closed, its connection goes back to the pool."""

    def __init__(
        self, response: httpcore.Response, conn: _Conn, origin: httpcore.Origin, pool: PoolTransport
    ) -> None:
        self._response = response
        self._conn = conn
        self._origin = origin
        self._pool = pool

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _mapped():
            async for part in self._response.aiter_stream():
                yield part

    async def aclose(self) -> None:
        try:
            with _mapped():
                await self._response.aclose()
        finally:
            await self._pool.release(self._origin, self._conn)


class PoolTransport(httpx.AsyncBaseTransport):
    """HTTP/1.1 keep-alive: up to ``per_origin`` idle connections per scheme/host/port."""

    def __init__(
        self,
        *,
        backend: httpcore.AsyncNetworkBackend,
        ssl_context: ssl.SSLContext,
        per_origin: int,
        max_idle: int,
        keepalive: float = 15.0,
    ) -> None:
        self._backend = backend
        self._ssl = ssl_context
        self._per_origin = per_origin
        self._max_idle = max_idle
        self._keepalive = keepalive
        self._idle: dict[_Key, list[_Conn]] = {}
        self._idle_count = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        core = httpcore.Request(
            method=request.method,
            url=httpcore.URL(scheme=url.raw_scheme, host=url.raw_host, port=url.port,
                             target=url.raw_path),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )  # fmt: skip
        origin = core.url.origin
        reused = await self._checkout(origin)
        with _mapped():
            try:
                response, conn = await self._send(reused, core)
            except _STALE:
                if reused is None:
                    raise
                # A reused connection the server had closed meanwhile: once more, anew.
                response, conn = await self._send(None, core)
        return httpx.Response(
            status_code=response.status,
            headers=response.headers,
            stream=_Body(response, conn, origin, self),
            extensions=response.extensions,
        )

    async def _send(
        self, conn: _Conn | None, request: httpcore.Request
    ) -> tuple[httpcore.Response, _Conn]:
        """Send on ``conn`` (a reused connection) or, when None, on a new one."""
        conn = conn or self._new(request.url.origin)
        try:
            return await conn.handle_async_request(request), conn
        except BaseException:
            await conn.aclose()
            raise

    async def _checkout(self, origin: httpcore.Origin) -> _Conn | None:
        """An idle connection to ``origin`` that is still usable, else None."""
        idle = self._idle.get(_key(origin))
        while idle:
            conn = idle.pop()
            self._idle_count -= 1
            if conn.is_available() and not conn.has_expired():
                return conn
            await conn.aclose()
        return None

    def _new(self, origin: httpcore.Origin) -> _Conn:
        return httpcore.AsyncHTTPConnection(
            origin, ssl_context=self._ssl, keepalive_expiry=self._keepalive,
            network_backend=self._backend,
        )  # fmt: skip

    async def release(self, origin: httpcore.Origin, conn: _Conn) -> None:
        idle = self._idle.setdefault(_key(origin), [])
        keep = conn.is_idle() and len(idle) < self._per_origin and self._idle_count < self._max_idle
        if keep and not conn.has_expired():
            idle.append(conn)
            self._idle_count += 1
        else:
            await conn.aclose()

    async def aclose(self) -> None:
        idle, self._idle, self._idle_count = self._idle, {}, 0
        for conns in idle.values():
            for conn in conns:
                await conn.aclose()


def _key(origin: httpcore.Origin) -> _Key:
    return origin.scheme, origin.host, origin.port
