"""Refuse URLs that resolve to loopback, private, link-local or cloud-metadata addresses.

A feed URL is supplied by whoever edits the config (or an OPML file from anywhere), and an
article URL by the feed's publisher; neither may make monitor probe its own network. Each
redirect hop is checked again. Alert sinks are configured by the operator and not checked.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from collections.abc import Awaitable, Callable

from monitor.errors import FetchError, UnsafeAddressError

# host, port -> the IP addresses the host resolves to.
Resolver = Callable[[str, int], Awaitable[list[str]]]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# Cloud metadata endpoints that are not in a non-global range already.
_METADATA = frozenset({ipaddress.ip_address("fd00:ec2::254")})
# NAT64 well-known prefix (RFC 6052): the last 32 bits are the IPv4 destination.
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
# Local-use NAT64 prefixes (RFC 8215) lead into the operator's own network, whatever follows.
_NAT64_LOCAL = ipaddress.IPv6Network("64:ff9b:1::/48")


async def system_resolver(host: str, port: int) -> list[str]:
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise FetchError(f"cannot resolve host {host!r}: {exc}") from exc
    return [str(info[4][0]) for info in infos]


def is_unsafe(address: IPAddress) -> bool:
    """True for every address that is not on the public internet."""
    if isinstance(address, ipaddress.IPv6Address):
        if address in _NAT64_LOCAL:
            return True
        address = embedded_ipv4(address) or address
    # is_global is False for private, loopback, link-local (169.254.169.254 metadata),
    # shared/CGNAT (100.64/10, Alibaba metadata), unspecified and reserved ranges.
    return not address.is_global or address.is_multicast or address in _METADATA


def embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 form carries, which is where a packet really goes.

    Python's is_global judges these by their IPv6 prefix, which looks public, so
    ``64:ff9b::7f00:1`` would pass although a NAT64 gateway delivers it to 127.0.0.1.
    """
    if address.ipv4_mapped is not None:  # ::ffff:a.b.c.d
        return address.ipv4_mapped
    if address.sixtofour is not None:  # 2002:AABB:CCDD::/48, 6to4
        return address.sixtofour
    packed = address.packed
    if address in _NAT64 or (packed[:12] == bytes(12) and int(address) > 1):
        # 64:ff9b::a.b.c.d (NAT64) or ::a.b.c.d (IPv4-compatible, deprecated but routed
        # by some stacks); :: and ::1 are left to is_global.
        return ipaddress.IPv4Address(packed[12:])
    return None


async def check_host(host: str, port: int, resolver: Resolver) -> None:
    """Raise UnsafeAddressError when ``host`` is or resolves to a refused address."""
    host = host.strip("[]")
    try:
        addresses: list[IPAddress] = [ipaddress.ip_address(host)]
    except ValueError:
        if host.lower() == "localhost" or host.lower().endswith(".localhost"):
            raise UnsafeAddressError(_refusal(host, "loopback")) from None
        addresses = await _resolve(host, port, resolver)
    for address in addresses:
        if is_unsafe(address):
            raise UnsafeAddressError(_refusal(host, str(address)))


async def _resolve(host: str, port: int, resolver: Resolver) -> list[IPAddress]:
    resolved = await resolver(host, port)
    if not resolved:
        raise FetchError(f"host {host!r} resolves to no address")
    return [ipaddress.ip_address(a.split("%", 1)[0]) for a in resolved]


def _refusal(host: str, address: str) -> str:
    return (
        f"refusing to contact {host} ({address}): not a public address; "
        "set fetch.allow_private_addresses: true to allow it"
    )


class AddressBook:
    """Checked addresses per (host, port), kept ``ttl`` seconds: one lookup per host and TTL.

    The pre-flight check and the connection both ask this book, so monitor connects to
    exactly the addresses it checked; a DNS server answering differently the second time
    (DNS rebinding) cannot slip a private address in between.
    """

    def __init__(
        self,
        resolver: Resolver,
        *,
        ttl: float,
        check: bool,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._resolver = resolver
        self._ttl = ttl
        self._check = check
        self._clock = clock
        self._cache: dict[tuple[str, int], tuple[float, list[str]]] = {}
        self._pending: dict[tuple[str, int], asyncio.Future[list[str]]] = {}

    async def addresses(self, host: str, port: int) -> list[str]:
        """The host's addresses (all public unless checks are off); raises FetchError."""
        host = host.strip("[]").lower()
        key = (host, port)
        cached = self._cache.get(key)
        if cached is not None and cached[0] > self._clock():
            return cached[1]
        pending = self._pending.get(key)
        if pending is not None:  # many feeds on one host: one lookup, shared
            return await asyncio.shield(pending)
        future: asyncio.Future[list[str]] = asyncio.get_running_loop().create_future()
        self._pending[key] = future
        try:
            found = await self._lookup(host, port)
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved here, so an unawaited failure is not logged
            raise
        else:
            future.set_result(found)
            self._cache[key] = (self._clock() + self._ttl, found)
            return found
        finally:
            del self._pending[key]

    async def _lookup(self, host: str, port: int) -> list[str]:
        try:
            literal: list[IPAddress] = [ipaddress.ip_address(host)]
        except ValueError:
            literal = []
        if literal:
            addresses = literal
        elif self._check and (host == "localhost" or host.endswith(".localhost")):
            raise UnsafeAddressError(_refusal(host, "loopback"))
        else:
            addresses = await _resolve(host, port, self._resolver)
        if self._check:
            for address in addresses:
                if is_unsafe(address):
                    raise UnsafeAddressError(_refusal(host, str(address)))
        return [str(a) for a in addresses]
