"""Where alerts go. A sink is a constructor and one ``send(outgoing) -> Delivered``.

Sinks raise only ``NotifyError`` subclasses:

    NotifyError              retry later (timeouts, 5xx, resets); the send may have landed
     +-- RateLimited         429: retry after ``retry_after`` seconds
     +-- PermanentNotifyError  this message can never be sent (msg_too_long, bad payload)
          +-- RouteBroken    nothing on this route can be sent until an operator fixes it
                             (invalid_auth, channel_not_found, is_archived): the route
                             pauses and its alerts wait, they do not fail
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from typing import IO, Any, Protocol

import httpx

from monitor.alert.render import SlackMessage, console_text, plain_text
from monitor.errors import NotifyError, PermanentNotifyError


class RateLimited(NotifyError):
    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RouteBroken(PermanentNotifyError):
    """The route itself is misconfigured; every alert on it would fail the same way."""

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code  # Slack's error code (missing_scope, ...), when Slack gave one


@dataclass(frozen=True, slots=True)
class MessageRef:
    channel: str
    ts: str


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One send. ``alert_ids[0]`` identifies it; digests carry every alert they cover."""

    alert_ids: tuple[int, ...]
    kind: str  # new | update | digest | test
    story_id: int | None
    message: SlackMessage  # what is posted (for an update: the thread reply / follow-up)
    payload: dict[str, Any] = field(default_factory=dict)  # generic webhook body
    parent: SlackMessage | None = None  # update: the story message, re-rendered in place
    thread: MessageRef | None = None  # update: the story's message on this route
    maybe_sent: bool = False  # an earlier attempt may have landed: look before sending
    compact: SlackMessage | None = None  # used if Slack says msg_too_long
    channel_id: str | None = None  # the route's channel id, when known from earlier sends
    shown: dict[str, Any] | None = None  # the story as this send shows it (changes.Shown)

    @property
    def alert_id(self) -> int:
        return self.alert_ids[0]


@dataclass(frozen=True, slots=True)
class Delivered:
    channel: str | None = None
    ts: str | None = None
    alert_ids: tuple[int, ...] | None = None  # found already posted: the ids it covered
    found_existing: bool = False


class Sink(Protocol):
    exactly_once: bool  # True when the sink can look a message up before re-sending
    channel_key: str  # what Slack's per-channel rate limit applies to

    def send(self, outgoing: Outgoing) -> Delivered: ...


def webhook_body(outgoing: Outgoing) -> dict[str, Any]:
    """Incoming-webhook JSON; the alert id rides along so receivers can drop repeats."""
    return {
        "text": outgoing.message.text,
        "blocks": list(outgoing.message.blocks),
        "metadata": {
            "event_type": "monitor_alert",
            "event_payload": {"alert_id": outgoing.alert_id},
        },
    }


class ConsoleSink:
    """Prints alerts as plain text (no Slack markup), to stderr by default so ``--json``
    output on stdout stays parseable."""

    exactly_once = False

    def __init__(self, stream: IO[str] | None = None, name: str = "console") -> None:
        self._stream = stream
        self.channel_key = f"console:{name}"

    def send(self, outgoing: Outgoing) -> Delivered:
        stream = self._stream or sys.stderr
        head = f"{'─' * 60}\n[{outgoing.kind} alert {outgoing.alert_id}]"
        print(f"{head}\n{console_text(outgoing.message)}", file=stream)
        stream.flush()
        return Delivered()


class WebhookSink:
    """A generic JSON POST; at least once: ``Idempotency-Key`` lets receivers drop repeats."""

    exactly_once = False

    def __init__(
        self, url: str, *, http: httpx.Client | None = None, timeout: float = 10.0
    ) -> None:
        self._url = url
        self._http = http or httpx.Client(timeout=timeout)
        self.channel_key = f"webhook:{url}"
        # Webhook URLs often carry a secret in their path or query: name only the host.
        self._where = f"webhook {httpx.URL(url).scheme}://{httpx.URL(url).netloc.decode()}"

    def send(self, outgoing: Outgoing) -> Delivered:
        headers = {"Idempotency-Key": f"monitor-alert-{outgoing.alert_id}"}
        try:
            response = self._http.post(self._url, json=outgoing.payload, headers=headers)
        except httpx.HTTPError as exc:
            raise NotifyError(f"{self._where}: {exc.__class__.__name__}") from exc
        raise_for_http_status(
            response.status_code, response.headers, response.text[:200], self._where
        )
        return Delivered()


def raise_for_http_status(status: int, headers: Any, body: str, where: str) -> None:
    """HTTP status to our errors: 429 waits, 5xx retries, a gone/forbidden target is broken."""
    if 200 <= status < 300:
        return
    detail = f"{where}: HTTP {status} {body.strip()}".strip()
    if status == 429:
        raise RateLimited(detail, retry_after_seconds(headers))
    if status in (408, 425) or status >= 500:
        raise NotifyError(detail)
    if status in (401, 403, 404, 410):
        raise RouteBroken(detail)
    raise PermanentNotifyError(detail)


def retry_after_seconds(headers: Any, default: float = 30.0) -> float:
    value = headers.get("Retry-After") if headers is not None else None
    try:
        return max(0.0, float(value)) if value is not None else default
    except (TypeError, ValueError):
        return default


def json_payload(outgoing: Outgoing, story: dict[str, Any] | None) -> dict[str, Any]:
    """The generic webhook body: machine-readable story plus the rendered text."""
    return {
        "alert_id": outgoing.alert_id,
        "alert_ids": list(outgoing.alert_ids),
        "kind": outgoing.kind,
        "story": story,
        "text": outgoing.message.text,
        "body": plain_text(outgoing.message),
    }


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)
