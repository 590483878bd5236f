"""Checks of the configuration that span sections or files, run once when it is loaded.

Errors are settings that would fail at run time (a feed listed twice, a rule naming a route
that does not exist); warnings are settings that would silently do nothing (a route no rule
names). Each line names file, line and key, as the schema's own errors do.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from monitor.alert.settings import CHANNEL_ID, RouteConfig
from monitor.classify.watchlist import Rule, Watchlist
from monitor.errors import ConfigError
from monitor.fetch.safety import is_unsafe
from monitor.fetch.settings import FeedConfig
from monitor.fetch.urls import canonical_url
from monitor.yamlfile import item_at_line, line_of, load_yaml_env

DEFAULT_ROUTE = "default"  # where a rule without `routes:` alerts (the watchlist schema's default)


def where(path: Path, data: Any, loc: Sequence[str | int]) -> str:
    """``file:line: key`` for a key path in loaded YAML."""
    line = line_of(data, loc)
    key = ".".join(str(p) for p in loc)
    return f"{path}:{line}: {key}" if line else f"{path}: {key}"


def channels_by_name(path: Path, data: Any, routes: Mapping[str, RouteConfig]) -> list[str]:
    """Slack routes whose channel is a name: a retry after a lost reply can look for the
    message it may have posted only in a channel it knows the ID of. The ID is looked up
    before the first post (conversations.list, else a scheduled message deleted at once);
    check-config does not contact Slack, so it cannot tell whether that will work."""
    return [
        f"{where(path, data, ['alerts', 'routes', name, 'channel'])}: {route.channel!r} is a "
        "name: its ID is looked up before the first post (conversations.list with the "
        "channels:read and groups:read scopes, else a scheduled message deleted at once), "
        "so that a retry after a lost reply can look for the message instead of posting "
        "the alert twice; `monitor run` and `monitor test-alert` say if neither lookup "
        "works. Configuring the channel ID (C0123...) avoids the lookup"
        for name, route in sorted(routes.items())
        if route.type == "slack" and route.channel and not CHANNEL_ID.match(route.channel)
    ]


def duplicate_feeds(path: Path, data: Any, feeds: Sequence[FeedConfig]) -> list[str]:
    """A feed listed twice would be polled as one (its state has one row) with whichever
    name and headers came last: say so instead of guessing which the user meant."""
    first: dict[str, int] = {}
    errors = []
    for i, feed in enumerate(feeds):
        key = canonical_url(feed.url)
        if key not in first:
            first[key] = i
            continue
        earlier = first[key]
        line = line_of(data, ["feeds", earlier])
        errors.append(
            f"{where(path, data, ['feeds', i, 'url'])}: {feed.url!r} is already listed as "
            f"feeds.{earlier}" + (f" (line {line})" if line else "") + "; list each feed once"
        )
    return errors


def unknown_routes(
    path: Path, routes: Collection[str], watchlist: Watchlist, *, unavailable: Collection[str]
) -> list[str]:
    """Rules may only name routes that monitor.yaml defines (a route whose secret is not set
    in this environment is defined; commands that send say that it is unset)."""
    known = set(routes) | set(unavailable)
    allowed = ", ".join(sorted(known)) or "none"
    errors = []
    for rule in watchlist.rules:
        for route in rule.routes:
            if route not in known:
                errors.append(_unknown_route(path, rule, route, allowed))
    return errors


def _unknown_route(path: Path, rule: Rule, route: str, allowed: str) -> str:
    defined = f"alerts.routes in {path.name} defines: {allowed}"
    file, index, data = _rule_location(rule)
    if index is None:
        return f"{rule.source}: rule {rule.id!r}: unknown route {route!r}; {defined}"
    written = data["rules"][index].get("routes")
    if written is None:
        # The schema filled in the default: the user never wrote the route's name.
        return (
            f"{where(file, data, ['rules', index])}: rule {rule.id!r} names no routes, so it "
            f"alerts to {route!r}, an unknown route; {defined} (add a {route!r} route or give "
            "the rule `routes:`)"
        )
    loc: list[str | int] = ["rules", index, "routes"]
    if route in written:
        loc.append(list(written).index(route))
    return f"{where(file, data, loc)}: rule {rule.id!r}: unknown route {route!r}; {defined}"


def _rule_location(rule: Rule) -> tuple[Path, int | None, Any]:
    """(file, index under ``rules:``, loaded YAML) of a rule, from its ``file:line`` source.
    The file is read again only to name the key of an error: any problem means no key."""
    file, _, line = rule.source.rpartition(":")
    try:
        data, _ = load_yaml_env(Path(file))
        return Path(file), item_at_line(data["rules"], int(line)), data
    except (ConfigError, KeyError, TypeError, ValueError):
        return Path(file), None, None


def idle_routes(path: Path, data: Any, routes: Collection[str], watchlist: Watchlist) -> list[str]:
    """Routes no rule names: nothing would ever be sent there. A warning, not an error: a
    route may be kept for `monitor test-alert` or while its rules are being written."""
    if not watchlist.rules:
        return [f"{path}: the watchlists define no rules, so articles are stored but never alert"]
    named = {route for rule in watchlist.rules for route in rule.routes}
    return [
        f"{where(path, data, ['alerts', 'routes', name])}: no rule names this route, so "
        f"nothing is sent there (a rule without `routes:` alerts to {DEFAULT_ROUTE!r})"
        for name in sorted(set(routes) - named)
    ]


def refused_feeds(path: Path, data: Any, feeds: Sequence[FeedConfig], allowed: bool) -> list[str]:
    """Feeds whose URL names a loopback or private address outright, while the fetcher's
    guard refuses such addresses: every poll would fail, and check-config said OK. A warning,
    not an error: the guard is right to refuse, and only the operator knows the feed is theirs.
    Host names are not resolved here (the answer may differ at run time)."""
    if allowed:
        return []
    return [
        f"{where(path, data, ['feeds', i, 'url'])}: {host} is not a public address, so every "
        "poll of this feed will be refused; for a feed on your own network or machine set "
        "fetch.allow_private_addresses: true"
        for i, feed in enumerate(feeds)
        if (host := _private_host(feed.url))
    ]


def _private_host(url: str) -> str | None:
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return host
    try:
        return host if is_unsafe(ipaddress.ip_address(host)) else None
    except ValueError:
        return None
