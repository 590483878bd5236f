"""Run the dispatcher until the outbox is empty, dying with os._exit at a named step.

    python crashing_dispatcher.py DB_URL API_URL TOKEN CHANNEL STEP KIND

STEP is before_request, after_accept, after_record or "none"; the process exits with
code 17 the first time a KIND ("new"/"update") alert reaches STEP, like a power cut:
no exception handlers, no finally blocks, no commit.
"""

from __future__ import annotations

import os
import sys
import time
from datetime import timedelta

from monitor.alert.dispatcher import Dispatcher
from monitor.alert.settings import AlertsSettings, DispatchSettings, RouteConfig
from monitor.alert.sinks import Outgoing
from monitor.storage import alerts as q
from monitor.storage.db import make_engine, session_factory


def main() -> int:
    db_url, api_url, token, channel, step, kind = sys.argv[1:7]
    route = RouteConfig(type="slack", token=token, channel=channel, api_url=api_url)
    dispatch = DispatchSettings(
        channel_interval=timedelta(0), lease=timedelta(seconds=0.3), retry_base=timedelta(0)
    )
    settings = AlertsSettings(routes={"ops": route}, dispatch=dispatch)

    def on_step(name: str, outgoing: Outgoing) -> None:
        if name == step and outgoing.kind == kind:
            os._exit(17)

    sessions = session_factory(make_engine(db_url))
    dispatcher = Dispatcher(settings=settings, sessions=sessions, on_step=on_step)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        dispatcher.run_once()
        with sessions() as session:
            if not q.recent_alerts(session=session, status=q.PENDING):
                return 0
        time.sleep(0.1)  # a crashed run's lease must expire first
    return 3


if __name__ == "__main__":
    sys.exit(main())
