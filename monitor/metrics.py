"""Prometheus metrics, exposed at /metrics by `monitor run`.

These are kept by this process (a replica's own counts: sum them across replicas). What
every replica sees alike, the outbox and the database, is read at scrape time instead
(monitor/web/scrape.py). README "Metrics" lists them all with example alert rules.
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import Counter, Gauge, Histogram

ARTICLES = Counter(
    "monitor_articles_total", "Articles seen by the pipeline", ["outcome"]
)  # outcome: processed | same_item | failed
ALERT_DECISIONS = Counter("monitor_alert_decisions_total", "Alert decisions", ["kind"])
FEEDS_POLLED = Counter("monitor_feed_polls_total", "Feed polls", ["result"])  # ok | error
PROCESS_SECONDS = Histogram(
    "monitor_article_process_seconds", "Time to classify, cluster and decide one article"
)
# A feed had more new entries than fetch.max_backlog_per_feed stores: the rest stay in the
# feed, unseen, for a full download once the stored backlog is worked off.
BACKLOG_CAP_HITS = Counter(
    "monitor_feed_backlog_cap_hits_total", "Polls that filled a feed's stored backlog"
)

# Alerts that left the outbox, counted by the dispatcher of this process as it finishes
# them: "failed" is for good (a permanent error, or max_attempts spent), not a retry.
ALERTS_SENT = Counter("monitor_alerts_sent_total", "Alerts delivered", ["route"])
ALERTS_FAILED = Counter(
    "monitor_alerts_failed_total", "Alerts given up on (permanent error or attempts spent)",
    ["route"],
)  # fmt: skip
# Set each scheduler tick whose claim of due feeds the database answered: it stops
# moving while the database is down or the loop is stuck.
POLL_LAST_SUCCESS = Gauge(
    "monitor_poll_last_success_timestamp_seconds",
    "Unix time of the last poll round (claim of due feeds) that succeeded",
)


def routes_known(routes: Iterable[str]) -> None:
    """Start each route's counters at 0: a counter that first appears at 1 is an increase
    `increase()` never sees, so the first failure of a route would not alert."""
    for route in routes:
        ALERTS_SENT.labels(route)
        ALERTS_FAILED.labels(route)


def alerts_finished(status: str, routes: Iterable[str]) -> None:
    """The dispatcher finished alerts of ``routes`` (one entry per alert) with ``status``."""
    counter = {"sent": ALERTS_SENT, "failed": ALERTS_FAILED}.get(status)
    if counter is not None:
        for route in routes:
            counter.labels(route).inc()
