"""Refuse URLs that resolve to loopback, private, link-local or cloud-metadata addresses.

A feed URL is supplied by whoever edits the config (or an OPML file from anywhere), and an
article URL by the feed's publisher; neither may make monitor probe its own network. Each
redirect hop is checked again. Alert sinks are configured by the operator and not checked.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable

from monitor.errors import FetchError, UnsafeAddressError

# host, port -> the IP addresses the host resolves to.
Resolver = Callable[[str, int], Awaitable[list[str]]]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# Cloud metadata endpoints that are not in a non-global range already.
_METADATA = frozenset({ipaddress.ip_address("fd00:ec2::254")})


async def system_resolver(host: str, port: int) -> list[str]:
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise FetchError(f"cannot resolve host {host!r}: {exc}") from exc
    return [str(info[4][0]) for info in infos]


def is_unsafe(address: IPAddress) -> bool:
    """True for every address that is not on the public internet."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    # is_global is False for private, loopback, link-local (169.254.169.254 metadata),
    # shared/CGNAT (100.64/10, Alibaba metadata), unspecified and reserved ranges.
    return not address.is_global or address.is_multicast or address in _METADATA


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
