"""Feeds managed at run time: add, pause, resume, remove, OPML import, from the console and
/api/v1; each audited and CSRF-checked; YAML stays the source for the feeds it defines."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from webkit import T0

from monitor.errors import FeedListError
from monitor.fetch import catalog
from monitor.fetch.settings import FeedConfig
from monitor.storage.feeds import claim_due_feeds, console_feeds, due_feeds, sync_feeds
from monitor.storage.models import AuditEntry, Feed
from monitor.web.app import create_app
from monitor.web.auth import hash_secret
from monitor.web.deps import Console
from monitor.web.settings import ApiToken, WebSettings, WebUser

YAML_FEED = FeedConfig(url="http://127.0.0.1:8001/feed.xml", name="From YAML")
TOKEN = {"Authorization": "Bearer tok-123"}
OPML = b"""<?xml version="1.0"?>
<opml version="2.0"><head><title>mine</title></head><body>
  <outline text="News"><outline text="Wire" xmlUrl="http://127.0.0.1:8002/rss"/></outline>
  <outline text="Again" xmlUrl="http://127.0.0.1:8001/feed.xml"/>
  <outline text="Old gopher" xmlUrl="gopher://127.0.0.1:8003/feed"/>
  <outline text="No host" xmlUrl="https:///nohost.xml"/>
  <outline title="Daily" xmlUrl="http://127.0.0.1:8004/feed.xml"/>
</body></opml>"""


def client(sessions: sessionmaker[Session], **web: Any) -> TestClient:
    console = Console(WebSettings(**web), sessions, clock=lambda: T0)
    return TestClient(create_app(console), base_url="http://127.0.0.1")


def with_token(sessions: sessionmaker[Session]) -> TestClient:
    return client(sessions, api_tokens=[ApiToken(name="ci", token_hash=hash_secret("tok-123"))])


def yaml_synced(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        sync_feeds(session=s, feeds=[YAML_FEED], now=T0)


def due(sessions: sessionmaker[Session]) -> list[str]:
    with sessions() as s:
        return sorted(due_feeds(session=s, now=T0 + timedelta(seconds=1)))


def audit(sessions: sessionmaker[Session]) -> list[tuple[str, str, str]]:
    with sessions() as s:
        return [(e.actor, e.action, e.target) for e in s.scalars(select(AuditEntry))]


def test_a_console_feed_is_due_at_once_pausable_and_removable_and_survives_a_yaml_sync(
    sessions: sessionmaker[Session],
) -> None:
    yaml_synced(sessions)
    with sessions.begin() as s:
        feed = catalog.feed_definition(" http://127.0.0.1:8005/rss ", "Added")
        catalog.add_feed(session=s, feed=feed, actor="ana", now=T0)
    assert due(sessions) == [YAML_FEED.url, "http://127.0.0.1:8005/rss"]  # sorted
    with sessions.begin() as s:  # a restart re-syncs the YAML: the console feed stays
        sync_feeds(session=s, feeds=[YAML_FEED], now=T0)
        assert console_feeds(session=s) == [
            FeedConfig(url="http://127.0.0.1:8005/rss", name="Added")
        ]
        catalog.pause_feed(session=s, url="http://127.0.0.1:8005/rss", paused=True)
        catalog.pause_feed(session=s, url=YAML_FEED.url, paused=True)
    assert due(sessions) == []
    with sessions.begin() as s:  # the operator's pause of a YAML feed outlives a re-sync
        sync_feeds(session=s, feeds=[YAML_FEED], now=T0)
    assert due(sessions) == []
    with sessions.begin() as s:
        catalog.pause_feed(session=s, url=YAML_FEED.url, paused=False)
        catalog.pause_feed(session=s, url="http://127.0.0.1:8005/rss", paused=False)
        catalog.remove_feed(session=s, url="http://127.0.0.1:8005/rss")
    assert due(sessions) == [YAML_FEED.url]
    with sessions() as s:
        assert console_feeds(session=s) == []
        claimed = claim_due_feeds(
            session=s, owner="me", now=T0 + timedelta(seconds=1), limit=10, lease=timedelta(1)
        )
        assert claimed == [YAML_FEED.url]


def test_yaml_feeds_are_not_removed_or_added_again_and_urls_follow_the_config_s_rules(
    sessions: sessionmaker[Session],
) -> None:
    yaml_synced(sessions)
    with sessions.begin() as s:
        with pytest.raises(FeedListError, match="defined in the YAML config"):
            catalog.remove_feed(session=s, url=YAML_FEED.url)
        with pytest.raises(FeedListError, match="listed already"):
            catalog.add_feed(session=s, feed=YAML_FEED, actor="ana", now=T0)
        with pytest.raises(FeedListError, match="no listed feed"):
            catalog.pause_feed(session=s, url="http://127.0.0.1:8006/x", paused=True)
    for bad in ("ftp://127.0.0.1/feed.xml", "javascript:alert(1)", "https:///x", "feed.xml"):
        with pytest.raises(FeedListError, match="not an http"):
            catalog.feed_definition(bad)
    with pytest.raises(FeedListError, match="longer than"):
        catalog.feed_definition("http://127.0.0.1:8007/" + "x" * 2100)


def test_a_yaml_paused_feed_stays_paused_whatever_the_console_says(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as s:
        sync_feeds(session=s, feeds=[YAML_FEED.model_copy(update={"paused": True})], now=T0)
        catalog.pause_feed(session=s, url=YAML_FEED.url, paused=False)
    assert due(sessions) == []


def test_api_adds_pauses_resumes_removes_with_audit(sessions: sessionmaker[Session]) -> None:
    yaml_synced(sessions)
    api = with_token(sessions)
    added = api.post("/api/v1/feeds", json={"url": "http://127.0.0.1:8008/rss"}, headers=TOKEN)
    assert added.json() == {"ok": True, "url": "http://127.0.0.1:8008/rss"}
    again = api.post("/api/v1/feeds", json={"url": "http://127.0.0.1:8008/rss"}, headers=TOKEN)
    assert again.status_code == 409 and "listed already" in again.text
    bad = api.post("/api/v1/feeds", json={"url": "ftp://127.0.0.1:8008/rss"}, headers=TOKEN)
    assert bad.status_code == 422
    ref = {"url": "http://127.0.0.1:8008/rss"}
    assert api.post("/api/v1/feeds/pause", json=ref, headers=TOKEN).is_success
    states = {f["configured_url"]: f for f in api.get("/api/v1/feeds", headers=TOKEN).json()}
    assert states["http://127.0.0.1:8008/rss"]["state"] == "paused"
    assert states["http://127.0.0.1:8008/rss"]["origin"] == "console"
    assert states[YAML_FEED.url]["origin"] == "config"
    resume = api.post("/api/v1/feeds/pause", json={**ref, "paused": False}, headers=TOKEN)
    assert resume.is_success
    refused = api.post("/api/v1/feeds/remove", json={"url": YAML_FEED.url}, headers=TOKEN)
    assert refused.status_code == 409 and "YAML" in refused.text
    assert api.post("/api/v1/feeds/remove", json=ref, headers=TOKEN).is_success
    assert due(sessions) == [YAML_FEED.url]
    assert audit(sessions) == [
        ("ci", "feed_add", "http://127.0.0.1:8008/rss"),
        ("ci", "feed_pause", "http://127.0.0.1:8008/rss"),
        ("ci", "feed_resume", "http://127.0.0.1:8008/rss"),
        ("ci", "feed_remove", "http://127.0.0.1:8008/rss"),
    ]


def test_feed_actions_need_a_login_and_the_csrf_token(sessions: sessionmaker[Session]) -> None:
    users = [WebUser(username="ana", password_hash=hash_secret("pw"))]
    web = client(sessions, users=users)
    new = {"url": "http://127.0.0.1:8009/rss"}
    assert web.post("/api/v1/feeds", json=new).status_code == 401
    assert web.post("/feeds/add", data={**new, "csrf": "x"}).status_code == 401
    login = web.get("/login").text
    csrf = login.split('name="csrf-token" content="')[1].split('"')[0]
    landing = web.post("/login", data={"username": "ana", "password": "pw", "csrf": csrf})
    csrf = landing.text.split('name="csrf-token" content="')[1].split('"')[0]  # a new session
    assert web.post("/feeds/add", data=new).status_code == 403
    assert web.post("/api/v1/feeds", json=new).status_code == 403
    assert due(sessions) == []
    page = web.post("/feeds/add", data={**new, "name": "Stranger", "csrf": csrf})
    assert "added http://127.0.0.1:8009/rss" in page.text and "Stranger" in page.text
    assert audit(sessions) == [("ana", "feed_add", "http://127.0.0.1:8009/rss")]


def test_the_feeds_page_says_why_a_change_was_refused(sessions: sessionmaker[Session]) -> None:
    yaml_synced(sessions)
    web = client(sessions)
    csrf = web.get("/feeds").text.split('name="csrf-token" content="')[1].split('"')[0]
    page = web.post("/feeds/add", data={"url": "file:///etc/passwd", "csrf": csrf})
    assert "refused: &#39;file:///etc/passwd&#39; is not an http(s) URL" in page.text
    page = web.post("/feeds/remove", data={"url": YAML_FEED.url, "csrf": csrf})
    assert "refused:" in page.text and "remove it there" in page.text
    assert audit(sessions) == []


def test_opml_import_adds_the_good_entries_and_reports_the_bad(
    sessions: sessionmaker[Session],
) -> None:
    yaml_synced(sessions)
    api = with_token(sessions)
    answer = api.post(
        "/api/v1/feeds/import-opml", files={"file": ("mine.opml", OPML)}, headers=TOKEN
    ).json()
    assert answer["added"] == ["http://127.0.0.1:8002/rss", "http://127.0.0.1:8004/feed.xml"]
    assert answer["listed"] == [YAML_FEED.url]
    assert len(answer["errors"]) == 2
    assert "Old gopher" in answer["errors"][0] and "No host" in answer["errors"][1]
    with sessions() as s:
        named = {f.url: f.name for f in console_feeds(session=s)}
    assert named == {"http://127.0.0.1:8002/rss": "Wire", "http://127.0.0.1:8004/feed.xml": "Daily"}
    assert audit(sessions) == [
        ("ci", "feed_import_opml", "mine.opml"),
    ]
    # The same file again adds nothing; a file that is not OPML is refused whole.
    again = api.post("/api/v1/feeds/import-opml", files={"file": ("m", OPML)}, headers=TOKEN)
    assert again.json()["added"] == []
    for junk in (b"<html><body/></html>", b"not xml at all <", b"\xff\xfe"):
        refused = api.post("/api/v1/feeds/import-opml", files={"file": ("x", junk)}, headers=TOKEN)
        assert refused.status_code == 409
    bomb = b'<!DOCTYPE o [<!ENTITY a "aaaa">]><opml><body/></opml>'
    refused = api.post("/api/v1/feeds/import-opml", files={"file": ("b", bomb)}, headers=TOKEN)
    assert refused.status_code == 409 and "entity" in refused.text


def test_opml_import_from_the_page_lists_the_bad_entries(sessions: sessionmaker[Session]) -> None:
    web = client(sessions)
    csrf = web.get("/feeds").text.split('name="csrf-token" content="')[1].split('"')[0]
    page = web.post(
        "/feeds/import-opml", data={"csrf": csrf}, files={"file": ("mine.opml", OPML)}
    ).text
    assert "OPML: 3 feeds added, 0 listed already" in page
    assert "Old gopher" in page and "http://127.0.0.1:8002/rss" in page


def test_a_removed_console_feed_added_again_keeps_its_history(
    sessions: sessionmaker[Session],
) -> None:
    url = "http://127.0.0.1:8010/rss"
    with sessions.begin() as s:
        catalog.add_feed(session=s, feed=FeedConfig(url=url), actor="a", now=T0)
        s.scalars(select(Feed).where(Feed.configured_url == url)).one().entries_seen = 7
        catalog.remove_feed(session=s, url=url)
    with sessions.begin() as s:
        catalog.add_feed(session=s, feed=FeedConfig(url=url), actor="b", now=T0)
    with sessions() as s:
        row = s.scalars(select(Feed).where(Feed.configured_url == url)).one()
        assert (row.in_config, row.entries_seen, row.added_by) == (True, 7, "b")
