"""`monitor demo`: the whole pipeline, offline, in one command.

Serves two sample outlets on 127.0.0.1, writes a demo monitor.yaml that uses the shipped
taxonomy and watchlists, polls once into a throwaway SQLite database and reports the stories
and what was alerted. With SLACK_WEBHOOK_URL, or SLACK_BOT_TOKEN + SLACK_CHANNEL, the alert
also goes to Slack.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from monitor.alert.outbox import routes_from_env
from monitor.config import Config, load_config
from monitor.demo.site import DemoSite, load_articles
from monitor.resources import shipped_config_dir
from monitor.runtime import open_runtime, poll_once, utcnow
from monitor.storage.alerts import story_articles
from monitor.storage.models import AlertRow, Story

DEMO_RULES = Path(__file__).parent / "data" / "demo-watch.yaml"


@dataclass(frozen=True)
class DemoStory:
    id: int
    headline: str
    severity: str | None
    incident_types: list[str]
    acled_types: list[str]
    entities: list[str]
    casualties: dict[str, Any]
    sources: list[dict[str, str]]
    alerts: list[dict[str, Any]] = field(default_factory=list)
    event: dict[str, Any] = field(default_factory=dict)
    routes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class DemoResult:
    stories: list[DemoStory]

    @property
    def alerted(self) -> list[DemoStory]:
        return [s for s in self.stories if s.alerts]

    def as_json(self) -> dict[str, Any]:
        return {
            "alerted_stories": [s.__dict__ for s in self.alerted],
            "other_stories": [s.__dict__ for s in self.stories if not s.alerts],
        }

    def as_text(self) -> str:
        count = len(self.alerted)
        lines = [f"Alerted: {count} {'story' if count == 1 else 'stories'}", ""]
        for s in self.alerted:
            lines += _story_lines(s)
        others = [s for s in self.stories if not s.alerts]
        if others:
            lines.append("Stored as separate stories, not alerted:")
            lines += [f"  - {s.headline}: {_why_not_alerted(s)}" for s in others]
        return "\n".join(lines)


def _why_not_alerted(s: DemoStory) -> str:
    """Each story's own reason: "no rule matched, or below the route's minimum" left an
    analyst wondering why a HIGH story was not sent."""
    if not s.severity:
        return "no rule matched"
    routes = ", ".join(s.routes) or "default"
    return (
        f"a rule matched (severity {s.severity}), below the min_severity of route {routes} "
        "(the demo's `default` route takes only critical stories)"
    )


def _story_lines(s: DemoStory) -> list[str]:
    return [
        f"Story {s.id}: {s.headline}",
        f"  severity:       {s.severity}",
        # every type any report fired, background paragraphs included: the alert above
        # leads with the story's own event, so the label must not read as its type
        f"  types named:    {', '.join(s.incident_types)} (anywhere in its reports)",
        f"  ACLED types:    {', '.join(s.acled_types)} (idem)",
        f"  entities:       {', '.join(s.entities)}",
        f"  casualties:     {_toll_text(s)}",
        f"  sources ({len(s.sources)}):",
        *[f"    - {src['outlet']}: {src['title']} ({src['url']})" for src in s.sources],
        f"  alerts:         {', '.join(_alert_line(a) for a in s.alerts)}",
        "",
    ]


def _toll_text(s: DemoStory) -> str:
    """The story's toll in words; a toll the news only recalls is said to be the earlier
    event's: a bare `{}` read as "nobody was hurt"."""
    own = _figures(s.casualties) or "none stated for this event"
    prior = s.event.get("prior") or {}
    earlier = _figures(prior)
    return f"{own} (the earlier event: {earlier})" if earlier else own


def _figures(toll: dict[str, Any]) -> str:
    parts = [f"{toll[k]} {k}" for k in ("killed", "wounded") if toll.get(k) is not None]
    return ", ".join(parts)


def _alert_line(alert: dict[str, Any]) -> str:
    line = f"{alert['route']} {alert['kind']} ({alert['status']})"
    if alert.get("with_first_message"):
        # One message was printed: "update (sent)" alone sent readers looking for a second.
        line = f"{alert['route']} {alert['kind']} (sent in the same message as the new alert)"
    if alert["kind"] == "update" and alert["status"] == "pending":
        # A console or webhook route cannot edit its message: updates go out as one
        # follow-up per story per `alerts.update_cooldown`.
        line += " - a follow-up after the update cooldown"
    return line


def demo_config_text(site: DemoSite, config_dir: Path) -> str:
    """The demo's monitor.yaml: local feeds, the shipped watchlists plus the demo's rule."""
    feeds = "".join(f"  - url: {url}\n    name: {name}\n" for url, name in site.feed_urls())
    return f"""# Written by `monitor demo`.
feeds:
{feeds}watchlists:
  - {config_dir / "taxonomy.yaml"}
  - {config_dir / "watchlists" / "*.yaml"}
  - {DEMO_RULES}
fetch:
  allow_private_addresses: true   # the demo's sites run on 127.0.0.1
dedup:
  window: 14d                     # the sample stories span a week
alerts:
  max_age: 21d                    # the first sample is 8 to 15 days old
  routes:
    demo:
      type: console
    default:
      type: console
      min_severity: critical
"""


def run_demo(clock: Callable[[], datetime] = utcnow, console: IO[str] | None = None) -> DemoResult:
    """Serve the samples dated around ``clock()``, poll them once as of that clock."""
    with (
        tempfile.TemporaryDirectory(prefix="monitor-demo-") as tmp,
        DemoSite(load_articles(clock())) as site,
    ):
        path = Path(tmp) / "monitor.yaml"
        path.write_text(demo_config_text(site, shipped_config_dir()), encoding="utf-8")
        config = load_config(path)
        config = _with_env_routes(config)
        rt = open_runtime(config, f"sqlite:///{Path(tmp) / 'demo.db'}", migrate=True)
        rt.clock = clock
        rt.console = console
        try:
            asyncio.run(poll_once(rt))
            return _collect(rt.sessions)
        finally:
            rt.close()


def _with_env_routes(config: Config) -> Config:
    """Send the demo's alerts to Slack when the environment names a webhook or bot token."""
    extra = routes_from_env(os.environ)
    if not extra:
        return config
    alerts = config.settings.alerts
    routes = {**alerts.routes, "demo": extra[next(iter(extra))]}
    settings = config.settings.model_copy(
        update={"alerts": alerts.model_copy(update={"routes": routes})}
    )
    return replace(config, settings=settings)


def _alert_dicts(alerts: Sequence[AlertRow]) -> list[dict[str, Any]]:
    """Each alert's route, kind and state; an update the dispatcher sent within its story's
    first message (the sources arrived in one poll) is marked as such."""
    # One dispatch stamps its batch with one time; a later follow-up on a console or webhook
    # route waits out alerts.update_cooldown, so it never shares the first message's time.
    first = {a.route: a.sent_at for a in alerts if a.kind == "new" and a.status == "sent"}
    return [
        {
            "route": a.route,
            "kind": a.kind,
            "status": a.status,
            "with_first_message": a.kind == "update"
            and a.status == "sent"
            and a.sent_at is not None
            and a.sent_at == first.get(a.route),
        }
        for a in alerts
    ]


def _collect(sessions: sessionmaker[Session]) -> DemoResult:
    with sessions() as s:
        stories = []
        for story in s.scalars(select(Story).order_by(Story.first_seen)):
            arts = story_articles(session=s, story_id=story.id)
            alerts = s.scalars(select(AlertRow).where(AlertRow.story_id == story.id)).all()
            stories.append(
                DemoStory(
                    id=story.id,
                    headline=story.headline,
                    severity=story.severity,
                    incident_types=list(story.incident_types or []),
                    acled_types=list(story.acled_types or []),
                    entities=[e.get("name", e.get("id", "?")) for e in story.entities or []],
                    casualties=dict(story.casualties or {}),
                    sources=[
                        {"outlet": a.source or "", "title": a.title, "url": a.url or ""}
                        for a in arts
                    ],
                    alerts=_alert_dicts(alerts),
                    event=dict(story.event or {}),
                    routes=list(story.routes or []),
                )
            )
    return DemoResult(stories)
