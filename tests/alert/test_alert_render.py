"""Block Kit rendering: content, escaping, bold evidence, and Slack's limits on huge stories."""

from __future__ import annotations

import json
import re
from datetime import timedelta

from alertkit import T0, sample_view
from fakeslack import check_message

from monitor.alert import mrkdwn, render
from monitor.alert.changes import SeverityChanged, SourcesJoined
from monitor.alert.compose import story_dict
from monitor.alert.view import Source, StoryView, story_view
from monitor.codec import event_to_dict
from monitor.storage.models import ArticleRow, Story
from monitor.types import Actor, Event, Place


def _view(**kw: object) -> StoryView:
    return sample_view(**kw)


def test_story_message_has_header_headline_fields_evidence_sources_and_time() -> None:
    msg = render.story_message(_view())
    blocks = {b["type"]: b for b in msg.blocks}
    assert blocks["header"]["text"]["text"] == "HIGH · Rocket attack · Camp Taji"
    assert "<http://127.0.0.1:8001/1|Rockets hit Camp Taji>" in msg.blocks[1]["text"]["text"]
    fields = " ".join(f["text"] for f in msg.blocks[2]["fields"])
    assert "Kataib Hezbollah" in fields and "3 killed, 14 wounded" in fields
    evidence = msg.blocks[3]["text"]["text"]
    assert evidence == "> About 15 *rockets* *struck* *Camp Taji* late on Wednesday."
    assert "Sources (1)" in msg.blocks[4]["text"]["text"]
    assert f"First seen {mrkdwn.instant(T0)}" in msg.blocks[5]["elements"][0]["text"]
    assert (
        msg.text.startswith("HIGH · Rocket attack · Camp Taji: Rockets hit Camp Taji")
        and "(1 source)" in msg.text
    )


def test_control_characters_are_escaped_everywhere() -> None:
    view = _view(
        headline="Q&A <b>live</b>",
        evidence="Rockets & mortars <here>",
        matched=("Rockets",),
        sources=(Source("A&B <news>", "http://127.0.0.1/?a=1&b=<2>", "T<i>", T0),),
    )
    msg = render.story_message(view)
    dumped = json.dumps([b for b in msg.blocks if b["type"] != "header"]) + msg.text
    assert "<b>" not in dumped and "<here>" not in dumped and "<news>" not in dumped
    assert (
        "Q&amp;A &lt;b&gt;live&lt;/b&gt;" in dumped
        and "*Rockets* &amp; mortars &lt;here&gt;" in dumped
    )
    assert "http://127.0.0.1/?a=1&amp;b=&lt;2&gt;" in dumped


def test_huge_story_stays_within_slack_limits() -> None:
    sources = tuple(
        Source(
            f"Outlet {i} " + "x" * 80,
            f"http://127.0.0.1:{8100 + i}/" + "p" * 200,
            "T" * 400,
            T0 + timedelta(minutes=i),
        )
        for i in range(500)
    )
    view = _view(
        headline="H&" * 5000,
        place="P" * 400,
        entities=tuple(f"Entity {i}" for i in range(800)),
        evidence="rockets " * 2000,
        sources=sources,
    )
    msg = render.story_message(view)
    assert check_message({"text": msg.text, "blocks": msg.blocks}) is None
    assert len(msg.blocks[0]["text"]["text"]) <= 150 and len(msg.blocks) <= 50
    assert msg.size() < 12_000
    sources_text = next(
        b["text"]["text"]
        for b in msg.blocks
        if "Sources (500)" in b.get("text", {}).get("text", "")
    )
    links = sources_text.count("<http://")  # each whole line: a link and a date token
    assert "more sources" in sources_text and sources_text.count(">") == 2 * links
    assert sources_text.count("<!date^") == links
    assert "&am…" not in json.dumps(msg.blocks) and "&a…" not in json.dumps(msg.blocks)


def test_clip_never_splits_an_entity() -> None:
    for limit in range(2, 12):
        out = mrkdwn.clip("a&b&c&d&e&f", limit)
        assert len(out) <= limit and not out.rstrip("…").endswith(("&", "&a", "&am"))


def test_digest_and_update_reply() -> None:
    views = [_view(story_id=i, headline=f"Story {i}") for i in range(80)]
    digest = render.digest_message(views, "60 min")
    assert (
        len(digest.blocks) <= 50
        and check_message({"text": digest.text, "blocks": digest.blocks}) is None
    )
    assert "…and 32 more" in json.dumps(digest.blocks[-1], ensure_ascii=False)
    raised = (SeverityChanged("high", "critical"), SourcesJoined(("New Outlet",), 1))
    reply = render.update_reply(
        _view(severity="critical"), [Source("New Outlet", None, "Later report", T0)], raised
    )
    assert (
        "New Outlet" in reply.blocks[0]["text"]["text"]
        and "*Severity raised*: HIGH → CRITICAL" in reply.blocks[0]["text"]["text"]
    )
    # The notification leads with what changed and names who joined, in words that agree
    # with the count.
    assert reply.text == (
        "Update: Severity raised: HIGH → CRITICAL · +1 source: New Outlet — Rockets hit Camp Taji"
    )
    assert reply.blocks[0]["text"]["text"].startswith("*Severity raised*: HIGH → CRITICAL · *+1 ")
    two = [Source("B", None, "b", T0), Source("C", None, "c", T0)]
    joined = (SourcesJoined(("B", "C"), 2),)
    assert render.update_reply(_view(), two, joined).text.startswith("Update: +2 sources: B, C")
    assert "(1 source)" in render.compact_message(_view()).blocks[0]["text"]["text"]
    assert " · 1 source" in json.dumps(digest.blocks[1], ensure_ascii=False)


def test_view_takes_the_most_specific_place_highest_figures_and_outlets_in_order() -> None:
    ents = [
        {"id": "iraq", "kind": "country", "name": "Iraq", "ancestors": []},
        {"id": "taji", "kind": "military_base", "name": "Camp Taji", "ancestors": ["iraq"]},
    ]
    first = ArticleRow(
        id=1,
        source="A",
        url="http://127.0.0.1:8001/1",
        title="t1",
        published_at=T0,
        severity="medium",
        classification={"entities": ents, "casualties": {"killed": 2}},
    )
    later = ArticleRow(
        id=2,
        source=None,
        url="https://b.localhost/2",  # a loopback name: the outlet falls back to the host
        title="t2",
        published_at=T0,
        severity="high",
        classification={"casualties": {"killed": 3, "wounded": 12}},
    )
    story = Story(id=9, headline="", first_seen=T0, severity=None, casualties={})
    view = story_view(story, [first, later])
    assert view.place == "Camp Taji" and view.entities == ("Iraq", "Camp Taji")
    assert (view.killed, view.wounded, view.severity) == (3, 12, "high")
    assert [s.outlet for s in view.sources] == ["A", "b.localhost"] and view.headline == "t1"


def _bold_spans_sit_on_word_edges(text: str) -> bool:
    """Slack shows a bold marker touching a letter, digit or apostrophe as a literal '*'."""
    for m in re.finditer(r"\*[^*\n]+\*", text):
        before = text[m.start() - 1] if m.start() else " "
        after = text[m.end()] if m.end() < len(text) else " "
        if re.match(r"[\w'’]", before) or re.match(r"[\w'’]", after):
            return False
    return True


def test_bold_wraps_whole_words_only_and_entity_names_are_escaped() -> None:
    view = _view(
        entities=("Russia", "AT&T <Corp>"),
        evidence="Russian airstrikes hit Russia's border and AT&T <Corp>, "
        "not a Hezbollah-backed unit.",
        matched=("Russia", "airstrikes", "Hezbollah", "strikes", "AT&T <Corp>"),
    )
    msg = render.story_message(view)
    quote = msg.blocks[3]["text"]["text"]
    assert quote == (
        "> Russian *airstrikes* hit *Russia's* border and *AT&amp;T &lt;Corp&gt;*, "
        "not a Hezbollah-backed unit."
    )
    assert _bold_spans_sit_on_word_edges(quote)
    assert msg.blocks[2]["fields"][0]["text"] == "*Entities*\nRussia, AT&amp;T &lt;Corp&gt;"


def test_bold_evidence_is_escaped_and_cut_within_its_limit_without_splitting_an_escape() -> None:
    sentence = "Kataib Hezbollah & the PMF <said> Kataib Hezbollah & allies struck."
    words = ("Kataib Hezbollah", "struck")
    full = mrkdwn.bold_matches(sentence, words, limit=200)
    assert full == (
        "*Kataib Hezbollah* &amp; the PMF &lt;said&gt; *Kataib Hezbollah* &amp; allies *struck*."
    )
    for limit in range(1, len(full) + 1):
        out = mrkdwn.bold_matches(sentence, words, limit=limit)
        assert len(out) <= limit, limit
        assert not re.search(r"&(a|am|amp|l|lt|g|gt)?…", out), out
        assert out.count("*") % 2 == 0 and _bold_spans_sit_on_word_edges(out), out


def test_update_reply_keeps_whole_lines_within_the_section_limit() -> None:
    new = [Source(f"A&B {i}", f"http://127.0.0.1/{i}?a=1&b=2", "Q&A <" * 60, T0) for i in range(25)]
    joined = SourcesJoined(tuple(s.outlet for s in new), len(new))
    for changes in ((joined,), (SeverityChanged("medium", "high"), joined)):
        reply = render.update_reply(_view(), new, changes)
        text = reply.blocks[0]["text"]["text"]
        assert check_message({"text": reply.text, "blocks": reply.blocks}) is None
        lines = text.split("\n")[1:]
        assert lines[-1] == f"…and {25 - len(lines) + 1} more sources"
        assert all(line.startswith("• <http://127.0.0.1/") for line in lines[:-1])
        assert all(line.endswith(f"({mrkdwn.instant(T0)})") for line in lines[:-1])
        assert text.count("<http") == text.count("|A&amp;B")


def test_an_escaped_url_that_would_burst_its_section_is_not_linked() -> None:
    url = "http://127.0.0.1/?" + "&a=1" * 350  # 1,418 characters, 2,818 escaped
    msg = render.story_message(_view(headline="H" * 600, sources=(Source("A", url, "t", T0),)))
    assert check_message({"text": msg.text, "blocks": msg.blocks}) is None
    assert msg.blocks[1]["text"]["text"].startswith("*HHH")


def test_a_place_met_only_through_a_demonym_is_not_the_alerts_place() -> None:

    iraqi = {"text": "Iraqi", "start": 0, "end": 5, "demonym": True}
    iraq = {"id": "iraq", "kind": "country", "name": "Iraq", "ancestors": [], "mentions": [iraqi]}
    germany = {"id": "de", "kind": "country", "name": "Germany", "mentions": [{"text": "Germany"}]}
    row = ArticleRow(
        id=1, source="A", url=None, title="t", published_at=T0,
        classification={"entities": [iraq, germany]},
    )  # fmt: skip
    story = Story(id=9, headline="", first_seen=T0, severity=None, casualties={})
    view = story_view(story, [row])
    assert view.place == "Germany" and view.entities == ("Iraq", "Germany")
    named = dict(iraq, mentions=[iraqi, {"text": "Iraq", "start": 9, "end": 13}])
    later = ArticleRow(
        id=2, source="B", url=None, title="t2", published_at=T0,
        classification={"entities": [dict(named, id="iraq")]},
    )  # fmt: skip
    assert story_view(story, [row, later]).place == "Iraq"


def _prior_view(event: Event) -> StoryView:
    """The view of a stored story whose one article typed the strikes and the rockets."""
    labels = [
        {"id": "air-strike", "label": "Air strike"},
        {"id": "rocket-attack", "label": "Rocket attack"},
    ]
    article = ArticleRow(
        id=1, source="A", url="http://127.0.0.1:8001/1", title="Jets strike depots",
        published_at=T0, severity="high", classification={"incident_types": labels},
    )  # fmt: skip
    story = Story(id=3, headline="", first_seen=T0, severity="high", event=event_to_dict(event))
    return story_view(story, [article])


def test_the_prior_event_is_context_on_its_own_line_not_the_header_s_place_or_toll() -> None:
    taji, iraq = Place("camp-taji", "Camp Taji", ("iraq",)), Place("iraq", "Iraq")
    event = Event("air-strike", place=iraq, prior=Event("rocket-attack", place=taji, killed=3))
    view = _prior_view(event)
    assert (view.place, view.killed, view.wounded) == ("Iraq", None, None)
    assert view.summary == "Air strike in Iraq"
    msg = render.story_message(view)
    assert msg.blocks[0]["text"]["text"] == "HIGH · Air strike · Iraq"
    context = [e["text"] for b in msg.blocks if b["type"] == "context" for e in b["elements"]]
    assert "After: Rocket attack at Camp Taji · 3 killed" in context  # no toll sentence given
    fields = " ".join(f["text"] for b in msg.blocks for f in b.get("fields", ()))
    assert "Casualties" not in fields and "killed" not in fields  # the strike states none
    assert render.story_message(_view()).blocks[2].get("type") != "context"  # none, no line


def test_the_prior_event_s_attacker_and_target_are_on_its_line_and_in_the_webhook_story() -> None:
    taji, iraq = Place("camp-taji", "Camp Taji", ("iraq",)), Place("iraq", "Iraq")
    group = Actor("kataib-hezbollah", "Kataib Hezbollah", "attacker")
    troops = Actor("us-forces", "US forces", "target")
    said = Actor("iran", "Iran", "involved")  # an accusation: not on the line
    prior = Event("rocket-attack", place=taji, actors=(group, troops, said), killed=3)
    struck = Actor("kataib-hezbollah", "Kataib Hezbollah", "target")
    view = _prior_view(Event("air-strike", place=iraq, actors=(struck,), prior=prior))
    line = "Rocket attack by Kataib Hezbollah against US forces at Camp Taji · 3 killed"
    assert view.prior == line
    assert view.summary == "Air strike against Kataib Hezbollah in Iraq"  # the news's roles
    msg = render.story_message(view)
    assert msg.blocks[0]["text"]["text"] == "HIGH · Air strike · Iraq"
    context = [e["text"] for b in msg.blocks if b["type"] == "context" for e in b["elements"]]
    assert f"After: {line}" in context
    assert f"After: {line}" in render.plain_text(msg)
    assert check_message({"text": msg.text, "blocks": msg.blocks}) is None
    sent = story_dict(view)
    assert sent["prior"] == line
    assert sent["prior_actors"] == [
        "Kataib Hezbollah (attacker)",
        "US forces (target)",
        "Iran",
    ]


def test_an_accused_actor_reads_as_alleged_with_who_blames_it_never_as_the_attacker() -> None:
    """ "The Houthis blamed the coalition for the strike": the message says the coalition
    is blamed and by whom, and puts neither group before the strike as its doer."""
    yemen = Place("yemen", "Yemen")
    blamed = Actor("saudi-coalition", "Saudi-led coalition", "accused", ("Houthi movement",))
    speaker = Actor("houthis", "Houthi movement", "involved")
    view = _prior_view(Event("air-strike", place=yemen, actors=(blamed, speaker), killed=12))
    assert view.summary == (
        "Air strike in Yemen, blamed on Saudi-led coalition by Houthi movement · 12 killed"
    )
    assert view.entities == (
        "Yemen",
        "Saudi-led coalition (alleged attacker, blamed by Houthi movement)",
        "Houthi movement",
    )
    msg = render.story_message(view)
    fields = " ".join(f["text"] for b in msg.blocks for f in b.get("fields", ()))
    assert "Saudi-led coalition (alleged attacker, blamed by Houthi movement)" in fields
    assert "(target)" not in fields and "(attacker)" not in fields
    unnamed = Actor("islamic-state", "Islamic State", "accused")  # "police suspect ..."
    view = _prior_view(Event("air-strike", place=yemen, actors=(unnamed,)))
    assert view.summary == "Air strike in Yemen, blamed on Islamic State"
    assert view.entities == ("Yemen", "Islamic State (alleged attacker)")
