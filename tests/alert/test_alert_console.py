"""The console's alerts and routes: delivery state with Slack permalinks, a failed alert
retried and a test alert sent through the outbox, exactly once, against the local Slack."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from alertkit import T0, bot_route, queue_new_story, settings_for
from fakeslack import FakeSlack
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from monitor.alert.dispatcher import Dispatcher
from monitor.alert.settings import AlertsSettings
from monitor.storage.models import AlertRow, AuditEntry
from monitor.web.app import create_app
from monitor.web.auth import hash_secret
from monitor.web.deps import Console
from monitor.web.settings import ApiToken, WebSettings

TOKEN = {"Authorization": "Bearer tok-1"}
WORKSPACE = "http://127.0.0.1:8400"  # the Slack workspace: only a link prefix here


def console(db: sessionmaker[Session], alerts: AlertsSettings, **web: Any) -> TestClient:
    settings = WebSettings(**web)
    app = create_app(Console(settings, db, clock=lambda: T0, alerts=alerts))
    return TestClient(app, base_url="http://127.0.0.1")


def api(db: sessionmaker[Session], alerts: AlertsSettings) -> TestClient:
    tokens = [ApiToken(name="ops-bot", token_hash=hash_secret("tok-1"))]
    return console(db, alerts, api_tokens=tokens)


def one_story(db: sessionmaker[Session], settings: AlertsSettings) -> int:
    with db.begin() as s:
        story = queue_new_story(
            s, settings, headline="Rockets hit Camp Taji", key="k1", outlet="Northgate Post"
        )
        return story.id


def alerts(db: sessionmaker[Session]) -> list[AlertRow]:
    with db() as s:
        return list(s.scalars(select(AlertRow).order_by(AlertRow.id)))


def test_a_failed_alert_retried_from_the_console_lands_once(
    db: sessionmaker[Session], slack: FakeSlack
) -> None:
    settings = settings_for({"ops": bot_route(slack, workspace_url=WORKSPACE)})
    settings = settings.model_copy(
        update={"dispatch": settings.dispatch.model_copy(update={"max_attempts": 1})}
    )
    story_id = one_story(db, settings)
    # Slack takes the message but the reply is lost: with one attempt allowed, it fails.
    slack.fail("chat.postMessage", "drop_reply")
    assert Dispatcher(settings=settings, sessions=db, clock=lambda: T0).run_once().failed == 1
    [failed] = alerts(db)
    assert failed.status == "failed" and len(slack.top_level()) == 1
    web = api(db, settings)
    shown = web.get("/api/v1/alerts?status=failed", headers=TOKEN).json()
    assert [a["id"] for a in shown["alerts"]] == [failed.id]
    assert shown["routes"][0] | {"failed": 1, "failing": True} == shown["routes"][0]
    retried = web.post(f"/api/v1/alerts/{failed.id}/retry", headers=TOKEN)
    assert retried.json() == {"ok": True, "alert_id": failed.id}
    assert web.post(f"/api/v1/alerts/{failed.id}/retry", headers=TOKEN).status_code == 409
    later = T0 + timedelta(minutes=1)
    assert Dispatcher(settings=settings, sessions=db, clock=lambda: later).run_once().sent == 1
    # The retry looked in the channel first: the message that landed is not posted again.
    assert len(slack.top_level()) == 1
    [sent] = alerts(db)
    assert sent.status == "sent" and sent.message_ts == slack.top_level()[0]["ts"]
    story = web.get(f"/api/v1/stories/{story_id}", headers=TOKEN).json()
    ts = sent.message_ts or ""
    link = f"{WORKSPACE}/archives/{sent.channel}/p{ts.replace('.', '')}"
    assert story["alerts"][0]["permalink"] == link
    page = console(db, settings).get("/alerts").text
    assert f'href="{link}"' in page and "Send test alert" in page
    with db() as s:
        audit = [(e.actor, e.action, e.target) for e in s.scalars(select(AuditEntry))]
    assert audit == [("ops-bot", "alert_retry", f"alert {failed.id}")]


def test_a_test_alert_goes_through_the_outbox_once(
    db: sessionmaker[Session], slack: FakeSlack
) -> None:
    settings = settings_for({"ops": bot_route(slack)})
    web = api(db, settings)
    queued = web.post("/api/v1/routes/ops/test", headers=TOKEN).json()
    assert web.post("/api/v1/routes/nowhere/test", headers=TOKEN).status_code == 409
    [row] = alerts(db)
    assert (row.id, row.kind, row.status, row.story_id) == (
        queued["alert_id"],
        "test",
        "pending",
        None,
    )
    assert slack.top_level() == []  # nothing sent from the web request itself
    # The reply is lost on the first try: the retry finds the message, and posts nothing.
    slack.fail("chat.postMessage", "drop_reply")
    d = Dispatcher(settings=settings, sessions=db, clock=lambda: T0)
    assert d.run_once().retrying == 1
    later = T0 + timedelta(minutes=5)
    assert Dispatcher(settings=settings, sessions=db, clock=lambda: later).run_once().sent == 1
    [message] = slack.top_level()
    assert "Test alert from monitor for route ops" in str(message)
    [row] = alerts(db)
    assert row.status == "sent" and row.message_ts == message["ts"]
    listed = web.get("/api/v1/alerts?route=ops", headers=TOKEN).json()
    assert listed["alerts"][0] | {"kind": "test", "status": "sent"} == listed["alerts"][0]


def test_alert_actions_need_the_csrf_token(db: sessionmaker[Session], slack: FakeSlack) -> None:
    settings = settings_for({"ops": bot_route(slack)})
    web = console(db, settings)
    assert web.post("/routes/ops/test").status_code == 403
    assert web.post("/api/v1/routes/ops/test").status_code == 403
    assert alerts(db) == []
    csrf = web.get("/alerts").text.split('name="csrf-token" content="')[1].split('"')[0]
    page = web.post("/routes/ops/test", data={"csrf": csrf})
    assert "test alert 1 queued for route ops" in page.text
