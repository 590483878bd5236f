"""The alert says why: the rules that sent it to this route and why at its severity; the
console prints it as plain text, not Slack's markup."""

from __future__ import annotations

import io
import json
from datetime import timedelta

from alertkit import T0, add_article, add_story, classification, sample_view, settings_for
from fakeslack import FakeSlack, check_message
from sqlalchemy.orm import Session, sessionmaker

from monitor.alert import mrkdwn, render
from monitor.alert.compose import story_dict, view_of
from monitor.alert.dispatcher import Dispatcher
from monitor.alert.outbox import enqueue
from monitor.alert.settings import RouteConfig
from monitor.alert.sinks import ConsoleSink, Outgoing, Sink, WebhookSink
from monitor.alert.view import for_route, story_view
from monitor.classify.rules import severity_why
from monitor.storage.models import ArticleRow, Story
from monitor.types import AlertDecision, RuleHit

ESCALATED = RuleHit(
    "strikes-on-bases", "high", ("ops",),
    "Rocket attack (score 2 >= 1) + Camp Taji; severity medium -> high (3 killed >= 1)",
)  # fmt: skip
PLAIN = RuleHit("demo-iraq", "high", ("ops", "desk"), "Rocket attack (score 2 >= 1)")


def test_the_severity_reason_says_escalated_by_the_toll_or_the_rule_s_own() -> None:
    assert severity_why(ESCALATED) == "HIGH: escalated from medium, 3 killed >= 1"
    assert severity_why(PLAIN) == "severity high"
    assert severity_why(RuleHit("old", "low", (), "")) == "severity low"  # stored before reasons


def test_the_message_names_each_rule_with_its_severity_reason() -> None:
    msg = render.story_message(sample_view(rules=(ESCALATED, PLAIN)))
    [why] = [
        e["text"] for b in msg.blocks if b["type"] == "context" for e in b["elements"]
        if e["text"].startswith("Rule: ")
    ]  # fmt: skip
    first, second = why.split("\n")
    assert first == (
        "Rule: `strikes-on-bases` (HIGH: escalated from medium, 3 killed &gt;= 1)"
        " · Rocket attack (score 2 &gt;= 1) + Camp Taji"
    )
    assert second.startswith("Rule: `demo-iraq` (severity high)")
    assert "Rule: strikes-on-bases (HIGH: escalated from medium, 3 killed &gt;= 1) +1" in msg.text
    assert check_message({"text": msg.text, "blocks": list(msg.blocks)}) is None


def test_a_message_without_rules_has_no_rule_line() -> None:
    msg = render.story_message(sample_view())
    assert "Rule:" not in json.dumps(msg.blocks, ensure_ascii=False) + msg.text


def test_a_route_shows_only_the_rules_naming_it() -> None:
    view = sample_view(rules=(ESCALATED, PLAIN))
    assert [r.rule_id for r in for_route(view, "desk").rules] == ["demo-iraq"]
    assert [r.rule_id for r in for_route(view, "ops").rules] == ["strikes-on-bases", "demo-iraq"]
    assert for_route(view, "other").rules == ()


def test_a_rule_s_text_from_yaml_cannot_inject_markup() -> None:
    evil = RuleHit("x`y", "high", ("ops",), "<!channel> & <http://127.0.0.1|click>")
    msg = render.story_message(sample_view(rules=(evil,)))
    sent = json.dumps(msg.blocks, ensure_ascii=False) + msg.text
    assert "<!channel>" not in sent and "<http://127.0.0.1|click>" not in sent
    assert "Rule: `xy` (severity high) · &lt;!channel&gt; &amp; &lt;http" in sent
    assert check_message({"text": msg.text, "blocks": list(msg.blocks)}) is None


def test_many_rules_are_counted_within_slack_s_limits() -> None:
    hits = tuple(RuleHit(f"r{i}", "high", ("ops",), "x" * 3000) for i in range(40))
    msg = render.story_message(sample_view(rules=hits))
    text = json.dumps(msg.blocks, ensure_ascii=False)
    assert text.count("Rule: ") == render.MAX_RULES and "…and 35 more rules" in text
    assert check_message({"text": msg.text, "blocks": list(msg.blocks)}) is None


def test_the_stored_hits_give_each_rule_once_at_its_highest_severity() -> None:
    low = dict(classification(), rules=[
        {"rule_id": "strikes-on-bases", "severity": "medium", "routes": ["ops"], "reason": "a"},
        {"rule_id": "demo-iraq", "severity": "low", "routes": ["desk"], "reason": "b"},
        {"rule_id": "", "severity": "low"}, "junk",
    ])  # fmt: skip
    high = dict(classification(), rules=[
        {"rule_id": "strikes-on-bases", "severity": "high", "routes": ["ops"], "reason": "c"},
    ])  # fmt: skip
    story = Story(id=1, headline="h", first_seen=T0, event=None)
    rows = [ArticleRow(title="t", classification=c) for c in (low, high)]
    view = story_view(story, rows)
    assert [(r.rule_id, r.severity, r.reason) for r in view.rules] == [
        ("strikes-on-bases", "high", "c"),
        ("demo-iraq", "low", "b"),
    ]


def test_the_webhook_payload_carries_the_rules_as_data() -> None:
    data = story_dict(for_route(sample_view(rules=(ESCALATED, PLAIN)), "desk"))
    assert data["rules"] == [
        {
            "rule_id": "demo-iraq",
            "severity": "high",
            "routes": ["ops", "desk"],
            "reason": "Rocket attack (score 2 >= 1)",
            "severity_reason": "severity high",
        }
    ]


def test_console_text_has_no_slack_markup() -> None:
    text = (
        "*Entities*\nQ&amp;A, *Iraq's* forces, `rule-id` &lt;b&gt;\n"
        f"• <http://127.0.0.1/a?x=1&amp;y=2|A&amp;B>: t ({mrkdwn.instant(T0)})"
    )
    assert render.unmark_plain(text) == (
        "Entities\nQ&A, Iraq's forces, rule-id <b>\n"
        "• A&B (http://127.0.0.1/a?x=1&y=2): t (2020-03-12 20:00 UTC)"
    )
    # Article text with a lone asterisk or an escaped "<x|y>" stays as written.
    assert render.unmark_plain("5 * 3 &lt;a|b&gt;") == "5 * 3 <a|b>"


def test_the_console_sink_prints_plain_text() -> None:
    view = sample_view(rules=(ESCALATED,))
    out = io.StringIO()
    ConsoleSink(out).send(Outgoing((1,), "new", 7, render.story_message(view)))
    printed = out.getvalue()
    assert "*" not in printed and "<!date" not in printed and "&gt;" not in printed
    assert "Rule: strikes-on-bases (HIGH: escalated from medium, 3 killed >= 1)" in printed
    assert "Rocket attack (score 2 >= 1) + Camp Taji" in printed
    assert "Rockets hit Camp Taji (http://127.0.0.1:8001/1)" in printed


def test_each_route_is_told_the_rules_that_sent_the_alert_there(
    db: sessionmaker[Session], slack: FakeSlack
) -> None:
    settings = settings_for({
        "ops": RouteConfig(type="console"),
        "desk": RouteConfig(type="webhook", url=slack.webhook_url),
    })  # fmt: skip
    hits = [
        {"rule_id": r.rule_id, "severity": r.severity, "routes": list(r.routes), "reason": r.reason}
        for r in (ESCALATED, PLAIN)
    ]
    with db.begin() as s:
        story = add_story(s)
        art = add_article(
            s, story, key="a", outlet="Outlet a", cls=dict(classification(), rules=hits)
        )
        decision = AlertDecision(story.id, "new", "high", ("ops", "desk"))
        enqueue(
            session=s, decision=decision, story=story, article_id=art.id, settings=settings, now=T0
        )
    out = io.StringIO()
    sinks: dict[str, Sink] = {"ops": ConsoleSink(out), "desk": WebhookSink(slack.webhook_url)}
    assert (
        Dispatcher(settings=settings, sessions=db, sinks=sinks, clock=lambda: T0).run_once().sent
        == 2
    )
    printed = out.getvalue()
    assert "Rule: strikes-on-bases (HIGH: escalated from medium, 3 killed >= 1)" in printed
    assert "Rule: demo-iraq (severity high)" in printed
    [post] = slack.webhook_posts
    assert [r["rule_id"] for r in post["story"]["rules"]] == ["demo-iraq"]
    assert "strikes-on-bases" not in post["body"] and "Rule: demo-iraq" in post["body"]


def test_each_digest_line_names_the_rules_that_routed_its_story(
    db: sessionmaker[Session],
) -> None:
    """A digest, like a single alert, says why each story came to the route: its rules
    with why at their severity, only the route's own, escaped; plain on the console."""
    settings = settings_for({
        "ops": RouteConfig(type="console", digest=timedelta(hours=1)),
        "desk": RouteConfig(type="console"),
    })  # fmt: skip
    evil = RuleHit("x`y", "high", ("ops",), "<!channel> & <http://127.0.0.1|click>")
    elsewhere = RuleHit("desk-only", "low", ("desk",), "Camp Taji")
    hits = [
        {"rule_id": r.rule_id, "severity": r.severity, "routes": list(r.routes), "reason": r.reason}
        for r in (ESCALATED, PLAIN, evil, elsewhere)
    ]
    with db.begin() as s:
        for key in ("a", "b"):
            story = add_story(s, headline=f"Story {key}")
            rules = hits if key == "a" else hits[1:2]
            cls = dict(classification(), rules=rules)
            art = add_article(s, story, key=key, outlet=f"Outlet {key}", cls=cls)
            decision = AlertDecision(story.id, "new", "high", ("ops",))
            enqueue(session=s, decision=decision, story=story, article_id=art.id,
                    settings=settings, now=T0)  # fmt: skip
    out = io.StringIO()
    sinks: dict[str, Sink] = {"ops": ConsoleSink(out)}
    later = T0 + timedelta(hours=1)
    assert Dispatcher(settings=settings, sessions=db, sinks=sinks, clock=lambda: later).run_once()
    printed = out.getvalue()
    [a] = [line for line in printed.splitlines() if "Story a" in line]
    assert a.endswith(
        " · Rules: strikes-on-bases (HIGH: escalated from medium, 3 killed >= 1), "
        "demo-iraq (severity high), xy (severity high)"
    )
    [b] = [line for line in printed.splitlines() if "Story b" in line]
    assert b.endswith(" · Rule: demo-iraq (severity high)")
    with db() as s:
        [story_a] = s.query(Story).filter(Story.headline == "Story a").all()
        view = view_of(s, story_a, "ops")
    message = render.digest_message([view], "60 min")
    sent = json.dumps(message.blocks, ensure_ascii=False)
    assert "(HIGH: escalated from medium, 3 killed &gt;= 1)" in sent and "<!channel>" not in sent
    assert check_message({"text": message.text, "blocks": list(message.blocks)}) is None
