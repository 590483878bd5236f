"""Slack sinks: a bot token (post, edit in place, thread replies; exactly once) and an
incoming webhook (post only; at least once).

Exactly once with a bot token: every message carries ``metadata.event_payload.alert_id``.
When an earlier attempt may have landed (crash, timeout, dropped reply), we first look for
that id in the channel (``conversations.history``) or thread (``conversations.replies``)
and re-send only if it is not there. ``conversations.history`` takes only a channel ID, so a
channel configured by name ("#alerts") is looked up once with ``conversations.list`` before
the first post (this needs the channels:read and groups:read scopes). Where that cannot
find it (a token without those scopes; a private channel, which lists only once the bot is
in it) the ID is learnt without posting anything: ``chat.scheduleMessage`` takes a channel
name and answers with its ID, and the probe it scheduled is deleted at once. A probe whose
reply was lost is found again with ``chat.scheduledMessages.list`` (which needs no scope)
and deleted then, so no probe is ever posted.
"""

from __future__ import annotations

import http.client
import logging
import urllib.error
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient

from monitor.alert.render import SlackMessage
from monitor.alert.settings import CHANNEL_ID
from monitor.alert.sinks import (
    Delivered,
    MessageRef,
    Outgoing,
    RateLimited,
    RouteBroken,
    raise_for_http_status,
    retry_after_seconds,
)
from monitor.errors import NotifyError, PermanentNotifyError

log = logging.getLogger(__name__)

EVENT_TYPE = "monitor_alert"
ROUTE_ERRORS = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "channel_not_found",
        "is_archived",
        "not_in_channel",
        "missing_scope",
        "no_permission",
        "team_access_not_granted",
        "ekm_access_denied",
    }
)
MESSAGE_ERRORS = frozenset({
    "msg_too_long", "invalid_blocks", "invalid_arguments", "no_text", "invalid_metadata_format",
    # the story's message was deleted or can no longer be edited: skip the edit, still reply
    "message_not_found", "cant_update_message", "edit_window_closed",
})  # fmt: skip
NETWORK_ERRORS = (OSError, urllib.error.URLError, http.client.HTTPException, TimeoutError)
MAX_PAGES = 10  # an earlier send is recent: the newest 2,000 messages are searched
LIST_PAGES = 100  # conversations.list, 200 a page: a workspace's first 20,000 channels
LIST_SCOPES = "channels:read,groups:read"  # conversations.list of public + private channels
PROBE_AHEAD = timedelta(days=30)  # a probe is deleted at once; were it not, it posts then


def call(fn: Callable[..., Any], what: str, **kwargs: Any) -> Any:
    """One Web API call with Slack's and the network's failures mapped to our errors."""
    try:
        return fn(**kwargs)
    except SlackApiError as exc:
        response = exc.response
        error = str(response.get("error") or f"HTTP {response.status_code}")
        if response.status_code == 429 or error == "ratelimited":
            raise RateLimited(
                f"{what}: rate limited", retry_after_seconds(response.headers)
            ) from exc
        if error in ROUTE_ERRORS:
            needed = response.get("needed") if error == "missing_scope" else None
            detail = f"{what}: {error}" + (f" (needed: {needed})" if needed else "")
            raise RouteBroken(detail, code=error) from exc
        if error in MESSAGE_ERRORS:
            raise PermanentNotifyError(f"{what}: {error}") from exc
        raise NotifyError(f"{what}: {error}") from exc
    except NETWORK_ERRORS as exc:
        raise NotifyError(f"{what}: {exc.__class__.__name__}: {exc}") from exc
    except ValueError as exc:  # a reply that is not JSON (a proxy's error page)
        raise NotifyError(f"{what}: unreadable reply: {exc}") from exc


class SlackSink:
    exactly_once = True

    def __init__(
        self,
        *,
        token: str,
        channel: str,
        api_url: str,
        timeout: float = 10.0,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        # No SDK retries: a blind retry after a dropped reply is exactly how duplicates happen.
        self.client = WebClient(
            token=token, base_url=api_url, timeout=int(max(1, timeout)), retry_handlers=[]
        )
        self.channel = channel
        self.channel_key = f"slack:{api_url}:{channel}"
        self._channel_id = channel if CHANNEL_ID.match(channel) else None
        self._looked_up = False  # the ID was asked for once (found or not)
        self._clock = clock or (lambda: datetime.now(UTC))
        # Why a lost reply on this route could repeat an alert, once that is known.
        self.channel_note: str | None = None

    def verify(self) -> str:
        """auth.test; returns who we are, raises RouteBroken with Slack's reason."""
        data = call(self.client.auth_test, "auth.test")
        user = data.get("user") or data.get("user_id")
        return f"{user} in {data.get('team') or data.get('team_id')}"

    def channel_id(self) -> str | None:
        """The channel's ID: configured, learnt from a post, or else looked up by name (the
        list of channels, then a deleted probe), once. Raises NotifyError when Slack cannot
        answer now (then asks again)."""
        if self._channel_id is None and not self._looked_up:
            self._channel_id = self._look_up_channel() or self._probe_channel()
            self._looked_up = True
        return self._channel_id

    def _look_up_channel(self) -> str | None:
        name = self.channel.lstrip("#").lower()
        cursor = None
        for _ in range(LIST_PAGES):
            try:
                data = call(
                    self.client.conversations_list,
                    "conversations.list",
                    types="public_channel,private_channel",
                    exclude_archived=True,
                    limit=200,
                    cursor=cursor,
                )
            except RouteBroken as exc:
                if exc.code != "missing_scope":
                    raise
                return None  # the probe finds it
            for found in data.get("channels") or ():
                if str(found.get("name") or "").lower() == name and found.get("id"):
                    return str(found["id"])
            cursor = (data.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                break
        return None  # e.g. a private channel: it lists only once the bot is in it

    def _probe_channel(self) -> str | None:
        """The channel's ID from ``chat.scheduleMessage``, which takes a name; the probe it
        schedules is deleted at once, and one left by a lost reply or a crash is found (by
        its text, which names the channel) and deleted first. None when Slack does not let
        us list scheduled messages: then a lost reply on the first post could repeat it."""
        text = f"monitor: finding the ID of channel {self.channel} (never posted)"
        try:
            probes = self._scheduled_probes(text)
        except RouteBroken as exc:
            if exc.code != "missing_scope":
                raise
            self._cannot_look_up(
                f"its ID can be neither listed nor probed ({exc}): posting works, but if "
                "Slack accepts a message and its reply is lost, the retry cannot look for "
                "it and the alert may be posted twice. Add the channels:read and "
                "groups:read scopes to the Slack app, or configure the channel by its ID "
                "(C0123...)"
            )
            return None
        if not probes:
            post_at = int((self._clock() + PROBE_AHEAD).timestamp())
            data = call(
                self.client.chat_scheduleMessage, "chat.scheduleMessage",
                channel=self.channel, post_at=post_at, text=text,
            )  # fmt: skip
            probes = [(str(data["channel"]), str(data["scheduled_message_id"]))]
        for channel, probe_id in probes:
            self._delete_probe(channel, probe_id)
        return probes[0][0]

    def _scheduled_probes(self, text: str) -> list[tuple[str, str]]:
        """(channel ID, scheduled message id) of every probe for this channel still waiting."""
        found, cursor = [], None
        for _ in range(LIST_PAGES):
            data = call(
                self.client.chat_scheduledMessages_list, "chat.scheduledMessages.list",
                limit=100, cursor=cursor,
            )  # fmt: skip
            found += [
                (str(m["channel_id"]), str(m["id"]))
                for m in data.get("scheduled_messages") or ()
                if m.get("text") == text and m.get("channel_id") and m.get("id")
            ]
            cursor = (data.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                break
        return found

    def _delete_probe(self, channel: str, probe_id: str) -> None:
        try:
            call(
                self.client.chat_deleteScheduledMessage, "chat.deleteScheduledMessage",
                channel=channel, scheduled_message_id=probe_id,
            )  # fmt: skip
        except NotifyError as exc:
            if "invalid_scheduled_message_id" not in str(exc):  # another replica's delete won
                raise

    def _cannot_look_up(self, why: str) -> None:
        """Said once per route: the lookup is not tried again, so neither is the warning."""
        self.channel_note = f"channel {self.channel!r}: {why}"
        log.warning("%s", self.channel_note, extra={"channel": self.channel})

    def send(self, outgoing: Outgoing) -> Delivered:
        if outgoing.thread is not None:
            return self._update(outgoing, outgoing.thread)
        self.channel_id()  # before the first post: a retry after a lost reply needs it
        # The outbox's ID for this route (``outgoing.channel_id``) is where its earlier
        # messages went; it only helps look for a lost post. It never picks where a new one
        # goes: the route may now name another channel ("#alerts" changed to "#ops").
        if outgoing.maybe_sent and (found := self._find_in_channel(outgoing)):
            return found
        return self._post(outgoing, thread_ts=None)

    def _update(self, outgoing: Outgoing, thread: MessageRef) -> Delivered:
        if outgoing.parent is not None:
            try:  # editing is idempotent: re-applying it after a crash is harmless
                call(
                    self.client.chat_update,
                    "chat.update",
                    channel=thread.channel,
                    ts=thread.ts,
                    text=outgoing.parent.text,
                    blocks=list(outgoing.parent.blocks),
                )
            except PermanentNotifyError as exc:
                if isinstance(exc, RouteBroken):
                    raise
                log.warning(
                    "story message not updated: %s", exc, extra={"alert_id": outgoing.alert_id}
                )
        if outgoing.maybe_sent and (found := self._find_in_thread(outgoing, thread)):
            return found
        return self._post(outgoing, thread_ts=thread.ts, channel=thread.channel)

    def _post(
        self, outgoing: Outgoing, *, thread_ts: str | None, channel: str | None = None
    ) -> Delivered:
        target = channel or self._channel_id or self.channel
        try:
            data = self._post_message(target, outgoing, outgoing.message, thread_ts)
        except PermanentNotifyError as exc:
            if "msg_too_long" not in str(exc) or outgoing.compact is None:
                raise
            data = self._post_message(target, outgoing, outgoing.compact, thread_ts)
        self._channel_id = self._channel_id or data.get("channel")
        return Delivered(channel=data.get("channel"), ts=data.get("ts"))

    def _post_message(
        self, channel: str, outgoing: Outgoing, message: SlackMessage, thread_ts: str | None
    ) -> Any:
        metadata = {
            "event_type": EVENT_TYPE,
            "event_payload": {
                "alert_id": outgoing.alert_id,
                "alert_ids": list(outgoing.alert_ids),
                "story_id": outgoing.story_id,
                "kind": outgoing.kind,
            },
        }
        kwargs: dict[str, Any] = {
            "channel": channel,
            "text": message.text,
            "blocks": list(message.blocks),
            "metadata": metadata,
            "unfurl_links": False,
            "unfurl_media": False,
        }
        if thread_ts:
            kwargs["thread_ts"] = thread_ts
        return call(self.client.chat_postMessage, "chat.postMessage", **kwargs)

    def _find_in_channel(self, outgoing: Outgoing) -> Delivered | None:
        channel = self._channel_id or outgoing.channel_id
        if channel is None:
            log.warning(
                "channel id unknown, cannot check for an earlier send; sending again "
                "(configure the channel by its ID, or grant channels:read and groups:read)",
                extra={"alert_id": outgoing.alert_id, "channel": self.channel},
            )
            return None
        return self._search(
            self.client.conversations_history,
            "conversations.history",
            outgoing,
            channel=channel,
        )

    def _find_in_thread(self, outgoing: Outgoing, thread: MessageRef) -> Delivered | None:
        return self._search(
            self.client.conversations_replies,
            "conversations.replies",
            outgoing,
            channel=thread.channel,
            ts=thread.ts,
        )

    def _search(
        self, fn: Callable[..., Any], what: str, outgoing: Outgoing, **kwargs: Any
    ) -> Delivered | None:
        cursor = None
        for _ in range(MAX_PAGES):
            data = call(fn, what, include_all_metadata=True, limit=200, cursor=cursor, **kwargs)
            for message in data.get("messages") or ():
                payload = (message.get("metadata") or {}).get("event_payload") or {}
                if str(payload.get("alert_id")) == str(outgoing.alert_id):
                    ids = tuple(int(i) for i in payload.get("alert_ids") or (outgoing.alert_id,))
                    return Delivered(
                        channel=kwargs["channel"],
                        ts=message.get("ts"),
                        alert_ids=ids,
                        found_existing=True,
                    )
            cursor = (data.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return None
        return None


class SlackWebhookSink:
    """Incoming webhook: cannot edit or read back, so delivery is at least once."""

    exactly_once = False

    def __init__(self, url: str, *, timeout: float = 10.0) -> None:
        self._client = WebhookClient(url, timeout=int(max(1, timeout)), retry_handlers=[])
        self.channel_key = f"slack_webhook:{url}"

    def send(self, outgoing: Outgoing) -> Delivered:
        body = {
            "text": outgoing.message.text,
            "blocks": list(outgoing.message.blocks),
            "metadata": {
                "event_type": EVENT_TYPE,
                "event_payload": {"alert_id": outgoing.alert_id},
            },
        }
        try:
            response = self._client.send_dict(body)
        except NETWORK_ERRORS as exc:
            raise NotifyError(f"incoming webhook: {exc.__class__.__name__}: {exc}") from exc
        if response.status_code == 400 and "too_long" in (response.body or "") and outgoing.compact:
            return self.send(
                Outgoing(
                    alert_ids=outgoing.alert_ids,
                    kind=outgoing.kind,
                    story_id=outgoing.story_id,
                    message=outgoing.compact,
                )
            )
        raise_for_http_status(
            response.status_code, response.headers, response.body or "", "incoming webhook"
        )
        return Delivered()
