"""URL canonicalisation and the refusal of private addresses."""

from __future__ import annotations

import asyncio
import ipaddress
from typing import Any

import httpcore
import pytest

from monitor.errors import UnsafeAddressError
from monitor.fetch.http import Fetcher
from monitor.fetch.settings import FetchSettings
from monitor.fetch.urls import canonical_url, unwrap_redirector


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("HTTPS://News.Example.COM:443/a/b?id=7&utm_source=x&fbclid=1#top",
         "https://news.example.com/a/b?id=7"),
        ("http://news.example:8080?gclid=abc", "http://news.example:8080/"),
        ("https://news.example/a?b=1&c=2", "https://news.example/a?b=1&c=2"),
        ("https://www.google.com/url?rct=j&url=https://site.example/story%3Fx%3D1&ct=ga",
         "https://site.example/story?x=1"),
        ("https://l.facebook.com/l.php?u=https%3A%2F%2Fsite.example%2Fp%3Futm_medium%3Dx",
         "https://site.example/p"),
        ("mailto:desk@news.example", "mailto:desk@news.example"),
    ],
)  # fmt: skip
def test_canonical_url(raw: str, canonical: str) -> None:
    assert canonical_url(raw) == canonical


def test_unwrap_leaves_ordinary_links_alone() -> None:
    assert unwrap_redirector("https://www.google.com/search?q=https://x") == (
        "https://www.google.com/search?q=https://x"
    )


class MemoryNetwork(httpcore.AsyncNetworkBackend):
    """Answers each connection from memory (``first`` on the first, then 200), recording
    the address it was asked to dial."""

    def __init__(self, first: bytes) -> None:
        self.replies = [first]
        self.dialled: list[tuple[str, int]] = []

    async def connect_tcp(self, host: str, port: int, *args: Any, **kwargs: Any) -> Any:
        self.dialled.append((host, port))
        return httpcore.AsyncMockStream([self.replies.pop() if self.replies else OK])

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


OK = b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nfine"
# A public host's /hop redirects to the cloud metadata service.
HOP = b"HTTP/1.1 302 Found\r\nLocation: http://169.254.169.254/latest\r\nContent-Length: 0\r\n\r\n"


def fetch(
    url: str, resolved: dict[str, list[str]], *, allow: bool = False
) -> tuple[int, list[tuple[str, int]]]:
    """GET ``url``: its status and the addresses dialled."""
    network = MemoryNetwork(HOP if url.endswith("/hop") else OK)

    async def resolver(host: str, port: int) -> list[str]:
        return resolved[host]

    async def run() -> int:
        settings = FetchSettings(allow_private_addresses=allow)
        async with Fetcher(settings, network=network, resolver=resolver) as fetcher:
            return (await fetcher.get(url)).status

    return asyncio.run(run()), network.dialled


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/feed",
        "http://[::1]/feed",
        "http://10.1.2.3/feed",
        "http://169.254.169.254/latest/meta-data",
        "http://[::ffff:192.168.0.1]/",
        # IPv6 forms carrying an IPv4 destination are judged by that destination.
        "http://[::ffff:127.0.0.1]/",
        "http://[64:ff9b::7f00:1]/",  # NAT64 to 127.0.0.1
        "http://[64:ff9b::a9fe:a9fe]/",  # NAT64 to the metadata service
        "http://[2002:7f00:1::]/",  # 6to4 from 127.0.0.1
        "http://[::127.0.0.1]/",  # IPv4-compatible
        "http://[64:ff9b:1::808:808]/",  # local-use NAT64: the operator's own network
        "http://nat64.example/feed",  # a name resolving to such a form
        "http://mixed.example/feed",  # one public and one mapped private address
        "http://localhost:8080/",
        "http://intranet.example/feed",  # a public-looking name resolving inside
        "http://public.example/hop",  # a public host redirecting to the metadata service
    ],
)
def test_private_addresses_are_refused_by_default(url: str) -> None:
    resolved = {
        "intranet.example": ["192.168.1.20"],
        "public.example": ["93.184.216.34"],
        "nat64.example": ["64:ff9b::a00:1"],
        "mixed.example": ["93.184.216.34", "::ffff:10.0.0.1"],
    }
    with pytest.raises(UnsafeAddressError, match="allow_private_addresses"):
        fetch(url, resolved)


def test_public_addresses_and_the_opt_in_pass() -> None:
    status, dialled = fetch("http://public.example/feed", {"public.example": ["93.184.216.34"]})
    assert (status, dialled) == (200, [("93.184.216.34", 80)])  # the checked address, no lookup
    # The same IPv6 forms around a public IPv4 address are as public as it is.
    for literal in ("64:ff9b::5db8:d822", "2002:5db8:d822::1", "::ffff:93.184.216.34"):
        address = str(ipaddress.ip_address(literal))
        assert fetch(f"http://[{literal}]/feed", {}) == (200, [(address, 80)])
    # Opted in, the redirect to the metadata address is followed, to that address.
    assert fetch("http://127.0.0.1/hop", {}, allow=True) == (
        200, [("127.0.0.1", 80), ("169.254.169.254", 80)]
    )  # fmt: skip
