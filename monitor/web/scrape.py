"""Metrics read at scrape time: the outbox and the database, as every replica sees them.

A counter in one process cannot say how many alerts wait in a shared outbox, nor that
the database stopped answering; one GROUP BY per scrape can. A scrape while the
database is down still answers 200, with ``monitor_database_up 0`` (the error goes to
the log, once and then once a minute, never into a label) and without the outbox's
gauges, whose values nobody knows then.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy.orm import Session, sessionmaker

from monitor.logs import RepeatedError
from monitor.storage.alerts import PendingByRoute, pending_by_route

log = logging.getLogger(__name__)

Paused = Callable[[], Mapping[str, bool]]  # route -> paused in this process


class ScrapeCollector(Collector):
    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        clock: Callable[[], datetime],
        routes: Iterable[str],
        paused: Paused | None = None,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._routes = tuple(routes)  # configured: reported at 0 when nothing is pending
        self._paused = paused
        self._failures = RepeatedError(log, "metrics: database query")

    def collect(self) -> Iterator[GaugeMetricFamily]:
        outbox = self._read_outbox()
        yield GaugeMetricFamily(
            "monitor_database_up",
            "1 when the database answered this scrape's query, else 0 (the error is logged)",
            value=0 if outbox is None else 1,
        )
        if outbox is not None:
            yield from self._outbox_metrics(outbox)
        if self._paused is not None:
            paused = GaugeMetricFamily(
                "monitor_alerts_route_paused",
                "1 while this process has paused the route after a permanent error",
                labels=["route"],
            )
            for route, is_paused in sorted(self._paused().items()):
                paused.add_metric([route], 1 if is_paused else 0)
            yield paused

    def _read_outbox(self) -> dict[str, PendingByRoute] | None:
        try:
            with self._sessions() as session:
                outbox = pending_by_route(session=session)
        except Exception as exc:  # unreachable, locked, a bad password: all read as "down"
            self._failures.failed(exc)
            return None
        self._failures.succeeded()
        return outbox

    def _outbox_metrics(self, outbox: dict[str, PendingByRoute]) -> Iterator[GaugeMetricFamily]:
        pending = GaugeMetricFamily(
            "monitor_alerts_pending", "Alerts waiting in the outbox", labels=["route"]
        )
        oldest = GaugeMetricFamily(
            "monitor_alerts_oldest_pending_age_seconds",
            "Age of the route's oldest pending alert (0 when none is pending)",
            labels=["route"],
        )
        now = self._clock()
        for route in sorted(set(self._routes) | set(outbox)):
            state = outbox.get(route)
            pending.add_metric([route], state.pending if state else 0)
            age = (now - state.oldest_created_at).total_seconds() if state else 0.0
            oldest.add_metric([route], max(0.0, age))
        yield pending
        yield oldest
