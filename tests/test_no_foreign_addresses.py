"""No test, fixture, fuzz input or benchmark links to a host off this machine.

The project's rule: no network beyond 127.0.0.1 in tests and benchmarks, not even as a link
inside test data. The host of every URL in tests/, bench/ and fuzz/ must be 127.0.0.1,
localhost or an RFC 6761 loopback name (``*.localhost``); the few exceptions below are
identifiers that feed formats require and nothing fetches, each with its reason.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCANNED = ("tests", "bench", "fuzz")

# A URL: scheme, netloc and the rest; the netloc ends where a path, query, quote or escape
# starts. A format field ({...}) in an f-string stands for one label or a port, kept whole.
_URL = re.compile(
    r"""\b([a-z][a-z0-9+.-]*)://((?:\{[^{}\n]*\}|[^/\s"'<>\\?#{}|`)\]\[]|\[[0-9a-f:.]*\])*)"""
    r"""([^\s"'<>\\`]*)""",
    re.IGNORECASE,
)
_FIELD = re.compile(r"\{[^{}\n]*\}")

# Whole URLs that are names, not addresses: the formats under test require them verbatim
# and no code path fetches them.
IDENTIFIERS = {
    "http://www.w3.org/2005/Atom": "Atom 1.0 XML namespace",
    "http://purl.org/atom/ns#": "Atom 0.3 XML namespace",
    "http://www.w3.org/1999/02/22-rdf-syntax-ns#": "RDF XML namespace (RSS 1.0)",
    "http://purl.org/rss/1.0/": "RSS 1.0 XML namespace",
    "http://purl.org/dc/elements/1.1/": "Dublin Core XML namespace (RSS 1.0 dates)",
    "https://jsonfeed.org/version/1.1": "JSON Feed version; monitor.fetch.jsonfeed requires it",
    "https://schema.org": "JSON-LD @context of a page's metadata: trafilatura reads the "
    "metadata (the author in relative_canonical.html) only under this context",
    "htt0:" + "//www.w3.org/2005/Ato\x99": "a fuzzer's mutation of the Atom namespace; the "
    "regression input must keep the bytes that crashed the parser",
}
# Where the SSRF guard itself is under test, with checks on, it refuses *.localhost by name
# before any lookup. Hosts that must reach the injected resolver are therefore named under
# .invalid, which never resolves anywhere (RFC 6761 6.4): only the fake resolver answers and
# only an in-memory network or a loopback proxy is dialled.
NEVER_RESOLVING = {"tests/fetch/test_urls_and_safety.py", "tests/fetch/test_transport.py"}


def host_of(netloc: str) -> str:
    """The host a netloc names, lower-cased, its format fields standing as one label."""
    host = _FIELD.sub("x", netloc.rsplit("@", 1)[-1]).lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host[1:]
    return host.split(":", 1)[0]


def is_loopback(host: str) -> bool:
    if host in ("", "localhost") or host.endswith(".localhost"):
        return True  # no host at all (sqlite:///, file:///) or a loopback name
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address):
        # ::1, the IPv6 loopback (the IPv6 listen test), or 127.0.0.1 in its mapped form.
        return address == ipaddress.IPv6Address("::1") or (
            address.ipv4_mapped == ipaddress.IPv4Address("127.0.0.1")
        )
    return address == ipaddress.IPv4Address("127.0.0.1")


def foreign_links(text: str, where: str = "") -> Iterator[str]:
    """Every link in ``text`` (also percent-encoded ones) to a host off this machine, once."""
    matches = [*_URL.finditer(text), *_URL.finditer(unquote(text))]
    for url, netloc in dict.fromkeys((m.group(0), m.group(2)) for m in matches):
        host = host_of(netloc)
        if is_loopback(host) or url in IDENTIFIERS:
            continue
        if where in NEVER_RESOLVING and host.endswith(".invalid"):
            continue
        yield url


def scanned_files() -> Iterator[Path]:
    for top in SCANNED:
        for path in sorted((ROOT / top).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                yield path


def test_the_scanner_finds_what_it_must() -> None:
    # Built from pieces, so that this file holds no such link itself.
    s, h = "https:" + "//", "news." + "example"
    assert list(foreign_links(f'"{s}{h}/a"')) == [f"{s}{h}/a"]
    assert list(foreign_links(f"<link>{s}10.0.0.1:80/x</link>")) == [f"{s}10.0.0.1:80/x"]
    assert list(foreign_links(f"u={s.replace('//', '%2F%2F')}{h}%2Fp")) == [f"{s}{h}/p"]
    assert list(foreign_links(f'f"{s}{{outlet}}.{h}/{{key}}"')) == [f"{s}{{outlet}}.{h}/{{key}}"]
    ftp = "ftp:" + f"//user:pw@{h}:21"
    assert list(foreign_links(ftp)) == [ftp]
    assert list(foreign_links(f"{s}[2001:db8::1]/")) == [f"{s}[2001:db8::1]/"]
    assert list(foreign_links(f"{s}a.invalid/", "tests/test_x.py")) == [f"{s}a.invalid/"]
    for fine in (
        "http://127.0.0.1:8001/feed", "https://a.localhost/x", "http://localhost:8080/",
        'f"http://127.0.0.1:{port}/p"', 'f"http://site{i % 50}.localhost/"', "sqlite:///x.db",
        "http://[::1]:8080/", "http://[::ffff:127.0.0.1]/", "postgresql://u:p@127.0.0.1:5432/m",
        'xmlns="http://www.w3.org/2005/Atom"',
    ):  # fmt: skip
        assert list(foreign_links(fine)) == [], fine
    other_loopback = "http:" + "//127.0.0.2/"  # loopback, but not the one address allowed
    assert list(foreign_links(other_loopback)) == [other_loopback]


def test_every_allowance_is_still_needed() -> None:
    texts = [p.read_bytes().decode("latin-1") for p in scanned_files()]
    for identifier in IDENTIFIERS:
        assert any(identifier in t for t in texts), f"{identifier!r} is allowed but unused"
    for name in NEVER_RESOLVING:
        assert ".invalid" in (ROOT / name).read_text(encoding="utf-8"), name


@pytest.mark.parametrize("top", SCANNED)
def test_tests_fixtures_and_benchmarks_link_only_to_this_machine(top: str) -> None:
    found = []
    for path in scanned_files():
        where = path.relative_to(ROOT).as_posix()
        if not where.startswith(top + "/"):
            continue
        # latin-1 reads every byte, so binary fuzz inputs are scanned too.
        text = path.read_bytes().decode("latin-1")
        found += [f"{where}: {url}" for url in foreign_links(text, where)]
    assert found == [], "links off this machine (use 127.0.0.1 or *.localhost):\n" + "\n".join(
        found
    )
