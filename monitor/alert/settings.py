"""Configuration of alert routes (the `alerts:` section)."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from datetime import timedelta
from typing import Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from monitor.errors import ConfigError
from monitor.types import Severity
from monitor.units import Duration, PositiveDuration

SLACK_API_URL = "https://slack.com/api/"
CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{6,}$")  # a Slack channel ID, not a name ("#alerts")


class QuietHours(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    start: str = Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")  # "22:00"
    end: str = Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")  # "07:00"
    timezone: str = "UTC"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                f"unknown time zone {value!r}; use an IANA name like Europe/Berlin"
            ) from exc
        return value


# The keys only some route types read, and which types read them.
_TYPE_KEYS = ("channel", "token", "api_url", "workspace_url", "url")
_TYPE_KEYS_USED = {
    "slack": frozenset({"channel", "token", "api_url", "workspace_url"}),
    "slack_webhook": frozenset({"url"}),
    "webhook": frozenset({"url"}),
    "console": frozenset(),
}


class RouteConfig(BaseModel):
    """One destination. ``type`` decides which of the other keys are required."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["slack", "slack_webhook", "webhook", "console"]
    channel: str | None = None  # slack: channel id or name
    token: str | None = None  # slack: bot token (xoxb-...), usually ${SLACK_BOT_TOKEN}
    api_url: str | None = None  # slack: default $SLACK_API_URL or Slack's
    # slack: the workspace's address (https://acme.slack.com), so the console can link to
    # each alert's message; without it the console shows the channel and ts only.
    workspace_url: str | None = None
    url: str | None = None  # slack_webhook / webhook: where to POST
    min_severity: Severity = "info"
    quiet_hours: QuietHours | None = None
    digest: Duration | None = None  # send a summary this often instead of immediately

    @model_validator(mode="after")
    def _required_keys(self) -> RouteConfig:
        need = {"slack": ("channel", "token"), "slack_webhook": ("url",), "webhook": ("url",)}
        missing = [k for k in need.get(self.type, ()) if not getattr(self, k)]
        if missing:
            raise ValueError(f"a {self.type} route needs {', '.join(missing)}")
        # A key of another type would be silently ignored: a webhook's `channel` (it posts
        # where it was created) or a console route's `token` promise what does not happen.
        stray = [k for k in _TYPE_KEYS if k not in _TYPE_KEYS_USED[self.type] and getattr(self, k)]
        if stray:
            raise ValueError(
                f"a {self.type} route does not use {', '.join(stray)}"
                + (" (an incoming webhook posts to the channel it was made for)"
                   if self.type == "slack_webhook" and "channel" in stray else "")
            )  # fmt: skip
        if self.workspace_url is not None and not _web_address(self.workspace_url):
            raise ValueError(f"workspace_url {self.workspace_url!r} is not an http(s) URL")
        if self.digest is not None and self.digest < timedelta(minutes=1):
            raise ValueError("digest must be at least 1m")
        return self

    def permalink(self, channel: str | None, ts: str | None) -> str | None:
        """Slack's link to a message, when the workspace and where it landed are known."""
        if not (self.type == "slack" and self.workspace_url and channel and ts):
            return None
        return f"{self.workspace_url.rstrip('/')}/archives/{channel}/p{ts.replace('.', '')}"

    def slack_api_url(self, environ: Mapping[str, str] | None = None) -> str:
        env = os.environ if environ is None else environ
        url = self.api_url or env.get("SLACK_API_URL") or SLACK_API_URL
        return url if url.endswith("/") else url + "/"


class DispatchSettings(BaseModel):
    """How the dispatcher paces and retries deliveries."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # Slack allows about one message per second per channel.
    channel_interval: Duration = timedelta(seconds=1.1)
    # Retry delays grow base * 2**attempt (with jitter) up to max; then the alert fails.
    retry_base: Duration = timedelta(seconds=5)
    retry_max: Duration = timedelta(minutes=30)
    max_attempts: int = Field(default=12, ge=1)
    request_timeout: PositiveDuration = timedelta(seconds=10)
    # A crashed dispatcher's claim on an alert expires after this long.
    lease: PositiveDuration = timedelta(minutes=2)
    # After invalid_auth / channel_not_found a route is not tried again for this long.
    permanent_error_pause: Duration = timedelta(minutes=15)
    # Its alerts wait (using up no attempts) until the route works again, or until they
    # were queued this long ago: then they fail (`monitor alerts retry` queues them again).
    # Three days see a token revoked on a Friday evening through the weekend.
    broken_route_max_wait: PositiveDuration = timedelta(days=3)
    batch_size: int = Field(default=100, ge=1)


class AlertsSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # Entries published longer ago are stored but never alerted (a new feed's backlog).
    max_age: PositiveDuration = timedelta(days=2)
    # Webhook routes cannot edit a message: at most one follow-up per story this often.
    update_cooldown: Duration = timedelta(minutes=30)
    routes: dict[str, RouteConfig] = Field(default_factory=dict)
    dispatch: DispatchSettings = DispatchSettings()


def routes_from_env(environ: Mapping[str, str]) -> dict[str, RouteConfig]:
    """Routes the demo gets from the environment: a bot token + channel, or a webhook URL.

    ``SLACK_BOT_TOKEN`` + ``SLACK_CHANNEL`` give route ``slack`` (``SLACK_API_URL`` optional);
    ``SLACK_WEBHOOK_URL`` gives route ``slack_webhook``. Nothing set gives ``{}``.
    """
    routes: dict[str, RouteConfig] = {}
    token, channel = environ.get("SLACK_BOT_TOKEN"), environ.get("SLACK_CHANNEL")
    if bool(token) != bool(channel):
        missing = "SLACK_CHANNEL" if token else "SLACK_BOT_TOKEN"
        raise ConfigError(
            f"a Slack bot route needs SLACK_BOT_TOKEN and SLACK_CHANNEL; {missing} is not set"
        )
    token, channel = environ.get("SLACK_BOT_TOKEN"), environ.get("SLACK_CHANNEL")
    if token and channel:
        routes["slack"] = RouteConfig(
            type="slack", token=token, channel=channel, api_url=environ.get("SLACK_API_URL")
        )
    if url := environ.get("SLACK_WEBHOOK_URL"):
        routes["slack_webhook"] = RouteConfig(type="slack_webhook", url=url)
    return routes


def _web_address(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.hostname)
