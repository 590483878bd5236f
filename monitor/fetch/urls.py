"""URL canonicalisation: one spelling per article, so the same page is recognised as seen.

Lower-case scheme and host, no default port, no fragment, no tracking parameters, and
aggregator redirect links (``google.com/url?q=...``) unwrapped to the page they point at.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

# Parameters that identify a campaign or a click, never the page itself.
_TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "hsa_")
_TRACKING = frozenset(
    {
        "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid",
        "igshid", "mc_cid", "mc_eid", "_ga", "_gl", "ref_src", "ref_url", "cmpid",
        "ocid", "ncid", "sr_share", "smid", "at_medium", "at_campaign", "__twitter_impression",
    }
)  # fmt: skip

# (host, path) of a redirector that carries the target URL -> the parameters carrying it.
Redirectors = Mapping[tuple[str, str], tuple[str, ...]]
# The aggregators' redirect links seen in feeds. Callers (and tests) may pass their own table.
REDIRECTORS: Redirectors = MappingProxyType(
    {
        ("www.google.com", "/url"): ("url", "q"),
        ("google.com", "/url"): ("url", "q"),
        ("news.google.com", "/url"): ("url", "q"),
        ("l.facebook.com", "/l.php"): ("u",),
        ("lm.facebook.com", "/l.php"): ("u",),
        ("www.bing.com", "/news/apiclick.aspx"): ("url",),
        ("out.reddit.com", "/"): ("url",),
        ("href.li", "/"): (),  # href.li/?https://target
    }
)
_DEFAULT_PORTS = {"http": 80, "https": 443}


def unwrap_redirector(url: str, redirectors: Redirectors = REDIRECTORS) -> str:
    """The target of a redirect link listed in ``redirectors``, else ``url`` unchanged."""
    for _ in range(3):  # a redirector may wrap another one
        parts = urlsplit(url)
        names = redirectors.get((parts.hostname or "", parts.path or "/"))
        if names is None:
            return url
        target = _target(parts.query, names)
        if target is None:
            return url
        url = target
    return url


def _target(query: str, names: tuple[str, ...]) -> str | None:
    if not names:  # the whole query string is the target
        return query if query.startswith(("http://", "https://")) else None
    params = dict(parse_qsl(query, keep_blank_values=True))
    for name in names:
        value = params.get(name, "")
        if value.startswith(("http://", "https://")):
            return value
    return None


def is_tracking_param(name: str) -> bool:
    lowered = name.lower()
    return lowered in _TRACKING or lowered.startswith(_TRACKING_PREFIXES)


def canonical_url(
    url: str, base: str | None = None, *, redirectors: Redirectors = REDIRECTORS
) -> str:
    """The canonical spelling of an http(s) URL; other strings are returned stripped."""
    url = unwrap_redirector(url.strip(), redirectors)
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return url
    host = parts.hostname.lower().rstrip(".")
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        return url
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    if parts.username:  # keep credentials, they select a resource
        cred = parts.username + (f":{parts.password}" if parts.password else "")
        netloc = f"{cred}@{netloc}"
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    kept = [(k, v) for k, v in pairs if not is_tracking_param(k)]
    query = urlencode(kept) if len(kept) != len(pairs) else parts.query
    return urlunsplit((scheme, netloc, parts.path or "/", query, ""))


def http_url(url: str) -> str | None:
    """The canonical form of an absolute http(s) URL, else None.

    A feed's ``javascript:``, ``data:`` or ``file:`` link must never be stored, fetched or
    put in an alert as a link people click; a link without a host cannot be fetched either.
    """
    canonical = canonical_url(url)
    parts = urlsplit(canonical)
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    return canonical


def host_of(url: str) -> str:
    """Lower-case host (with a non-default port), the key of per-host limits."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    return host if port is None else f"{host}:{port}"
