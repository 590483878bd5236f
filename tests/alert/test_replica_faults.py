"""The promise production users run on: several `monitor run` replicas on one PostgreSQL
database alert "without losing or repeating an alert; later sources update that alert
instead of sending new ones; the service keeps running and every other feed and alert is
unharmed" — through replicas killed mid-work, a Slack outage, and a cut database link.

Every scenario ends with the same check (``assert_promise_kept``): each article stored
once, each entry seen once per feed, every alert sent, one top-level Slack message per
alerted story, and the late source of the strikes story as one thread reply.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from fakeslack import FakeSlack
from replica_cluster import (
    Cluster,
    CuttableProxy,
    FeedSite,
    Outbox,
    per_story,
    pid_of_peer,
    wait_for,
)
from sqlalchemy.engine import Engine, make_url

from monitor.demo.site import load_articles
from monitor.storage.db import make_engine

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

STRIKES = "taji-rocket-attack-us-strikes"  # Northgate: the first report of the strikes
LATE_SOURCE = "iraq-militia-strikes-reaction"  # Riverside: the same strikes, a day later
BARRAGE = "taji-second-rocket-barrage"  # Northgate: a story of its own, alerted
HARVEST = "basra-date-harvest"  # Riverside: stored, never alerted
FIRST_WAVE = (STRIKES, BARRAGE, HARVEST)


@pytest.fixture
def pg_engine(pg_url: str) -> Iterator[Engine]:
    engine = make_engine(pg_url)
    yield engine
    engine.dispose()  # also when the test fails: a leaked connection fails a later test


@pytest.fixture
def site(wall_now: datetime) -> Iterator[FeedSite]:
    s = FeedSite(load_articles(wall_now))
    yield s
    s.close()


@pytest.fixture
def cluster(tmp_path: Path, pg_url: str, site: FeedSite, slack: FakeSlack) -> Iterator[Cluster]:
    c = Cluster(tmp_path, pg_url, site, slack)
    c.migrate()
    yield c
    c.stop()


def first_wave_out(outbox: Outbox, slack: FakeSlack) -> bool:
    return len(outbox.articles()) == 3 and outbox.unsent() == 0 and len(slack.top_level()) == 2


def late_source_out(outbox: Outbox, slack: FakeSlack) -> bool:
    return (
        len(outbox.articles()) == 4
        and outbox.unsent() == 0
        and any(slack.replies(m["ts"]) for m in slack.top_level())
    )


def release_late_source_and_finish(cluster: Cluster, outbox: Outbox, slack: FakeSlack) -> None:
    cluster.site.release(LATE_SOURCE)
    wait_for("the late source's update", lambda: late_source_out(outbox, slack))


def assert_promise_kept(
    cluster: Cluster, outbox: Outbox, slack: FakeSlack, *, tracebacks: bool = False
) -> None:
    codes = cluster.stop()
    context = cluster.logs()
    articles, entries = outbox.articles(), outbox.entries()
    assert len(articles) == 4 and set(articles.values()) == {1}, articles
    assert len(entries) == 4 and set(entries.values()) == {1}, entries
    alerts = outbox.alerts()
    assert {a.status for a in alerts} == {"sent"}, [(a.id, a.status, a.last_error) for a in alerts]
    # Two alerted stories (the strikes; the barrage), each one top-level message.
    assert sorted(per_story(slack).values()) == [1, 1], (per_story(slack), context)
    [strikes] = [m for m in slack.top_level() if "Sources (2)" in json.dumps(m["blocks"])]
    [reply] = slack.replies(strikes["ts"])  # the late source: one update, in the thread
    assert "Riverside Ledger" in json.dumps(reply["blocks"])
    assert strikes.get("edited")
    others = [m for m in slack.top_level() if m is not strikes]
    assert all(slack.replies(m["ts"]) == [] for m in others)
    assert codes and set(codes.values()) == {0}, (codes, context)  # stopped cleanly
    assert tracebacks or "Traceback" not in context, context


def test_two_replicas_store_alert_and_update_once(
    cluster: Cluster, pg_engine: Engine, slack: FakeSlack, site: FeedSite
) -> None:
    outbox = Outbox(pg_engine)
    cluster.start("a")
    cluster.start("b")
    cluster.wait_running("a", "b")  # both compete for the feeds from the first entry on
    site.release(*FIRST_WAVE)
    wait_for("the first wave alerted", lambda: first_wave_out(outbox, slack))
    release_late_source_and_finish(cluster, outbox, slack)
    assert cluster.running == {"a", "b"}
    assert_promise_kept(cluster, outbox, slack)


def test_replica_killed_holding_a_feed_lease(
    cluster: Cluster, pg_engine: Engine, slack: FakeSlack, site: FeedSite
) -> None:
    """kill -9 while it fetches the strikes' page (its feed leased to it): the other
    replica polls that feed once the lease runs out; the restarted one repeats nothing."""
    outbox = Outbox(pg_engine)
    northgate = site.feed_urls()[0][0]
    site.hold.add(STRIKES)
    site.release(*FIRST_WAVE)
    cluster.start("a")
    cluster.start("b")
    wait_for("a replica fetching the held page", site.held.is_set)
    owner = outbox.lease_owner(northgate)
    assert owner is not None
    victim = cluster.name_of(int(owner.split(":")[-2]))  # host:pid:random
    cluster.kill(victim)
    site.let_go()
    wait_for("the first wave alerted", lambda: first_wave_out(outbox, slack))
    cluster.start(victim + "2")  # restarted: it finds nothing left to do twice
    cluster.wait_running(victim + "2")
    release_late_source_and_finish(cluster, outbox, slack)
    assert site.page_requests[STRIKES] >= 2  # it was fetched again, by the survivor
    assert_promise_kept(cluster, outbox, slack)


def test_replica_killed_while_sending_an_alert(
    cluster: Cluster, pg_engine: Engine, slack: FakeSlack, site: FeedSite
) -> None:
    """kill -9 after Slack accepted the first alert but before the reply came back (the
    send landed, nothing recorded it): the survivor finds it in the channel, not re-posts."""
    outbox = Outbox(pg_engine)
    slack.fail("chat.postMessage", "hold", delay=60)
    site.release(*FIRST_WAVE)
    cluster.start("a")
    cluster.start("b")
    wait_for("a replica mid-send", lambda: slack.held)
    pids = [p.pid for p in cluster.procs.values()]
    sender = pid_of_peer(slack.held[0][1], pids)
    assert sender is not None
    victim = cluster.name_of(sender)
    cluster.kill(victim)
    slack.release()
    wait_for("the first wave alerted", lambda: first_wave_out(outbox, slack))
    cluster.start(victim + "2")
    cluster.wait_running(victim + "2")
    release_late_source_and_finish(cluster, outbox, slack)
    assert slack.calls_to("conversations.history") >= 1  # looked for before re-sending
    assert_promise_kept(cluster, outbox, slack)


def test_slack_outage_alerts_wait_and_go_out_once_in_order(
    cluster: Cluster, pg_engine: Engine, slack: FakeSlack, site: FeedSite
) -> None:
    """Slack answers 500, then 429 with Retry-After, then ok: nothing is lost or doubled,
    and the stories' messages appear in the order their alerts were queued."""
    outbox = Outbox(pg_engine)
    slack.fail("chat.postMessage", "500", times=2)
    # Retry-After told to one replica holds the other too: without that, the other one
    # posted the second story's alert while the first waited (2 runs in 3 out of order).
    slack.fail("chat.postMessage", "429", retry_after=3)
    site.release(*FIRST_WAVE)
    cluster.start("a")
    cluster.start("b")
    wait_for("the first wave alerted", lambda: first_wave_out(outbox, slack))
    assert slack.calls_to("chat.postMessage") >= 5  # every failure was met, then 2 posts
    first_alerts = [a.story_id for a in outbox.alerts() if a.kind == "new"]
    posted = [m["metadata"]["event_payload"]["story_id"] for m in slack.top_level()]
    assert posted == first_alerts
    release_late_source_and_finish(cluster, outbox, slack)
    assert_promise_kept(cluster, outbox, slack)


def test_database_link_cut_and_restored(
    tmp_path: Path, pg_url: str, slack: FakeSlack, site: FeedSite, pg_engine: Engine
) -> None:
    """Every replica's PostgreSQL connections are reset and new ones refused for a while
    (what a server restart looks like from the replicas), while one of them is between
    downloading a feed and storing its new article: they keep running, and once the
    database is back that article is stored, and its update sent, once."""
    url = make_url(pg_url)
    proxy = CuttableProxy((url.host or "127.0.0.1", url.port or 5432))
    cluster = Cluster(tmp_path, proxy.url(pg_url), site, slack)
    outbox = Outbox(pg_engine)  # the test reads around the proxy
    try:
        cluster.migrate()
        site.release(*FIRST_WAVE)
        cluster.start("a")
        cluster.start("b")
        wait_for("the first wave alerted", lambda: first_wave_out(outbox, slack))
        site.hold.add(LATE_SOURCE)
        site.release(LATE_SOURCE)
        wait_for("a replica fetching the late source's page", site.held.is_set)
        proxy.cut()  # mid-cycle: its feed downloaded, the article not yet stored
        site.let_go()
        wait_for("the article failing on the cut", lambda: cluster.logged("article failed"))
        wait_for("the replicas failing on the cut", lambda: cluster.logged("poll failed"))
        assert cluster.running == {"a", "b"}
        proxy.restore()
        wait_for("the late source's update", lambda: late_source_out(outbox, slack))
        wait_for("the replicas working again", lambda: cluster.logged("poll works again"))
        # The cut's first failure is logged with its traceback (once per job, by design).
        assert_promise_kept(cluster, outbox, slack, tracebacks=True)
    finally:
        cluster.stop()
        proxy.close()
