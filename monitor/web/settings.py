"""Configuration of the web server (the `web:` section): where it listens, who may use it."""

from __future__ import annotations

import ipaddress
import re

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

# A host name as DNS allows it (letters, digits, hyphens, dots); an IPv4 address matches too.
_HOSTNAME = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$")
_HEADER = re.compile(r"^[A-Za-z0-9-]+$")
_HASH = re.compile(r"^scrypt\$\d+\$\d+\$\d+\$[0-9a-f]+\$[0-9a-f]+$")


class WebUser(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    username: str = Field(min_length=1, max_length=64)
    password_hash: str  # from `monitor web hash-password`; never the password itself

    _hashed = field_validator("password_hash")(lambda v: _check_hash(v))


class ApiToken(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=64)  # who uses it, for the audit log
    token_hash: str  # from `monitor web hash-password` given the token

    _hashed = field_validator("token_hash")(lambda v: _check_hash(v))


class ProxyLogin(BaseModel):
    """Logins done by a reverse proxy (oauth2-proxy, Authelia, ...) that names the user in a
    header. The header is believed only from the proxies listed: from any other address a
    request is refused, so nobody can name themselves by sending the header directly."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    header: str = Field(min_length=1, max_length=64)  # e.g. X-Forwarded-User
    trusted_proxies: list[str] = Field(min_length=1)  # addresses or networks (10.0.0.0/8)

    @field_validator("header")
    @classmethod
    def _header_name(cls, value: str) -> str:
        if not _HEADER.match(value):
            raise ValueError(f"{value!r} is not an HTTP header name (letters, digits, hyphens)")
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, values: list[str]) -> list[str]:
        for value in values:
            try:
                ipaddress.ip_network(value, strict=False)
            except ValueError as exc:
                raise ValueError(f"{value!r} is not an IP address or network") from exc
        return values

    def trusts(self, address: str | None) -> bool:
        """Whether ``address`` (the connecting peer) is one of the trusted proxies."""
        try:
            peer = ipaddress.ip_address(address or "")
        except ValueError:
            return False
        return any(peer in ipaddress.ip_network(n, strict=False) for n in self.trusted_proxies)


class WebSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    # host:port; an empty host ("":8080) listens on every interface, [::1]:8080 on IPv6.
    listen: str = "127.0.0.1:8080"
    # The console and /api/v1; off leaves only /healthz, /readyz, /metrics and /status.
    console: bool = True
    users: list[WebUser] = Field(default_factory=list)
    api_tokens: list[ApiToken] = Field(default_factory=list)
    # Logins made by a reverse proxy in front of the console (see ProxyLogin).
    proxy_login: ProxyLogin | None = None
    # Signs session cookies; unset, a random key per process (logins end on restart).
    secret_key: str | None = Field(default=None, min_length=16)

    @field_validator("listen")
    @classmethod
    def _host_and_port(cls, value: str) -> str:
        split_listen(value)
        return value

    @model_validator(mode="after")
    def _open_only_on_loopback(self) -> WebSettings:
        if self.enabled and self.console and not self.login_required:
            host, _ = split_listen(self.listen)
            if not is_loopback(host):
                raise ValueError(
                    f"web.listen {self.listen!r} is reachable from other machines but no "
                    "web.users or web.api_tokens are configured, so anyone could read and "
                    "correct stories: add users (hash passwords with `monitor web "
                    "hash-password`), listen on 127.0.0.1, or set web.console: false"
                )
        return self

    @property
    def login_required(self) -> bool:
        return bool(self.users or self.api_tokens or self.proxy_login)

    @property
    def address(self) -> tuple[str, int]:
        """(host, port) to bind; every interface when the host is empty."""
        host, port = split_listen(self.listen)
        return host or "0.0.0.0", port


def _check_hash(value: str) -> str:
    if not _HASH.match(value):
        raise ValueError("not a hash: make one with `monitor web hash-password`")
    return value


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # empty (every interface) or another host name
        return False


def split_listen(value: str) -> tuple[str, int]:
    """``host:port`` -> (host, port); ValueError saying what is wrong (checked at start-up,
    so a typo is a configuration error and not a traceback when the server binds)."""
    host, sep, port_text = value.strip().rpartition(":")
    if not sep:
        raise ValueError(f"{value!r} is not host:port (e.g. 127.0.0.1:8080 or 0.0.0.0:8080)")
    if not port_text.isdigit():
        raise ValueError(f"port {port_text!r} in {value!r} is not a number")
    port = int(port_text)
    if port > 65535:
        raise ValueError(f"port {port} in {value!r} is out of range (0-65535)")
    if host.startswith("["):
        if not host.endswith("]"):
            raise ValueError(f"{value!r}: an IPv6 host is written [::1]:8080")
        host = host[1:-1]
        try:
            ipaddress.IPv6Address(host)
        except ValueError as exc:
            raise ValueError(f"{host!r} in {value!r} is not an IPv6 address") from exc
    elif host and not _HOSTNAME.match(host):
        raise ValueError(
            f"host {host!r} in {value!r} is not a host name or address"
            + (" (write an IPv6 address in brackets: [::1]:8080)" if ":" in host else "")
        )
    return host, port
