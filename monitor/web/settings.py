"""Configuration of the health server (the `web:` section)."""

from __future__ import annotations

import ipaddress
import re

from pydantic import BaseModel, ConfigDict, field_validator

# A host name as DNS allows it (letters, digits, hyphens, dots); an IPv4 address matches too.
_HOSTNAME = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$")


class WebSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    # host:port; an empty host ("":8080) listens on every interface, [::1]:8080 on IPv6.
    listen: str = "127.0.0.1:8080"

    @field_validator("listen")
    @classmethod
    def _host_and_port(cls, value: str) -> str:
        split_listen(value)
        return value

    @property
    def address(self) -> tuple[str, int]:
        """(host, port) to bind; every interface when the host is empty."""
        host, port = split_listen(self.listen)
        return host or "0.0.0.0", port


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
