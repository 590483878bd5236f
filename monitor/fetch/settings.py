"""Configuration of feeds and of the polite fetcher (the `feeds:` and `fetch:` sections)."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from monitor.units import ByteSize, Duration, PositiveDuration


class FeedConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str = Field(min_length=1)
    name: str | None = None  # outlet name shown in alerts; defaults to the feed's title
    interval: PositiveDuration | None = None  # fixed interval (still bounded); default: adaptive
    paused: bool = False
    headers: dict[str, str] = Field(default_factory=dict)  # e.g. an API key

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{url!r} is not an http(s) URL")
        return url


class FetchSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    user_agent: str = "monitor/0.1 (+https://github.com/monitor-news/monitor)"
    interval: PositiveDuration = timedelta(minutes=15)
    min_interval: PositiveDuration = timedelta(minutes=5)
    max_interval: PositiveDuration = timedelta(hours=6)
    # Adapt each feed's interval to how often it published in the last week.
    adaptive: bool = True
    # Fraction of an interval added or removed at random, so feeds do not fire together.
    jitter: float = Field(default=0.1, ge=0, le=0.5)
    # Errors back off exponentially from `interval` up to this cap; a feed is never disabled.
    max_backoff: PositiveDuration = timedelta(hours=12)
    # Longest Retry-After (429/503) honoured; a larger value is cut down to this.
    max_retry_after: Duration = timedelta(hours=6)
    connect_timeout: PositiveDuration = timedelta(seconds=10)
    read_timeout: PositiveDuration = timedelta(seconds=20)
    deadline: PositiveDuration = timedelta(seconds=60)  # whole request, however slowly bytes drip
    max_body_size: ByteSize = 10 * 2**20  # counted after decompression
    max_redirects: int = Field(default=10, ge=0)
    # New entries handed on per poll of one feed, oldest first; the rest are stored as
    # the feed's backlog and handed on by the following polls (each after min_interval)
    # without downloading the feed again; never dropped.
    max_entries_per_poll: int = Field(default=200, ge=1)
    # Most entries stored as one feed's backlog. Beyond it the rest stay in the feed, unseen:
    # once the backlog is worked off the feed is downloaded again in full (no validators)
    # and they come then. 0 stores nothing (every poll downloads the feed again).
    max_backlog_per_feed: int = Field(default=50_000, ge=0)
    concurrency: int = Field(default=50, ge=1)
    per_host: int = Field(default=4, ge=1)
    allow_private_addresses: bool = False
    # How long a host's checked addresses are reused (one DNS lookup per host and TTL).
    dns_ttl: Duration = timedelta(seconds=60)
    proxy: str | None = None
    ca_bundle: str | None = None

    @field_validator("proxy")
    @classmethod
    def _proxy_url(cls, proxy: str | None) -> str | None:
        if proxy is None:
            return None
        parts = urlsplit(proxy)
        if parts.scheme not in ("http", "https", "socks5", "socks5h") or not parts.hostname:
            raise ValueError(f"{proxy!r} is not an http(s):// or socks5:// proxy URL")
        return proxy

    @model_validator(mode="after")
    def _interval_bounds(self) -> FetchSettings:
        if self.min_interval > self.max_interval:
            raise ValueError(
                f"min_interval ({self.min_interval}) is longer than max_interval "
                f"({self.max_interval})"
            )
        return self
