"""The whole path over real HTTP on 127.0.0.1: feeds -> pages -> classify -> story -> Slack.

Day 1 only the first outlet has reported; day 2 the second outlet's feed carries the same
event. The fake Slack channel must then hold ONE message, edited to two sources, and one
thread reply — for the seed articles (when ../shared is present) and for our own samples.
"""

from __future__ import annotations

import asyncio
import json
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fakeslack import FakeSlack

from monitor.config import load_config
from monitor.demo.site import DemoArticle, DemoSite, load_articles
from monitor.resources import shipped_config_dir
from monitor.runtime import open_runtime, poll_once

pytestmark = pytest.mark.slow


def sample_articles() -> list[DemoArticle]:
    """Our own two reports of one event (the demo's), by two outlets a day apart."""
    articles = load_articles(datetime.now(UTC))
    return sorted(
        (
            a
            for a in articles
            if a.slug in ("taji-rocket-attack-us-strikes", "iraq-militia-strikes-reaction")
        ),
        key=lambda a: a.published,
    )


def write_config(path: Path, feeds: list[tuple[str, str]], slack: FakeSlack) -> Path:
    config_dir = shipped_config_dir()
    listed = "".join(f"  - url: {u}\n    name: {n}\n" for u, n in feeds)
    path.write_text(
        f"feeds:\n{listed}"
        f"watchlists:\n  - {config_dir / 'taxonomy.yaml'}\n  - {config_dir / 'watchlists'}/*.yaml\n"
        "fetch:\n  allow_private_addresses: true\n"
        "alerts:\n  max_age: 5000d\n"  # the seeds are from 2020, polled today
        "  routes:\n    default:\n      type: slack\n"
        f"      token: {slack.token}\n      channel: {slack.channel}\n"
        f"      api_url: {slack.api_url}\n",
        encoding="utf-8",
    )
    return path


def poll(config_path: Path, db_url: str, *, migrate: bool) -> None:
    rt = open_runtime(load_config(config_path), db_url, migrate=migrate)
    try:
        asyncio.run(poll_once(rt))
    finally:
        rt.close()


def run_two_days(tmp_path: Path, articles: list[DemoArticle], slack: FakeSlack) -> None:
    db_url = f"sqlite:///{tmp_path / 'monitor.db'}"
    with DemoSite(articles) as site:
        first, second = site.feed_urls()
        poll(write_config(tmp_path / "day1.yaml", [first], slack), db_url, migrate=True)
        assert len(slack.top_level()) == 1
        poll(write_config(tmp_path / "day2.yaml", [first, second], slack), db_url, migrate=False)


def assert_one_message_then_one_update(slack: FakeSlack, second_outlet: str) -> None:
    [message] = slack.top_level()
    [reply] = slack.replies(message["ts"])
    assert message.get("edited")
    assert "Sources (2)" in json.dumps(message["blocks"])
    assert second_outlet in json.dumps(reply["blocks"])


def test_seed_articles_through_the_full_pipeline(
    tmp_path: Path, seed_articles: list[DemoArticle], slack: FakeSlack
) -> None:
    run_two_days(tmp_path, seed_articles, slack)
    assert_one_message_then_one_update(slack, "The Washington Post")


def test_our_samples_through_the_full_pipeline(tmp_path: Path, slack: FakeSlack) -> None:
    run_two_days(tmp_path, sample_articles(), slack)
    assert_one_message_then_one_update(slack, "Riverside Ledger")


def test_the_seeds_in_one_poll_give_one_message_that_says_what_happened(
    tmp_path: Path, seed_articles: list[DemoArticle], slack: FakeSlack
) -> None:
    """Header: severity, the strikes' type and Iraq, where they hit; Camp Taji and its
    3 killed belong to the rocket attack the strikes answered ("responding to a rocket
    attack on a military base that killed ..."), and so do the 14 wounded a later sentence
    tells of "the base", shown as context on its own line with its own toll; no type read
    from background."""
    db_url = f"sqlite:///{tmp_path / 'monitor.db'}"
    with DemoSite(seed_articles) as site:
        poll(write_config(tmp_path / "both.yaml", site.feed_urls(), slack), db_url, migrate=True)
    [message] = slack.top_level()
    assert slack.replies(message["ts"]) == []  # both sources in the first post
    header = message["blocks"][0]["text"]["text"]
    assert header == "HIGH · Air or drone strike · Iraq"
    blocks = json.dumps(message["blocks"], ensure_ascii=False)
    assert "Sources (2)" in blocks
    assert "Peaceful protest" not in blocks
    context = [
        e["text"] for b in message["blocks"] if b["type"] == "context" for e in b["elements"]
    ]
    [after] = [line for line in context if line.startswith("After: ")]
    # the 14 wounded: "rockets landed on the base", Camp Taji, not where the strikes hit
    assert after.startswith(
        "After: Rocket attack at Camp Taji · Wed 11 Mar 2020 · 3 killed, 14 wounded · "
    )
    summary = message["blocks"][1]["text"]["text"]
    assert "3 killed" not in summary and "wounded" not in summary  # not the strikes' toll
    assert "U.S. launches strikes in Iraq" in message["blocks"][3]["text"]["text"]  # headline
    assert "killed one British and two U.S. service members" in after  # the toll's sentence


class StageLog:
    """A stage observer that keeps what it is told, in order (events come from threads)."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str, str, dict[str, object]]] = []
        self._lock = threading.Lock()

    def started(self, stage: str, key: str) -> None:
        with self._lock:
            self.events.append(("start", stage, key, {}))

    def ended(self, stage: str, key: str, **detail: object) -> None:
        with self._lock:
            self.events.append(("end", stage, key, detail))

    def of(self, key: str) -> list[tuple[str, str]]:
        return [(what, stage) for what, stage, k, _ in self.events if k == key]


def test_an_observer_is_told_each_entry_s_stages_in_order(tmp_path: Path, slack: FakeSlack) -> None:
    stages = StageLog()
    with DemoSite(sample_articles()) as site:
        feed = site.feed_urls()[0]
        config = load_config(write_config(tmp_path / "m.yaml", [feed], slack))
        rt = open_runtime(config, f"sqlite:///{tmp_path / 'm.db'}", migrate=True, observer=stages)
        try:
            asyncio.run(poll_once(rt))
        finally:
            rt.close()
    [(_, _, _, polled)] = [e for e in stages.events if e[:2] == ("end", "poll")]
    entries = polled["entries"]
    assert isinstance(entries, list) and entries
    assert stages.of(feed[0]) == [("start", "poll"), ("end", "poll")]
    for url in entries:
        assert stages.of(url) == [
            ("start", "extract"), ("start", "page"), ("end", "page"), ("end", "extract"),
            ("start", "embed"), ("end", "embed"), ("start", "process"), ("end", "process"),
        ]  # fmt: skip
    alerts = [e[3]["alert"] for e in stages.events if e[:2] == ("end", "process")]
    assert alerts == ["new"] * len(entries)  # one feed's reports of separate events
    assert len(slack.top_level()) == len(entries)
