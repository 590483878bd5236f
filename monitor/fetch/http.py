"""Polite, safe HTTP: one connection pool, global and per-host limits, hard deadlines.

``Fetcher.get`` returns a ``FetchResult`` for any HTTP status and raises ``FetchError``
subclasses for everything else, so callers never see an httpcore or httpx type.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import email.utils
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import TracebackType
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx

from monitor.errors import FetchError
from monitor.fetch.body import ACCEPT_ENCODING, read_capped
from monitor.fetch.safety import AddressBook, Resolver, system_resolver
from monitor.fetch.settings import FetchSettings
from monitor.fetch.transport import open_pool
from monitor.fetch.urls import host_of

REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})
DEFAULT_RETRY_AFTER_CAP = timedelta(hours=6)


class HostDeferred(FetchError):
    """The host asked (429/503 + Retry-After) not to be contacted before ``until``."""

    def __init__(self, host: str, until: datetime) -> None:
        self.host = host
        self.until = until
        super().__init__(f"{host} asked us to wait until {until.isoformat()} (Retry-After)")


@dataclass(frozen=True)
class FetchResult:
    url: str  # final URL after redirects
    status: int
    headers: Mapping[str, str] = field(default_factory=dict)  # lower-case keys
    content: bytes = b""  # decompressed, capped at fetch.max_body_size
    redirects: tuple[tuple[int, str], ...] = ()  # (status, location) hops

    def is_modified(self) -> bool:
        return self.status != 304

    def retry_after(
        self, now: datetime, *, cap: timedelta = DEFAULT_RETRY_AFTER_CAP
    ) -> datetime | None:
        """When the server allows the next request: seconds or an HTTP-date, at most ``cap``."""
        value = self.headers.get("retry-after", "").strip()
        if not value:
            return None
        if value.isdigit():
            when = now + timedelta(seconds=int(value))
        else:
            try:
                when = email.utils.parsedate_to_datetime(value)
            except (TypeError, ValueError, IndexError):
                return None
            if when.tzinfo is None:  # HTTP-dates are GMT by definition
                when = when.replace(tzinfo=UTC)
        return min(max(when, now), now + cap)

    def permanent_redirect(self) -> str | None:
        """The new URL when every hop was permanent (301/308); a 302/307 hop vetoes it."""
        if self.redirects and all(status in (301, 308) for status, _ in self.redirects):
            return self.url
        return None

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";", 1)[0].strip().lower()


class Fetcher:
    """One per process. Use as ``async with Fetcher(settings) as fetcher``."""

    def __init__(
        self,
        settings: FetchSettings,
        *,
        network: httpcore.AsyncNetworkBackend | None = None,
        resolver: Resolver | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        """``network`` opens the TCP connections (to checked addresses only; tests give
        one that answers from memory); ``resolver`` looks host names up."""
        self._settings = settings
        self._clock = clock or (lambda: datetime.now(UTC))
        self._global = asyncio.Semaphore(settings.concurrency)
        self._hosts: dict[str, asyncio.Semaphore] = {}
        self._deferred: dict[str, datetime] = {}
        # One book for the pre-flight check and the connection: what was checked is dialled.
        self._addresses = AddressBook(
            resolver or system_resolver,
            ttl=settings.dns_ttl.total_seconds(),
            check=not settings.allow_private_addresses,
        )
        self._pool = open_pool(settings, self._addresses, dial=network)
        self._headers = [
            (b"user-agent", settings.user_agent.encode()),
            (b"accept", b"*/*"),
            (b"accept-encoding", ACCEPT_ENCODING.encode()),
        ]
        self._timeouts = {
            "connect": settings.connect_timeout.total_seconds(),
            "read": settings.read_timeout.total_seconds(),
            "write": settings.read_timeout.total_seconds(),
            "pool": settings.deadline.total_seconds(),
        }

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._pool.aclose()

    def deferred_until(self, url: str, now: datetime) -> datetime | None:
        """When the URL's host asked to be left alone until, if that is after ``now``."""
        until = self._deferred.get(host_of(url))
        return until if until is not None and until > now else None

    def defer_host(self, url: str, until: datetime) -> None:
        host = host_of(url)
        self._deferred[host] = max(until, self._deferred.get(host, until))

    async def get(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> FetchResult:
        until = self.deferred_until(url, self._clock())
        if until is not None:
            raise HostDeferred(host_of(url), until)
        request_headers = dict(headers or {})
        if etag:
            request_headers["if-none-match"] = etag  # echoed exactly as received
        if last_modified:
            request_headers["if-modified-since"] = last_modified
        deadline = self._settings.deadline.total_seconds()
        try:
            result = await self._follow(url, request_headers, _WireBudget(deadline))
        except TimeoutError as exc:
            raise FetchError(
                f"no complete response within {deadline:g}s on the wire (fetch.deadline)"
            ) from exc
        self._note_retry_after(result)
        return result

    async def _follow(self, url: str, headers: dict[str, str], budget: _WireBudget) -> FetchResult:
        hops: list[tuple[int, str]] = []
        chain = [url]
        while True:
            status, response_headers, content = await self._get_once(url, headers, budget)
            location = response_headers.get("location")
            if status not in REDIRECT_CODES or not location:
                return FetchResult(url, status, response_headers, content, tuple(hops))
            target = urljoin(url, location.strip())
            hops.append((status, target))
            if target in chain:
                raise FetchError(f"redirect loop: {' -> '.join([*chain, target])}")
            if len(hops) > self._settings.max_redirects:
                raise FetchError(f"more than {self._settings.max_redirects} redirects from {url}")
            chain.append(target)
            url = target

    async def _get_once(
        self, url: str, headers: dict[str, str], budget: _WireBudget
    ) -> tuple[int, dict[str, str], bytes]:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise FetchError(f"not an http(s) URL: {url!r}")
        if not self._settings.allow_private_addresses:  # checked (and cached) before queueing
            async with budget.spend():
                await self._addresses.addresses(parts.hostname, parts.port or _PORTS[parts.scheme])
        host = host_of(url)
        per_host = self._hosts.setdefault(host, asyncio.Semaphore(self._settings.per_host))
        # The deadline runs only once both slots are held: a request queued behind the
        # limits has not been slow, and timing it out there would lose the feed's poll.
        async with self._global, per_host, budget.spend():
            try:
                response = await self._send(self._request(url, headers))
                try:
                    response_headers = _plain(response.headers)
                    content = await read_capped(
                        response_headers, response.aiter_stream(), self._settings.max_body_size
                    )
                finally:
                    await response.aclose()  # the connection goes back to the pool
            except _WIRE_ERRORS as exc:
                raise FetchError(_describe(exc, url)) from exc
            return response.status, response_headers, content

    async def _send(self, request: httpcore.Request) -> httpcore.Response:
        """The response's head; sent once more when the connection broke before any answer,
        as a keep-alive connection does when the server closes it just as it is reused
        (GET is idempotent; one more try, so a server that always hangs up costs two)."""
        try:
            return await self._pool.handle_async_request(request)
        except _BROKEN:
            return await self._pool.handle_async_request(request)

    def _request(self, url: str, headers: dict[str, str]) -> httpcore.Request:
        """The GET for ``url``; httpx.URL gives the wire form (IDNA host, escaped path)."""
        try:
            parsed = httpx.URL(url)
        except httpx.InvalidURL as exc:
            raise FetchError(f"invalid URL {url!r}: {exc}") from exc
        given = {name.lower().encode() for name in headers}  # a feed's own header wins
        wire = [(b"host", parsed.netloc), *(h for h in self._headers if h[0] not in given)]
        if parsed.username or parsed.password:  # credentials in the feed URL: basic auth
            pair = f"{parsed.username}:{parsed.password}".encode()
            wire.append((b"authorization", b"Basic " + base64.b64encode(pair)))
        wire += [(k.encode(), v.encode()) for k, v in headers.items()]
        target = httpcore.URL(
            scheme=parsed.raw_scheme, host=parsed.raw_host, port=parsed.port,
            target=parsed.raw_path,
        )  # fmt: skip
        return httpcore.Request("GET", target, headers=wire, extensions={"timeout": self._timeouts})

    def _note_retry_after(self, result: FetchResult) -> None:
        """A 429/503 with Retry-After applies to the whole host, not just this URL."""
        if result.status in (429, 503):
            cap = self._settings.max_retry_after
            until = result.retry_after(self._clock(), cap=cap)
            if until is not None:
                self.defer_host(result.url, until)


_PORTS = {"http": 80, "https": 443}


class _WireBudget:
    """fetch.deadline for one request and its redirects, spent only while on the wire."""

    def __init__(self, seconds: float) -> None:
        self._left = seconds

    @contextlib.asynccontextmanager
    async def spend(self) -> AsyncIterator[None]:
        loop = asyncio.get_running_loop()
        started = loop.time()
        try:
            async with asyncio.timeout(max(self._left, 0.0)):
                yield
        finally:
            self._left -= loop.time() - started


def _plain(headers: list[tuple[bytes, bytes]]) -> dict[str, str]:
    """Lower-case names; a repeated header's values joined with ", " (RFC 9110 5.3)."""
    plain: dict[str, str] = {}
    for raw_name, raw_value in headers:
        name, value = raw_name.decode("latin-1").lower(), _text(raw_value)
        plain[name] = f"{plain[name]}, {value}" if name in plain else value
    return plain


def _text(value: bytes) -> str:
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return value.decode("latin-1")


# What the pool and its connections raise (all public httpcore types); anything else is a bug.
_WIRE_ERRORS = (
    httpcore.TimeoutException, httpcore.NetworkError, httpcore.ProtocolError,
    httpcore.UnsupportedProtocol, httpcore.ProxyError,
)  # fmt: skip
_BROKEN = (httpcore.RemoteProtocolError, httpcore.ReadError, httpcore.WriteError)
_KINDS: dict[type[Exception], str] = {
    httpcore.ConnectTimeout: "connect timeout",
    httpcore.ReadTimeout: "read timeout (fetch.read_timeout)",
    httpcore.ConnectError: "cannot connect",
    httpcore.RemoteProtocolError: "connection broken",
    httpcore.ReadError: "connection reset",
}


def _describe(exc: Exception, url: str) -> str:
    kind = _KINDS.get(type(exc), type(exc).__name__)
    detail = str(exc) or type(exc).__name__
    return f"{kind}: {detail} ({url})"
