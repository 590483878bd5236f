"""Prometheus metrics, exposed at /metrics by `monitor run`."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

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
