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
