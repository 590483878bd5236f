"""Alert delivery: rendering cost, dispatch throughput, and exactly-once under failures.

Runs against our fake Slack (tests/alert/fakeslack.py) on 127.0.0.1, so numbers measure
monitor's own overhead, not Slack's. Pacing is off (channel_interval 0) to measure cost;
in production the 1 msg/s/channel limit dominates.
"""

from __future__ import annotations

import logging
import random
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench._report import sized, update_section

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "alert"))

from fakeslack import FakeSlack

from monitor.alert import render
from monitor.alert.dispatcher import Dispatcher
from monitor.alert.outbox import enqueue
from monitor.alert.settings import AlertsSettings, DispatchSettings, RouteConfig
from monitor.alert.view import Source, StoryView
from monitor.storage.db import make_engine, session_factory, upgrade
from monitor.storage.models import ArticleRow, Story
from monitor.types import AlertDecision

T0 = datetime(2020, 3, 12, 20, 0, tzinfo=UTC)
STORIES = sized(200, 10)
FAILURE_RATE = 0.2
MODES = ("429", "500", "reset", "drop_reply")


def _view(n_sources: int) -> StoryView:
    sources = tuple(
        Source(f"Outlet {i}", f"http://127.0.0.1:{8000 + i}/a", "A title " * 8, T0)
        for i in range(n_sources)
    )
    return StoryView(
        story_id=1,
        headline="Rockets hit a base north of the capital",
        severity="high",
        incident_types=("Rocket attack",),
        place="Camp Taji",
        entities=("Camp Taji", "Militia"),
        killed=2,
        wounded=5,
        evidence="Several rockets struck the base late on Wednesday.",
        matched=("rockets", "struck"),
        sources=sources,
        first_seen=T0,
    )


def bench_render() -> list[tuple[str, float, int]]:
    rows = []
    for n in (1, 10, 500):
        view = _view(n)
        runs = 300
        start = time.perf_counter()
        for _ in range(runs):
            msg = render.story_message(view)
        rows.append(
            (
                f"{n} source{'s' if n != 1 else ''}",
                (time.perf_counter() - start) / runs * 1e6,
                msg.size(),
            )
        )
    return rows


def _fill(sessions, settings: AlertsSettings) -> None:
    with sessions.begin() as s:
        for i in range(STORIES):
            story = Story(headline=f"Story {i}", first_seen=T0, last_seen=T0, severity="high")
            s.add(story)
            s.flush()
            art = ArticleRow(
                key=f"k{i}",
                url=f"http://127.0.0.1/{i}",
                title=f"Story {i}",
                text="",
                source="Outlet",
                published_at=T0,
                processed_at=T0,
                story_id=story.id,
            )
            s.add(art)
            s.flush()
            decision = AlertDecision(story.id, "new", "high", ("ops",))
            enqueue(
                session=s,
                decision=decision,
                story=story,
                article_id=art.id,
                settings=settings,
                now=T0,
            )


def bench_dispatch(failure_rate: float) -> dict[str, float]:
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp, FakeSlack() as slack:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'b.db'}")
        upgrade(engine)
        sessions = session_factory(engine)
        route = RouteConfig(
            type="slack", token=slack.token, channel=slack.channel, api_url=slack.api_url
        )
        dispatch = DispatchSettings(
            channel_interval=timedelta(0), retry_base=timedelta(0), max_attempts=50
        )
        settings = AlertsSettings(routes={"ops": route}, dispatch=dispatch)
        _fill(sessions, settings)
        for _ in range(int(STORIES * failure_rate)):
            slack.fail("chat.postMessage", rng.choice(MODES), retry_after=0)
        # Spread the injected failures over the run: they are consumed by the next requests.
        clock = [T0]
        d = Dispatcher(settings=settings, sessions=sessions, clock=lambda: clock[0])
        start = time.perf_counter()
        rounds = 0
        while rounds < 100:
            rounds += 1
            report = d.run_once()
            clock[0] += timedelta(minutes=1)
            if report.sent == 0 and report.retrying == 0 and report.deferred == 0:
                break
        elapsed = time.perf_counter() - start
        posted = [m["metadata"]["event_payload"]["story_id"] for m in slack.top_level()]
        per_story = Counter(posted)
        engine.dispose()
        return {
            "seconds": elapsed,
            "per_s": STORIES / elapsed,
            "messages": len(slack.top_level()),
            "duplicates": sum(c - 1 for c in per_story.values()),
            "missing": STORIES - len(per_story),
            "calls": len(slack.calls) / STORIES,
            # stories posted after a story queued later (the alerts were queued in id order)
            "out_of_order": sum(
                1 for i, sid in enumerate(posted) if sid < max(posted[:i], default=0)
            ),
        }


def main() -> None:
    logging.getLogger("monitor.alert").setLevel(logging.ERROR)  # injected failures are expected
    renders = bench_render()
    clean = bench_dispatch(0.0)
    faulty = bench_dispatch(FAILURE_RATE)
    lines = [
        "## Alert delivery",
        "",
        "Rendering one Block Kit story message (`render.story_message`):",
        "",
        "| story | µs per message | message size (chars) |",
        "|---|---:|---:|",
    ]
    lines += [f"| {name} | {us:.0f} | {size:,} |" for name, us, size in renders]
    lines += [
        "",
        f"Dispatching {STORIES} new-story alerts to the fake Slack over 127.0.0.1 "
        "(SQLite outbox, pacing off):",
        "",
        "| injected failures | alerts/s | messages | duplicates | missing | out of order "
        "| API calls per alert |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for label, r in (
        ("none", clean),
        (f"{int(FAILURE_RATE * 100)}% of posts: 429/500/reset/dropped reply", faulty),
    ):
        lines.append(
            f"| {label} | {r['per_s']:.0f} | {r['messages']} | {r['duplicates']} | {r['missing']} "
            f"| {r['out_of_order']} | {r['calls']:.2f} |"
        )
    lines += [
        "",
        "Dropped replies landed in the channel but were not acknowledged; the retry found "
        "them by `metadata.alert_id` (`conversations.history`) instead of posting again. "
        "*Out of order*: messages posted after one whose alert was queued later; a failing "
        "alert holds its route until it is sent, so retries (with jitter) reorder nothing.",
    ]
    update_section(
        "alert_delivery", "\n".join(lines), command=".venv/bin/python -m bench.alert_delivery"
    )


if __name__ == "__main__":
    main()
