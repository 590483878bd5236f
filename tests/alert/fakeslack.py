"""A Slack-compatible HTTP server for tests, on 127.0.0.1, with switchable failures.

Implements the Web API methods monitor uses (auth.test, chat.postMessage, chat.update,
conversations.history, conversations.replies, conversations.list, chat.scheduleMessage,
chat.scheduledMessages.list, chat.deleteScheduledMessage) and incoming webhooks
(/hooks/...). Like Slack, it enforces Block Kit limits, hides message metadata unless asked
for it, and answers conversations.list only for a token with the scopes it needs
(``FakeSlack(scopes=...)``), paginated by ``cursor``. It accepts Slack's date tokens
(``<!date^UNIX^{date_short_pretty} {time}|fallback>``) in mrkdwn text and, stricter than
Slack, answers ``invalid_blocks`` to a malformed one.

    with FakeSlack() as slack:
        slack.fail("chat.postMessage", "429", retry_after=2)
        ... route api_url=slack.api_url, channel=slack.channel ...
        assert len(slack.top_level()) == 1

Failure modes (each consumed by one request to ``method``; "webhook" for incoming webhooks):
"429" (+ Retry-After), "500", "timeout" (the request is processed, the reply comes late),
"reset" (connection reset before processing), "drop_reply" (processed, then the connection
is closed without a reply), "hold" (processed, then the reply waits until ``release()``; the
caller's address is in ``held``: a test can kill the process that is mid-send), and Slack
error codes answered with ok=false: "invalid_auth",
"channel_not_found", "is_archived", "msg_too_long", ...
"""

from __future__ import annotations

import json
import re
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

TOKEN = "xoxb-fake-token"
SCOPES = frozenset({"chat:write", "channels:read", "groups:read", "channels:history"})
LIST_SCOPE = {"public_channel": "channels:read", "private_channel": "groups:read"}
CHANNEL_ID = "C0FAKEALERTS"
WEBHOOK_PATH = "/hooks/T000/B000/fakehook"


@dataclass
class Failure:
    mode: str
    retry_after: int = 1
    delay: float = 2.0


@dataclass
class Channel:
    id: str
    name: str
    archived: bool = False
    private: bool = False
    messages: list[dict[str, Any]] = field(default_factory=list)  # top level, oldest first
    replies: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # thread ts -> replies


class Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # quiet test output
        pass

    def do_POST(self) -> None:
        self._handle()

    def do_GET(self) -> None:
        self._handle()

    def _handle(self) -> None:
        fake = self.server.fake
        split = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        params = dict(parse_qsl(split.query))
        params.update(_parse_body(raw, self.headers.get("Content-Type") or ""))
        method = "webhook" if split.path.startswith("/hooks/") else split.path.rsplit("/", 1)[-1]
        fake.calls.append((method, params))
        failure = fake.take_failure(method)
        if failure and failure.mode == "reset":
            return self._reset()
        if failure and failure.mode in ("429", "500"):
            return self._fail(failure, method)
        if (
            failure
            and method == "webhook"
            and failure.mode not in ("timeout", "drop_reply", "hold")
        ):
            return self._fail(failure, method)
        status, body = fake.dispatch(method, params, split.path, self.headers, failure)
        if failure and failure.mode == "drop_reply":
            return self._reset()
        if failure and failure.mode == "hold":
            fake.held.append(self.client_address)
            fake.released.wait(failure.delay)
        if failure and failure.mode == "timeout":
            time.sleep(failure.delay)
        self._reply(status, body)

    def _fail(self, failure: Failure, method: str) -> None:
        if failure.mode == "429":
            return self._reply(
                429,
                {"ok": False, "error": "ratelimited"},
                {"Retry-After": str(failure.retry_after)},
            )
        if failure.mode == "500":
            return self._reply(500, {"ok": False, "error": "internal_error"})
        # incoming webhooks answer errors as plain text with an HTTP status
        status = {"invalid_token": 403, "channel_not_found": 404, "channel_is_archived": 410}.get(
            failure.mode, 400
        )
        self._reply(status, failure.mode)

    def _reply(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = (json.dumps(body) if not isinstance(body, str) else body).encode()
        self.send_response(status)
        ctype = "application/json; charset=utf-8" if not isinstance(body, str) else "text/plain"
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _reset(self) -> None:
        # SO_LINGER 0 makes close() send RST: the client sees "connection reset by peer".
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.connection.close()


def _parse_body(raw: bytes, ctype: str) -> dict[str, Any]:
    if not raw:
        return {}
    if "json" in ctype:
        data = json.loads(raw)
        return data if isinstance(data, dict) else {}
    return dict(parse_qsl(raw.decode()))


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeSlack


class FakeSlack:
    def __init__(
        self,
        *,
        token: str = TOKEN,
        channels: dict[str, str] | None = None,
        scopes: frozenset[str] = SCOPES,
    ) -> None:
        self.token = token
        self.scopes = scopes
        self.channels = {
            cid: Channel(cid, name) for cid, name in (channels or {CHANNEL_ID: "alerts"}).items()
        }
        self.webhook_posts: list[dict[str, Any]] = []
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.held: list[tuple[str, int]] = []  # callers whose reply waits ("hold")
        self.scheduled: dict[str, dict[str, Any]] = {}  # scheduled message id -> message
        self.released = threading.Event()
        self._failures: dict[str, list[Failure]] = {}
        self._lock = threading.Lock()
        self._seq = 0
        self._server = _Server(("127.0.0.1", 0), Handler)
        self._server.fake = self
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    # -- test controls -------------------------------------------------------------------
    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def api_url(self) -> str:
        return self.base + "/api/"

    @property
    def webhook_url(self) -> str:
        return self.base + WEBHOOK_PATH

    @property
    def channel(self) -> str:
        return next(iter(self.channels))

    def fail(
        self, method: str, mode: str, *, times: int = 1, retry_after: int = 1, delay: float = 2.0
    ) -> None:
        with self._lock:
            self._failures.setdefault(method, []).extend(
                Failure(mode, retry_after, delay) for _ in range(times)
            )

    def release(self) -> None:
        """Let every held reply go (to callers still alive)."""
        self.released.set()

    def take_failure(self, method: str) -> Failure | None:
        with self._lock:
            queue = self._failures.get(method)
            return queue.pop(0) if queue else None

    def top_level(self, channel: str | None = None) -> list[dict[str, Any]]:
        return list(self.channels[channel or self.channel].messages)

    def replies(self, ts: str, channel: str | None = None) -> list[dict[str, Any]]:
        return list(self.channels[channel or self.channel].replies.get(ts, []))

    def calls_to(self, method: str) -> int:
        return sum(1 for m, _ in self.calls if m == method)

    def __enter__(self) -> FakeSlack:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.released.set()
        self._server.shutdown()
        self._server.server_close()

    # -- the API -------------------------------------------------------------------------
    def dispatch(
        self, method: str, params: dict[str, Any], path: str, headers: Any, failure: Failure | None
    ) -> tuple[int, Any]:
        if method == "webhook":
            return self._webhook(params, path)
        if failure and failure.mode not in ("timeout", "drop_reply", "hold"):
            return 200, {"ok": False, "error": failure.mode}
        auth = headers.get("Authorization") or ""
        token = auth.removeprefix("Bearer ") if auth else params.get("token")
        if not token:
            return 200, {"ok": False, "error": "not_authed"}
        if token != self.token:
            return 200, {"ok": False, "error": "invalid_auth"}
        handler = getattr(self, "_" + method.replace(".", "_"), None)
        if handler is None:
            return 200, {"ok": False, "error": "unknown_method"}
        with self._lock:
            return 200, handler(params)

    def _auth_test(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "user": "monitor-bot",
            "user_id": "U0BOT",
            "team": "Fake Team",
            "team_id": "T000",
        }

    def _find_channel(self, ref: str | None) -> Channel | None:
        ref = (ref or "").lstrip("#")
        return self.channels.get(ref) or next(
            (c for c in self.channels.values() if c.name == ref), None
        )

    def _chat_postMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self._find_channel(params.get("channel"))
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        if channel.archived:
            return {"ok": False, "error": "is_archived"}
        if problem := check_message(params):
            return {"ok": False, "error": problem}
        self._seq += 1
        ts = f"{int(time.time())}.{self._seq:06d}"
        message = {
            "type": "message",
            "user": "U0BOT",
            "ts": ts,
            "text": params.get("text", ""),
            "blocks": _json(params.get("blocks")) or [],
            "metadata": _json(params.get("metadata")),
        }
        thread_ts = params.get("thread_ts")
        if thread_ts:
            message["thread_ts"] = thread_ts
            channel.replies.setdefault(thread_ts, []).append(message)
        else:
            channel.messages.append(message)
        return {"ok": True, "channel": channel.id, "ts": ts, "message": _public(message, True)}

    def _chat_update(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self._find_channel(params.get("channel"))
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        message = next((m for m in channel.messages if m["ts"] == params.get("ts")), None)
        if message is None:
            return {"ok": False, "error": "message_not_found"}
        if problem := check_message(params):
            return {"ok": False, "error": problem}
        message.update(
            text=params.get("text", ""), blocks=_json(params.get("blocks")) or [], edited=True
        )
        return {"ok": True, "channel": channel.id, "ts": message["ts"], "text": message["text"]}

    def _conversations_history(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self.channels.get(params.get("channel") or "")
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        oldest = float(params.get("oldest") or 0)
        newest_first = [m for m in reversed(channel.messages) if float(m["ts"]) >= oldest]
        return _page(newest_first, params)

    def _conversations_replies(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self.channels.get(params.get("channel") or "")
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        parent = next((m for m in channel.messages if m["ts"] == params.get("ts")), None)
        if parent is None:
            return {"ok": False, "error": "thread_not_found"}
        return _page([parent, *channel.replies.get(parent["ts"], [])], params)

    def _conversations_list(self, params: dict[str, Any]) -> dict[str, Any]:
        types = str(params.get("types") or "public_channel").split(",")
        needed = [LIST_SCOPE[t] for t in types if t in LIST_SCOPE]
        if any(scope not in self.scopes for scope in needed):
            return {
                "ok": False,
                "error": "missing_scope",
                "needed": ",".join(needed),
                "provided": ",".join(sorted(self.scopes)),
            }
        live = str(params.get("exclude_archived")).lower() in ("1", "true")
        wanted = [
            c for c in self.channels.values()
            if ("private_channel" if c.private else "public_channel") in types
            and not (live and c.archived)
        ]  # fmt: skip
        limit = int(params.get("limit") or 100)
        start = int(params.get("cursor") or 0)
        more = start + limit < len(wanted)
        return {
            "ok": True,
            "channels": [
                {"id": c.id, "name": c.name, "is_private": c.private, "is_archived": c.archived}
                for c in wanted[start : start + limit]
            ],
            "response_metadata": {"next_cursor": str(start + limit) if more else ""},
        }

    def _chat_scheduleMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        # Like chat.postMessage, the channel may be a name; the reply carries its ID.
        channel = self._find_channel(params.get("channel"))
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        if not params.get("post_at"):
            return {"ok": False, "error": "invalid_time"}
        self._seq += 1
        sid = f"Q0FAKE{self._seq:06d}"
        post_at = int(params["post_at"])
        self.scheduled[sid] = {"id": sid, "channel_id": channel.id, "text": params.get("text"),
                               "post_at": post_at, "date_created": self._seq}  # fmt: skip
        return {"ok": True, "channel": channel.id, "scheduled_message_id": sid, "post_at": post_at}

    def _chat_scheduledMessages_list(self, params: dict[str, Any]) -> dict[str, Any]:
        waiting = [m for m in self.scheduled.values()
                   if params.get("channel") in (None, m["channel_id"])]  # fmt: skip
        limit = int(params.get("limit") or 100)
        start = int(params.get("cursor") or 0)
        more = start + limit < len(waiting)
        return {
            "ok": True,
            "scheduled_messages": [dict(m) for m in waiting[start : start + limit]],
            "response_metadata": {"next_cursor": str(start + limit) if more else ""},
        }

    def _chat_deleteScheduledMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        found = self.scheduled.get(str(params.get("scheduled_message_id")))
        if found is None or found["channel_id"] != params.get("channel"):
            return {"ok": False, "error": "invalid_scheduled_message_id"}
        del self.scheduled[found["id"]]
        return {"ok": True}

    def _webhook(self, params: dict[str, Any], path: str) -> tuple[int, Any]:
        if path != WEBHOOK_PATH:
            return 404, "no_service"
        if problem := check_message(params):
            return 400, problem
        with self._lock:
            self.webhook_posts.append(params)
        return 200, "ok"


def _page(messages: list[dict[str, Any]], params: dict[str, Any]) -> dict[str, Any]:
    limit = int(params.get("limit") or 100)
    start = int(params.get("cursor") or 0)
    chunk = messages[start : start + limit]
    more = start + limit < len(messages)
    meta = str(params.get("include_all_metadata")).lower() in ("1", "true")
    return {
        "ok": True,
        "messages": [_public(m, meta) for m in chunk],
        "has_more": more,
        "response_metadata": {"next_cursor": str(start + limit) if more else ""},
    }


def _public(message: dict[str, Any], with_metadata: bool) -> dict[str, Any]:
    out = {k: v for k, v in message.items() if k != "metadata"}
    if with_metadata and message.get("metadata"):
        out["metadata"] = message["metadata"]
    return out


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) and value[:1] in "[{" else value


# Slack's date token as documented (api.slack.com/reference/surfaces/formatting, "Date
# formatting"): <!date^UNIX^FORMAT(^LINK)|FALLBACK>, FORMAT's tokens in braces.
DATE_FORMATS = {
    "date_num", "date", "date_short", "date_long", "date_pretty", "date_short_pretty",
    "date_long_pretty", "time", "time_secs",
}  # fmt: skip
_DATE_OPEN = re.compile(r"<!date\b")
_DATE = re.compile(r"<!date\^(-?\d+)\^([^|^<>]+)(?:\^[^|^<>]+)?\|([^|<>]+)>")


def date_tokens(text: str) -> list[tuple[int, str, str]]:
    """(unix time, format, fallback) of each well-formed date token in ``text``."""
    return [(int(m[1]), m[2], m[3]) for m in _DATE.finditer(text)]


def _dates_well_formed(text: str) -> bool:
    """Stricter than Slack, which shows a malformed token as raw text: every ``<!date``
    must be a whole token with known format keys, so a test sees what a reader would."""
    tokens = list(_DATE.finditer(text))
    if len(tokens) != len(_DATE_OPEN.findall(text)):
        return False
    keys = {k for m in tokens for k in re.findall(r"\{(\w+)\}", m[2])}
    return keys <= DATE_FORMATS and all(re.search(r"\{\w+\}", m[2]) for m in tokens)


def _texts(blocks: list[dict[str, Any]]) -> list[str]:
    """The blocks' mrkdwn texts: Slack reads markup there only (a header is plain text)."""
    objects = []
    for block in blocks:
        objects += [block.get("text") or {}, *(block.get("fields") or ())]
        objects += block.get("elements") or ()
    return [o.get("text", "") for o in objects if o.get("type") == "mrkdwn"]


def check_message(params: dict[str, Any]) -> str | None:
    """Slack's limits: what it answers for text too long or blocks out of bounds."""
    text = params.get("text") or ""
    blocks = _json(params.get("blocks")) or []
    if not text and not blocks:
        return "no_text"
    if not all(_dates_well_formed(t) for t in [text, *_texts(blocks)]):
        return "invalid_blocks"
    if len(text) > 40_000 or len(json.dumps(blocks)) > 40_000:
        return "msg_too_long"
    if len(blocks) > 50:
        return "invalid_blocks"
    for block in blocks:
        limit = 150 if block.get("type") == "header" else 3000
        if len((block.get("text") or {}).get("text", "")) > limit:
            return "invalid_blocks"
        fields = block.get("fields") or ()
        if len(fields) > 10 or any(len(f.get("text", "")) > 2000 for f in fields):
            return "invalid_blocks"
    return None
