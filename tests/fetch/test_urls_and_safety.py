"""URL canonicalisation and the refusal of private addresses.

No link here leads off this machine. Host names that must differ in spelling are RFC 6761
loopback names (``*.localhost``); where the guard must reach the injected resolver (it
refuses ``*.localhost`` by name, before any lookup) the names are ``*.invalid``, which never
resolve anywhere, so only the fake resolver below answers and only MemoryNetwork "dials".
The refused and public addresses themselves appear as resolver answers and ``ipaddress``
values, never as links.
"""

from __future__ import annotations

import asyncio
import ipaddress
from typing import Any

import httpcore
import pytest

from monitor.errors import UnsafeAddressError
from monitor.fetch.http import Fetcher
from monitor.fetch.safety import is_unsafe
from monitor.fetch.settings import FetchSettings
from monitor.fetch.urls import REDIRECTORS, canonical_url, unwrap_redirector


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        # A loopback name (RFC 6761), since an address has no case to fold.
        ("HTTPS://News.Wire.LOCALHOST:443/a/b?id=7&utm_source=x&fbclid=1#top",
         "https://news.wire.localhost/a/b?id=7"),
        ("http://127.0.0.1:8080?gclid=abc", "http://127.0.0.1:8080/"),
        ("http://127.0.0.1:80/a?b=1&c=2", "http://127.0.0.1/a?b=1&c=2"),
        ("mailto:desk@news.localhost", "mailto:desk@news.localhost"),
    ],
)  # fmt: skip
def test_canonical_url(raw: str, canonical: str) -> None:
    assert canonical_url(raw) == canonical


# Loopback stand-ins for the aggregators: the same three shapes as the shipped table (named
# parameters, a parameter list, the whole query string), keyed on the redirector's host.
LOOPBACK_REDIRECTORS = {
    ("127.0.0.1", "/url"): ("url", "q"),
    ("127.0.0.1", "/l.php"): ("u",),
    ("hop.localhost", "/"): (),
}


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("http://127.0.0.1:8001/url?rct=j&url=http://127.0.0.1:8002/story%3Fx%3D1&ct=ga",
         "http://127.0.0.1:8002/story?x=1"),
        ("http://127.0.0.1:8001/url?q=http://127.0.0.1:8002/s&url=ftp:x",
         "http://127.0.0.1:8002/s"),
        ("http://127.0.0.1:8001/l.php?u=http%3A%2F%2F127.0.0.1%3A8002%2Fp%3Futm_medium%3Dx",
         "http://127.0.0.1:8002/p"),
        # A redirector wrapping another is unwrapped to the end.
        ("http://hop.localhost/?http://127.0.0.1:8001/url?url=http://127.0.0.1:8002/s",
         "http://127.0.0.1:8002/s"),
    ],
)  # fmt: skip
def test_redirect_links_are_unwrapped_to_their_target(raw: str, canonical: str) -> None:
    assert canonical_url(raw, redirectors=LOOPBACK_REDIRECTORS) == canonical
    assert canonical_url(raw) == canonical_url(raw, redirectors={})  # not in the shipped table


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8001/search?q=http://127.0.0.1:8002/x",  # not a redirector path
        "http://127.0.0.1:8001/url?url=javascript:alert(1)",  # a target that is not http(s)
        "http://hop.localhost/?ftp://127.0.0.1/x",
        "http://127.0.0.1:8001/l.php",  # no target at all
    ],
)
def test_unwrap_leaves_other_links_alone(url: str) -> None:
    assert unwrap_redirector(url, LOOPBACK_REDIRECTORS) == url


def test_the_shipped_table_unwraps_the_aggregators_users_meet() -> None:
    # Table data, not links: which (host, path) is a redirector and which parameter holds
    # the target. Google Alerts and Google News put it in ``url`` (older links: ``q``).
    for host in ("www.google.com", "google.com", "news.google.com"):
        assert set(REDIRECTORS[(host, "/url")]) == {"url", "q"}
    for host in ("l.facebook.com", "lm.facebook.com"):
        assert REDIRECTORS[(host, "/l.php")] == ("u",)
    assert REDIRECTORS[("www.bing.com", "/news/apiclick.aspx")] == ("url",)
    assert REDIRECTORS[("out.reddit.com", "/")] == ("url",)
    assert REDIRECTORS[("href.li", "/")] == ()  # the whole query string is the target
    # Keys are what unwrap_redirector looks up: a lower-case host and a path.
    assert all(h == h.lower() and p.startswith("/") for h, p in REDIRECTORS)


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1", "::1", "10.1.2.3", "192.168.1.20", "100.64.0.1", "0.0.0.0", "224.0.0.1",
        "169.254.169.254",  # cloud metadata (link-local)
        "fd00:ec2::254",  # AWS metadata over IPv6
        "::ffff:192.168.0.1",
        # IPv6 forms carrying an IPv4 destination are judged by that destination.
        "::ffff:127.0.0.1",
        "64:ff9b::7f00:1",  # NAT64 to 127.0.0.1
        "64:ff9b::a9fe:a9fe",  # NAT64 to the metadata service
        "2002:7f00:1::",  # 6to4 from 127.0.0.1
        "::127.0.0.1",  # IPv4-compatible
        "64:ff9b:1::808:808",  # local-use NAT64: the operator's own network
    ],
)  # fmt: skip
def test_the_classifier_refuses_every_address_off_the_public_internet(address: str) -> None:
    assert is_unsafe(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    "address", ["93.184.216.34", "64:ff9b::5db8:d822", "2002:5db8:d822::1", "::ffff:93.184.216.34"]
)
def test_the_classifier_passes_a_public_address_in_any_form(address: str) -> None:
    assert not is_unsafe(ipaddress.ip_address(address))


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
# A public host's /hop redirects to a name that resolves to the cloud metadata service.
HOP = b"HTTP/1.1 302 Found\r\nLocation: http://metadata.invalid/latest\r\nContent-Length: 0\r\n\r\n"
PUBLIC = "93.184.216.34"  # a resolver answer only: MemoryNetwork dials nothing real
# What the fake resolver answers for each name the tests use.
RESOLVED = {
    "public.invalid": [PUBLIC],
    "metadata.invalid": ["169.254.169.254"],
    "intranet.invalid": ["192.168.1.20"],
    "nat64.invalid": ["64:ff9b::a00:1"],
    "mixed.invalid": [PUBLIC, "::ffff:10.0.0.1"],
    "mapped.invalid": ["::ffff:127.0.0.1"],
}


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
        "http://[::ffff:127.0.0.1]/",  # a literal in brackets, judged by its IPv4 destination
        "http://localhost:8080/",
        "http://feeds.localhost/feed",  # refused by name: no lookup (RESOLVED lacks it)
        "http://metadata.invalid/latest",  # names resolving to refused addresses
        "http://intranet.invalid/feed",  # a public-looking name resolving inside
        "http://nat64.invalid/feed",  # a name resolving to a NAT64 form of a private address
        "http://mixed.invalid/feed",  # one public and one mapped private address
        "http://mapped.invalid/feed",
        "http://public.invalid/hop",  # a public host redirecting to the metadata service
    ],
)
def test_private_addresses_are_refused_by_default(url: str) -> None:
    with pytest.raises(UnsafeAddressError, match="allow_private_addresses"):
        fetch(url, RESOLVED)


def test_public_addresses_and_the_opt_in_pass() -> None:
    status, dialled = fetch("http://public.invalid/feed", RESOLVED)
    assert (status, dialled) == (200, [(PUBLIC, 80)])  # the checked address, no second lookup
    # The same IPv6 forms around a public IPv4 address are as public as it is.
    for literal in ("64:ff9b::5db8:d822", "2002:5db8:d822::1", "::ffff:93.184.216.34"):
        address = str(ipaddress.ip_address(literal))
        assert fetch("http://public.invalid/feed", {"public.invalid": [literal]}) == (
            200, [(address, 80)]
        )  # fmt: skip
    # Opted in, the redirect to the metadata address is followed, to that address.
    assert fetch("http://127.0.0.1/hop", RESOLVED, allow=True) == (
        200, [("127.0.0.1", 80), ("169.254.169.254", 80)]
    )  # fmt: skip
