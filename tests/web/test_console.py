"""The web console and /api/v1: access, search on both databases, the story page, actions."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import Exists, select
from sqlalchemy.orm import Session, sessionmaker
from webkit import T0, TEXT, TOLL, add

from monitor.classify.watchlist import load_watchlists
from monitor.storage.listing import Cursor, StoryFilter, _has_facet, list_stories
from monitor.storage.models import ArticleRow, AuditEntry, Feedback, Story
from monitor.web.app import create_app
from monitor.web.auth import hash_secret
from monitor.web.deps import Console
from monitor.web.filters import watchlist_rules
from monitor.web.server import WebServer
from monitor.web.settings import ApiToken, ProxyLogin, WebSettings, WebUser

PASSWORD_HASH = hash_secret("correct horse")
TOKEN_HASH = hash_secret("tok-123")


def client(sessions: sessionmaker[Session], **web: Any) -> TestClient:
    console = Console(WebSettings(**web), sessions, clock=lambda: T0)
    return TestClient(create_app(console), base_url="http://127.0.0.1")


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert found
    return found.group(1)


def test_search_finds_words_of_the_article_text_and_follows_edits(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as s:
        kh = add(s, 1, text=TEXT).id
        add(s, 2, text="A record date harvest near Basra")
    with sessions() as s:
        found = list_stories(session=s, filters=StoryFilter(text="kitaeb"))
        assert [x.id for x in found.stories] == [kh]
        assert list_stories(session=s, filters=StoryFilter(text="kitaeb basra")).stories == []
        # Words only: FTS syntax in a query is text, never an error.
        assert list_stories(session=s, filters=StoryFilter(text='"NEAR( -* OR')).stories == []
    with sessions.begin() as s:
        s.scalars(select(ArticleRow).where(ArticleRow.key == "a2")).one().text = "Kitaeb too"
    with sessions() as s:
        found = list_stories(session=s, filters=StoryFilter(text="Kitaeb"))
        assert len(found.stories) == 2


def test_filters_and_keyset_paging(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        for n in range(5):
            add(s, n, severity="high" if n % 2 else "low")
        kh = add(s, 9, text=TEXT, severity="high", entities=[{"id": "kataib-hezbollah"}]).id
    with sessions() as s:
        first = list_stories(session=s, filters=StoryFilter(), limit=4)
        assert [x.headline for x in first.stories] == ["Story 9", "Story 4", "Story 3", "Story 2"]
        assert first.next is not None
        rest = list_stories(
            session=s, filters=StoryFilter(), after=Cursor.decode(first.next.encode())
        )
        assert [x.headline for x in rest.stories] == ["Story 1", "Story 0"] and rest.next is None
        high = list_stories(session=s, filters=StoryFilter(severity="high"))
        assert [x.headline for x in high.stories] == ["Story 9", "Story 3", "Story 1"]
        for f in (StoryFilter(entity="kataib-hezbollah"), StoryFilter(rules=("strikes-on-kh",))):
            assert [x.id for x in list_stories(session=s, filters=f).stories] == [kh]


def test_a_common_and_a_rare_value_page_alike(sessions: sessionmaker[Session]) -> None:
    # A value on many stories is found by walking the list, one on few by fetching its
    # stories: both must page the same way.
    with sessions.begin() as s:
        for n in range(12):
            common = [{"id": "common"}] if n not in (0, 5) else []
            add(s, n, entities=common + ([{"id": "rare"}] if n in (3, 8) else []))
        assert isinstance(_has_facet(s, "entity", ("common",), common=8), Exists)
        assert not isinstance(_has_facet(s, "entity", ("rare",), common=8), Exists)
    with sessions() as s:
        common_ones = [n for n in range(11, -1, -1) if n not in (0, 5)]
        for value, expected in (("common", common_ones), ("rare", [8, 3])):
            seen: list[str] = []
            after = None
            while True:  # two a page of 12 stories: 8 (sqrt(2*3*12)) or more is "many"
                page = list_stories(
                    session=s, filters=StoryFilter(entity=value), after=after, limit=2
                )
                seen += [x.headline for x in page.stories]
                if page.next is None:
                    break
                after = page.next
            assert seen == [f"Story {n}" for n in expected]


def test_open_console_says_so_and_still_wants_the_csrf_token(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as s:
        story = add(s, 1)
    web = client(sessions)
    page = web.get("/")
    assert page.status_code == 200 and "No logins are configured" in page.text
    # The column counts outlets; a story's page lists every report under "Sources (N)".
    assert ">Outlets</th>" in page.text and ">Sources</th>" not in page.text
    assert web.post(f"/stories/{story.id}/mute").status_code == 403
    assert web.post(f"/stories/{story.id}/mute", data={"csrf": csrf_of(page.text)}).is_success
    with sessions() as s:
        assert s.get_one(Story, story.id).muted


def test_with_users_a_login_is_needed_and_no_secret_is_shown(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as s:
        story_id = add(s, 1, text=TEXT).id
    web = client(
        sessions,
        users=[WebUser(username="ana", password_hash=PASSWORD_HASH)],
        api_tokens=[ApiToken(name="ci", token_hash=TOKEN_HASH)],
    )
    assert web.get("/", follow_redirects=False).headers["location"] == "/login"
    assert web.post(f"/stories/{story_id}/mute").status_code == 401
    assert web.get("/api/v1/stories").status_code == 401
    login = web.get("/login")
    wrong = {"username": "ana", "password": "nope", "csrf": csrf_of(login.text)}
    assert "wrong user name or password" in web.post("/login", data=wrong).text
    right = {**wrong, "password": "correct horse"}
    listing = web.post("/login", data=right)
    assert "Story 1" in listing.text and "No logins are configured" not in listing.text
    assert "scrypt$" not in listing.text and "correct horse" not in listing.text
    # The API answers a token without any cookie, and refuses a wrong one.
    bare = TestClient(web.app, base_url="http://127.0.0.1")
    ok = bare.get("/api/v1/stories?q=kitaeb", headers={"Authorization": "Bearer tok-123"})
    assert [s["id"] for s in ok.json()["stories"]] == [story_id]
    assert bare.get("/api/v1/stories", headers={"Authorization": "Bearer x"}).status_code == 401


def test_story_page_highlights_aliases_keywords_and_the_toll_sentence(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as s:
        story = add(s, 1, text=TEXT)
        s.get_one(ArticleRow, 1).url = "javascript:alert(1)"
    page = client(sessions).get(f"/stories/{story.id}").text
    assert '<mark class="alias">Kitaeb Hezbollah</mark>' in page
    assert '<mark class="keyword">rockets</mark>' in page
    assert f'<mark class="toll">{TOLL}</mark>' in page
    assert "javascript:" not in page
    assert "<strong>Rules:</strong> strikes-on-kh (severity high)" in page  # why, and why HIGH
    assert "<dt>Toll</dt><dd>3 killed</dd>" in page  # the figures stated, no "wounded -"


def test_story_page_says_in_words_why_each_report_is_in_it_with_the_figures_on_demand(
    sessions: sessionmaker[Session],
) -> None:
    figures = (
        "same event: model p=0.84 >= 0.43 (text +2.1, meaning +0.9, other_days -0.4); "
        "text 0.52 title 0.31 entities 1.00 types 1.00 decay 0.91 meaning 0.81"
    )
    with sessions.begin() as s:
        story = add(s, 1, text=TEXT)
        s.get_one(ArticleRow, 1).story_reason = figures
        add(s, 2)  # a reason the grouper never wrote: shown as it is
        s.get_one(ArticleRow, 2).story_reason = "moved by hand"
    web = client(sessions)
    page = web.get(f"/stories/{story.id}").text
    why = re.search(r'<span class="why" title="([^"]*)">([^<]*)</span>', page)
    assert why, page
    title, said = why.groups()
    assert said.startswith(
        "Joined this story: the learned model gives 84% that the two report the same "
        "event (it joins from 43%). Weighed most for: the wording, the meaning; against: "
        "the days named. In common: much of the wording, some of the headline words, "
        "the names given and the kind of incident; close in meaning; counted at 91% "
    )
    assert title == figures.replace("&", "&amp;").replace(">", "&gt;")  # on hover
    assert f"<summary>Figures</summary><code>{title}</code>" in page  # and on request
    other = web.get("/stories/2").text
    assert "moved by hand" in other and '<span class="why"' not in other
    [source] = web.get(f"/api/v1/stories/{story.id}").json()["sources"]
    assert source["story_reason"] == figures and source["story_why"] == said


def test_story_page_shows_the_prior_event_apart_from_the_event_s_place_and_toll(
    sessions: sessionmaker[Session],
) -> None:
    event = {
        "incident_type": "air-strike",
        "place": {"id": "iraq", "name": "Iraq"},
        "prior": {
            "incident_type": "rocket-attack",
            "place": {"id": "camp-taji", "name": "Camp Taji", "ancestors": ["iraq"]},
            "actors": [{"id": "kataib-hezbollah", "name": "Kataib Hezbollah", "role": "attacker"}],
            "killed": 3,
        },
    }
    with sessions.begin() as s:
        story = add(s, 1, text=TEXT, event=event)
    page = client(sessions).get(f"/stories/{story.id}").text
    after = "After: rocket-attack by Kataib Hezbollah at Camp Taji · 3 killed"
    assert f'<p class="prior">{after}</p>' in page
    assert "<dt>Place</dt><dd>Iraq</dd>" in page
    assert "<dt>Actors</dt><dd>Iraq</dd>" in page  # the earlier attacker is not the news's
    assert "<dt>Toll</dt><dd>none stated</dd>" in page  # the strike's own: none, not "-"


def test_times_are_time_elements_in_utc_with_the_zone_said(
    sessions: sessionmaker[Session],
) -> None:
    """The server's zone never shows (CI runs under Pacific/Kiritimati): a time is an ISO
    8601 ``datetime`` with its offset, and its text says UTC."""
    with sessions.begin() as s:
        story = add(s, 1, text=TEXT)
        s.get_one(ArticleRow, 1).published_at = datetime.fromisoformat("2020-03-12T23:30-05:00")
    web = client(sessions)
    page = web.get(f"/stories/{story.id}").text
    published = '<time datetime="2020-03-13T04:30:00+00:00">2020-03-13 04:30 UTC</time>'
    assert published in page
    listing = web.get("/").text
    last_seen = '<time datetime="2020-03-12T20:01:00+00:00">2020-03-12 20:01 UTC</time>'
    assert last_seen in listing
    assert re.findall(r"\d{4}-\d\d-\d\d \d\d:\d\d(?! UTC)", page + listing) == []


def test_actions_are_audited_and_not_relevant_is_feedback_per_rule(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as s:
        story = add(s, 1, text=TEXT)
        s.add(ArticleRow(key="b", title="Other", text="x", processed_at=T0, story_id=story.id))
    web = client(sessions)
    csrf = csrf_of(web.get("/").text)
    with sessions() as s:
        second = s.scalars(select(ArticleRow.id).where(ArticleRow.key == "b")).one()
    assert web.post(f"/articles/{second}/split", data={"csrf": csrf}).is_success
    answer = web.post(f"/api/v1/stories/{story.id}/not-relevant", headers={"X-CSRF-Token": csrf})
    assert answer.json() == {"ok": True, "story_id": story.id, "rules": ["strikes-on-kh"]}
    with sessions() as s:
        moved = s.get_one(ArticleRow, second)
        assert moved.story_id != story.id and moved.pinned
        log = [(e.actor, e.action, e.target) for e in s.scalars(select(AuditEntry))]
        assert log == [
            ("local", "split", f"article {second}"),
            ("local", "not_relevant", f"story {story.id}"),
        ]
        [feedback] = s.scalars(select(Feedback))
        assert (feedback.rule_id, feedback.verdict) == ("strikes-on-kh", "not_relevant")
    assert "story " + str(story.id) in web.get("/audit").text


@pytest.mark.parametrize("path", ["/api/v1/stories?after=nonsense", "/api/v1/stories?since=x"])
def test_bad_parameters_are_422_not_500(sessions: sessionmaker[Session], path: str) -> None:
    assert client(sessions).get(path).status_code == 422


def test_feeds_page_and_api_show_each_feed_s_health(sessions: sessionmaker[Session]) -> None:
    from monitor.fetch.settings import FeedConfig
    from monitor.storage.feeds import sync_feeds

    with sessions.begin() as s:
        sync_feeds(session=s, feeds=[FeedConfig(url="http://127.0.0.1:8001/a.xml")], now=T0)
    web = client(sessions)
    assert "http://127.0.0.1:8001/a.xml" in web.get("/feeds").text
    [feed] = web.get("/api/v1/feeds").json()
    assert (feed["configured_url"], feed["state"]) == ("http://127.0.0.1:8001/a.xml", "new")


def test_most_severe_first_pages_by_severity_then_newest(sessions: sessionmaker[Session]) -> None:
    severities = ["low", None, "critical", "high", "low", "critical", "info"]
    with sessions.begin() as s:
        for n, severity in enumerate(severities):
            add(s, n, severity=severity)
    seen: list[str] = []
    after = None
    with sessions() as s:
        while True:
            page = list_stories(
                session=s, filters=StoryFilter(order="severity"), after=after, limit=2
            )
            seen += [x.headline for x in page.stories]
            if page.next is None:
                break
            after = Cursor.decode(page.next.encode())
    assert seen == [
        "Story 5", "Story 2", "Story 3", "Story 4", "Story 0", "Story 6", "Story 1"
    ]  # fmt: skip
    api = client(sessions).get("/api/v1/stories?order=severity&limit=3").json()
    assert [x["headline"] for x in api["stories"]] == ["Story 5", "Story 2", "Story 3"]
    assert client(sessions).get("/api/v1/stories?order=loudest").status_code == 422


def test_the_watchlist_filter_keeps_stories_one_of_its_rules_fired_on(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    mine = tmp_path / "kh-watch.yaml"
    mine.write_text(
        "rules:\n  - id: strikes-on-kh\n    entities: {any: [kh]}\n    severity: high\n"
        "entities:\n  - {id: kh, kind: armed_group, name: Kataib Hezbollah}\n",
        encoding="utf-8",
    )
    other = tmp_path / "other.yaml"
    other.write_text(
        "rules:\n  - id: elsewhere\n    entities: {any: [x]}\n    severity: low\n"
        "entities:\n  - {id: x, kind: country, name: Elsewhere}\n",
        encoding="utf-8",
    )
    watchlist = load_watchlists([mine, other])
    assert watchlist_rules(watchlist) == {"kh-watch": ("strikes-on-kh",), "other": ("elsewhere",)}
    with sessions.begin() as s:
        kh = add(s, 1, text=TEXT).id  # strikes-on-kh fired on its article
        add(s, 2)
    console = Console(WebSettings(), sessions, clock=lambda: T0, watchlist=lambda: watchlist)
    web = TestClient(create_app(console), base_url="http://127.0.0.1")
    found = web.get("/api/v1/stories?watchlist=kh-watch").json()["stories"]
    assert [x["id"] for x in found] == [kh]
    assert web.get("/api/v1/stories?watchlist=other").json()["stories"] == []
    assert web.get("/api/v1/stories?watchlist=nope").json()["stories"] == []
    page = web.get("/?watchlist=kh-watch&order=severity").text
    assert "Story 1" in page and "Story 2" not in page
    assert "<option selected>kh-watch</option>" in page


def test_proxy_login_believes_the_header_only_from_a_trusted_proxy(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as s:
        story_id = add(s, 1).id
    proxy = ProxyLogin(header="X-Forwarded-User", trusted_proxies=["10.0.0.0/24"])
    app = create_app(Console(WebSettings(proxy_login=proxy), sessions, clock=lambda: T0))

    def from_address(host: str) -> TestClient:
        return TestClient(app, base_url="http://127.0.0.1", client=(host, 40000))

    via_proxy = from_address("10.0.0.7")
    page = via_proxy.get("/", headers={"X-Forwarded-User": "ana"})
    assert page.status_code == 200 and "Story 1" in page.text and ">ana<" in page.text
    csrf = csrf_of(page.text)
    muted = via_proxy.post(
        f"/stories/{story_id}/mute", data={"csrf": csrf}, headers={"X-Forwarded-User": "ana"}
    )
    assert muted.is_success
    with sessions() as s:
        assert [(e.actor, e.action) for e in s.scalars(select(AuditEntry))] == [("ana", "mute")]
    # Through the proxy without a user: no login; from anywhere else: refused, header or not.
    assert via_proxy.get("/", follow_redirects=False).headers["location"] == "/login"
    stranger = from_address("192.0.2.9")
    for path in ("/", "/api/v1/stories"):
        refused = stranger.get(path, headers={"X-Forwarded-User": "ana"})
        assert refused.status_code == 403 and "login proxy" in refused.text
    assert stranger.get("/healthz").status_code == 200
    # A console behind a proxy needs no users or tokens to listen beyond loopback.
    assert WebSettings(listen="0.0.0.0:8080", proxy_login=proxy).login_required


@pytest.mark.parametrize(
    ("header", "proxies", "problem"),
    [
        ("X User", ["10.0.0.1"], "not an HTTP header name"),
        ("X-User", ["proxy.localhost"], "not an IP address or network"),
        ("X-User", [], "at least 1"),
    ],
)
def test_proxy_login_settings_are_checked(header: str, proxies: list[str], problem: str) -> None:
    with pytest.raises(ValidationError, match=problem):
        ProxyLogin(header=header, trusted_proxies=proxies)


def test_the_server_never_takes_the_peer_address_from_x_forwarded_for(
    sessions: sessionmaker[Session],
) -> None:
    proxy = ProxyLogin(header="X-Forwarded-User", trusted_proxies=["203.0.113.5"])
    web = WebSettings(listen="127.0.0.1:0", proxy_login=proxy)
    server = WebServer(Console(web, sessions, clock=lambda: T0))
    server.start()
    try:
        forged = {"X-Forwarded-For": "203.0.113.5", "X-Forwarded-User": "ana"}
        answer = httpx.get(f"http://127.0.0.1:{server.port}/api/v1/stories", headers=forged)
        assert answer.status_code == 403 and "not 127.0.0.1" in answer.text
    finally:
        server.stop()


def test_the_story_list_leads_with_the_event_s_own_type(sessions: sessionmaker[Session]) -> None:
    """Stored types are sorted (arrival order must not matter); the list, like the alert,
    leads with the story's event, not with whichever type sorts first."""
    with sessions.begin() as s:
        add(
            s, 1, text=TEXT, event={"incident_type": "rocket-attack"},
            incident_types=["air-strike", "armed-clash", "rocket-attack"],
        )  # fmt: skip
    listed = client(sessions).get("/api/v1/stories").json()["stories"]
    assert listed[0]["incident_types"] == ["rocket-attack", "air-strike", "armed-clash"]
