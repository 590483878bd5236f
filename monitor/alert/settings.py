"""Configuration of alert routes (the `alerts:` section)."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from monitor.types import Severity
from monitor.units import Duration

SLACK_API_URL = "https://slack.com/api/"


class QuietHours(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    start: str = Field(pattern=r"^\d{2}:\d{2}$")  # "22:00"
    end: str = Field(pattern=r"^\d{2}:\d{2}$")  # "07:00"
    timezone: str = "UTC"


class RouteConfig(BaseModel):
    """One destination. ``type`` decides which of the other keys are required."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["slack", "slack_webhook", "webhook", "console"]
    channel: str | None = None  # slack: channel id or name
    token: str | None = None  # slack: bot token (xoxb-...), usually ${SLACK_BOT_TOKEN}
    api_url: str | None = None  # slack: default $SLACK_API_URL or Slack's
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
        return self


class AlertsSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # Entries published longer ago are stored but never alerted (a new feed's backlog).
    max_age: Duration = timedelta(days=2)
    # Webhook routes cannot edit a message: at most one follow-up per story this often.
    update_cooldown: Duration = timedelta(minutes=30)
    routes: dict[str, RouteConfig] = Field(default_factory=dict)
