"""Block Kit messages for a story, within Slack's limits. Pure functions, no I/O.

Limits (api.slack.com/reference/block-kit): header text 150 chars, section text 3,000,
field text 2,000, 50 blocks per message; messages much above ~12k characters of text are
rejected or cut, so we budget the whole message ourselves and truncate whole lines.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from monitor.alert.changes import Change, summary
from monitor.alert.mrkdwn import DATE_TOKEN, bold_matches, clip, escape, instant, link
from monitor.alert.view import Source, StoryView
from monitor.classify.rules import matched_why, severity_why
from monitor.units import counted

HEADER_MAX = 150
SECTION_MAX = 3000
FIELD_MAX = 2000
MAX_BLOCKS = 50
MESSAGE_BUDGET = 11_000  # characters of text across all blocks, below Slack's ~12k
TEXT_MAX = 3000  # the notification fallback
MAX_SOURCES = 20
LEAD_MAX = 1500  # an update's line of changes; the source lines get the rest
MAX_RULES = 5  # rule lines in a message; more are counted
RULE_MAX = 400  # one rule line, as sent


@dataclass(frozen=True, slots=True)
class SlackMessage:
    text: str  # plain fallback shown in notifications
    blocks: tuple[dict[str, Any], ...]

    def size(self) -> int:
        return len(self.text) + len(json.dumps(self.blocks, ensure_ascii=False))


def _stamp(when: datetime | None) -> str:
    """A point in time in each reader's own zone (Slack's date token). An event's *day*
    (``summary_line``) stays plain text: it is the day where the event happened."""
    return instant(when) if when else "time unknown"


def title_line(view: StoryView) -> str:
    """Severity, incident type and main place: the header, as plain text."""
    parts = [(view.severity or "alert").upper() + (" (muted)" if view.muted else "")]
    if view.incident_types:
        parts.append(view.incident_types[0])
    if view.place:
        parts.append(view.place)
    return " · ".join(parts)


def fallback_text(view: StoryView) -> str:
    tail = f" ({counted(len(view.sources), 'source')})"
    if view.rules:  # why, in the notification too: the first rule, escaped (it is YAML's)
        first = view.rules[0]
        more = f" +{len(view.rules) - 1}" if len(view.rules) > 1 else ""
        tail += " · " + clip(f"Rule: {first.rule_id} ({severity_why(first)}){more}", 300)
    return clip(f"{title_line(view)}: {view.headline}", TEXT_MAX - len(tail)) + tail


def rule_lines(view: StoryView) -> str:
    """Why the alert came to this route and why at its severity, a line per rule:
    "Rule: `strikes-on-bases` (HIGH: escalated from medium, 3 killed) · Rocket attack (…)".
    The id is code (an id has no backtick); the reason, from YAML labels and names, escaped."""
    lines = []
    for hit in view.rules[:MAX_RULES]:
        why = clip(f"({severity_why(hit)})", RULE_MAX // 2)
        matched = matched_why(hit)
        line = f"Rule: `{clip(hit.rule_id.replace('`', ''), 100)}` {why}"
        if matched:
            line += " · " + clip(matched, RULE_MAX - len(line) - 3)
        lines.append(line)
    if hidden := len(view.rules) - len(lines):
        lines.append(f"…and {counted(hidden, 'more rule')}")
    return "\n".join(lines)


def _rules_named(view: StoryView, most: int = 3) -> str:
    """The rules that routed the story, each with why at its severity, on one line:
    "Rule: `strikes-on-bases` (HIGH: escalated from medium, 3 killed &gt;= 1)". The id is
    code (backticks dropped), the reason escaped: both come from YAML."""
    named = [
        f"`{clip(hit.rule_id.replace('`', ''), 100)}` {clip(f'({severity_why(hit)})', 150)}"
        for hit in view.rules[:most]
    ]
    more = f" +{len(view.rules) - most} more" if len(view.rules) > most else ""
    return ("Rules: " if len(view.rules) > 1 else "Rule: ") + ", ".join(named) + more


def source_line(source: Source) -> str:
    outlet = link(source.url, source.outlet, 120)
    return f"• {outlet}: {clip(source.title, 200)} ({_stamp(source.published)})"


def _fields(view: StoryView) -> list[dict[str, str]]:
    fields = []
    if view.entities:
        fields.append(("Entities", ", ".join(view.entities)))
    if view.incident_types:
        fields.append(("Incident", ", ".join(view.incident_types)))
    if view.killed is not None or view.wounded is not None:
        figures = [f"{view.killed} killed" if view.killed is not None else ""]
        figures.append(f"{view.wounded} wounded" if view.wounded is not None else "")
        fields.append(("Casualties", ", ".join(f for f in figures if f)))
    return [
        {"type": "mrkdwn", "text": f"*{name}*\n{clip(value, FIELD_MAX - 40)}"}
        for name, value in fields
    ]


def _source_lines(sources: list[Source], total: int, limit: int) -> str:
    """As many source lines as fit in ``limit``; the rest of ``total`` summarised as a
    count. Whole lines only: cutting one could split a link or an escape like ``&amp;``."""
    lines: list[str] = []
    used = 0
    for source in sources:
        line = source_line(source)
        if used + len(line) + 1 > limit - 40:  # room for the count
            break
        lines.append(line)
        used += len(line) + 1
    hidden = total - len(lines)
    if hidden:
        lines.append(f"…and {hidden} more source{'s' if hidden != 1 else ''}")
    return "\n".join(lines)


def _sources_section(view: StoryView, budget: int) -> dict[str, Any]:
    shown = list(view.sources[-MAX_SOURCES:])  # the newest are the news
    lines = _source_lines(shown, len(view.sources), min(SECTION_MAX, budget))
    title = f"*Sources ({len(view.sources)})*"
    return {"type": "section", "text": {"type": "mrkdwn", "text": title + "\n" + lines}}


def story_message(view: StoryView) -> SlackMessage:
    """The one message a story gets per channel; re-rendered in place as sources arrive."""
    headline = link(view.url, view.headline, 500)
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {
                "type": "plain_text",
                "text": clip(title_line(view), HEADER_MAX, escaped=False),
            },
        },
        {"type": "section", "text": {"type": "mrkdwn", "text": f"*{headline}*"}},
    ]
    if view.summary:
        summary = clip(view.summary, SECTION_MAX - 10)
        blocks.insert(1, {"type": "section", "text": {"type": "mrkdwn", "text": summary}})
    if view.prior:  # context, on its own line: its place and toll are not the event's
        line = f"After: {view.prior}"
        if view.prior_toll_evidence:
            line += " · toll from: " + " / ".join(
                f"“{clip(s, 300)}”" for s in view.prior_toll_evidence[:2]
            )
        prior = [{"type": "mrkdwn", "text": clip(line, SECTION_MAX - 10)}]
        blocks.insert(2 if view.summary else 1, {"type": "context", "elements": prior})
    if fields := _fields(view):
        blocks.append({"type": "section", "fields": fields})
    if view.evidence:
        quote = "> " + bold_matches(view.evidence, view.matched)
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": quote}})
    if rules := rule_lines(view):
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": rules}]})
    if view.toll_evidence:
        toll = "Toll from: " + " / ".join(f"“{clip(s, 400)}”" for s in view.toll_evidence[:3])
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": toll}]})
    used = sum(len(json.dumps(b, ensure_ascii=False)) for b in blocks)
    blocks.append(_sources_section(view, MESSAGE_BUDGET - used - 400))
    first_seen = f"First seen {_stamp(view.first_seen)} · story {view.story_id}"
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": first_seen}]})
    return SlackMessage(text=fallback_text(view), blocks=tuple(blocks[:MAX_BLOCKS]))


def compact_message(view: StoryView) -> SlackMessage:
    """A minimal rendering, used when Slack rejects the full one as too long."""
    headline = link(view.url, view.headline, 300)
    text = f"*{clip(title_line(view), 200)}*\n{headline} ({counted(len(view.sources), 'source')})"
    return SlackMessage(
        text=fallback_text(view)[:500],
        blocks=({"type": "section", "text": {"type": "mrkdwn", "text": text}},),
    )


def update_reply(view: StoryView, new: list[Source], changes: Sequence[Change]) -> SlackMessage:
    """The thread reply (or webhook follow-up): what changed since the message the route
    last showed, in plain words and most telling first, then the outlets that joined."""
    parts = summary(changes)
    items = [f"*{clip(label, 60)}*: {clip(detail, 300)}" for label, detail in parts]
    lead = _whole_items(items, LEAD_MAX) or "*Update*"
    lead += f" · now {len(view.sources)} in total"
    body = _source_lines(new[:MAX_SOURCES], len(new), SECTION_MAX - len(lead) - 1)
    said = " · ".join(f"{label}: {detail}" for label, detail in parts) or "sources joined"
    text = clip(f"Update: {said}", 300) + clip(f" — {view.headline}", 200)
    return SlackMessage(
        text=text,
        blocks=({"type": "section", "text": {"type": "mrkdwn", "text": lead + "\n" + body}},),
    )


def _whole_items(items: list[str], limit: int) -> str:
    """Items joined by " · " up to ``limit`` characters: whole items only, as cutting one
    could split its bold markers or an escape."""
    kept: list[str] = []
    for item in items:
        if len(" · ".join([*kept, item])) > limit - 2:
            return " · ".join([*kept, "…"])
        kept.append(item)
    return " · ".join(kept)


def correction_note(view: StoryView, split_off: Source | None) -> SlackMessage:
    """What an operator changed, for the story's thread: the message above now shows it."""
    if split_off is not None:
        what = f"{escape(split_off.outlet)}'s report was split off into a story of its own"
    elif view.muted:
        what = "the story is muted; no more updates will be sent"
    else:
        what = "the story was corrected"
    head = f"*Corrected by an operator*: {what} · now {counted(len(view.sources), 'source')}"
    text = clip(f"Correction: {view.headline}", 300)
    return SlackMessage(
        text=text, blocks=({"type": "section", "text": {"type": "mrkdwn", "text": head}},)
    )


def followup_message(view: StoryView, new: list[Source], changes: Sequence[Change]) -> SlackMessage:
    """For webhooks, which cannot edit: the headline link, then the update lines."""
    reply = update_reply(view, new, changes)
    head = {
        "type": "section",
        "text": {"type": "mrkdwn", "text": f"Update on *{link(view.url, view.headline, 300)}*"},
    }
    return SlackMessage(text=reply.text, blocks=(head, *reply.blocks))


def digest_message(views: list[StoryView], period: str) -> SlackMessage:
    """One summary of many stories: a line each, newest first, within the block limit."""
    header = f"Digest: {len(views)} stor{'ies' if len(views) != 1 else 'y'} in the last {period}"
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": header[:HEADER_MAX]}}
    ]
    used = 0
    for view in views[: MAX_BLOCKS - 2]:
        headline = link(view.url, view.headline, 300)
        sources = counted(len(view.sources), "source")
        line = f"*{clip(title_line(view), 200)}* {headline} · {sources}"
        if view.rules:  # why each story came to this route, as a single alert says it
            line += " · " + _rules_named(view)
        if used + len(line) > MESSAGE_BUDGET - 500:
            break
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": line}})
        used += len(line)
    if hidden := len(views) - (len(blocks) - 1):
        blocks.append(
            {"type": "context", "elements": [{"type": "mrkdwn", "text": f"…and {hidden} more"}]}
        )
    return SlackMessage(text=header, blocks=tuple(blocks))


def plain_text(message: SlackMessage, *, console: bool = False) -> str:
    """The message without Slack's markup (``unmark_plain``), for sinks that are not Slack:
    times in ISO 8601 with their offset (webhook receivers parse them), or, on the
    ``console``, as the tokens' own fallback ("2026-03-05 04:41 UTC"), which a reader reads."""
    out: list[str] = []
    for block in message.blocks:
        texts = [block.get("text", {}).get("text", "")]
        texts += [f.get("text", "") for f in block.get("fields", ())]
        texts += [e.get("text", "") for e in block.get("elements", ())]
        out.extend(unmark_plain(t, iso=not console) for t in texts if t)
    return "\n".join(out)


def console_text(message: SlackMessage) -> str:
    return plain_text(message, console=True)


# A bold or code span as our messages make them: markers at word edges, one line at most.
_SPAN = re.compile(r"(?<![\w*`])([*`])(?=\S)([^*`\n]*?\S)\1(?![\w*`])")


def unmark_plain(text: str, *, iso: bool = False) -> str:
    """One mrkdwn text as plain text: bold and code spans without their markers,
    ``<url|text>`` as "text (url)", date tokens as their fallback (or ``iso``), ``&amp;``
    etc. unescaped. Escapes go last: an escaped ``&lt;`` in article text is no link."""
    text = DATE_TOKEN.sub(_iso if iso else lambda m: m.group(3), text)
    text = re.sub(r"<([^|>]+)\|([^>]+)>", r"\2 (\1)", text)
    text = _SPAN.sub(r"\2", text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _iso(token: re.Match[str]) -> str:
    """A Slack date token as ISO 8601 with its offset (UTC), for sinks that are not Slack."""
    return datetime.fromtimestamp(int(token.group(1)), UTC).isoformat(timespec="minutes")
