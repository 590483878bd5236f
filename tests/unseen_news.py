"""Unseen news for the trust audit: invented reports by four outlets in four time zones,
served as RSS feeds and article pages on 127.0.0.1 (the demo's site, other articles).

``python -m tests.unseen_news DIR`` serves them, writes DIR/monitor.yaml that polls them with
the shipped watchlists and a console route, and waits: `monitor poll --once -c DIR/monitor.yaml`.
"""

from __future__ import annotations

import json
import sys
import threading
from datetime import UTC, datetime, time, timedelta, timezone
from pathlib import Path

from monitor.demo.site import DemoArticle, DemoSite, anchor_time
from monitor.resources import shipped_config_dir

DATA = Path(__file__).parent / "data" / "unseen_news" / "articles.json"


def _offset(text: str) -> timezone:
    sign = -1 if text.startswith("-") else 1
    hours, minutes = (int(part) for part in text[1:].split(":"))
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def load(now: datetime) -> tuple[list[DemoArticle], dict[str, str | None]]:
    """The articles dated around the latest anchor weekday before ``now``, each at its
    outlet's own offset, and the event each reports (by slug; None: ordinary news)."""
    data = json.loads(DATA.read_text(encoding="utf-8"))
    outlets = {o["slug"]: o for o in data["outlets"]}
    anchor = anchor_time(now, weekday=data["anchor_weekday"], at=time(0, 0)).date()
    articles = [
        DemoArticle(
            outlet=a["outlet"],
            outlet_name=outlets[a["outlet"]]["name"],
            slug=a["slug"],
            title=a["title"],
            author="Staff reporter",
            published=datetime.combine(
                anchor + timedelta(days=a["day"]),
                time.fromisoformat(a["time"]),
                _offset(outlets[a["outlet"]]["offset"]),
            ),
            paragraphs=tuple(a["paragraphs"]),
        )
        for a in data["articles"]
    ]
    return articles, {a["slug"]: a["event"] for a in data["articles"]}


def config_text(site: DemoSite, db: Path) -> str:
    shipped = shipped_config_dir()
    feeds = "".join(f"  - {{url: '{url}', name: '{name}'}}\n" for url, name in site.feed_urls())
    return (
        f"feeds:\n{feeds}"
        f"watchlists: ['{shipped / 'taxonomy.yaml'}', '{shipped / 'watchlists' / '*.yaml'}']\n"
        "fetch: {allow_private_addresses: true}\n"
        "alerts: {max_age: 30d, routes: {default: {type: console}}}\n"
        f"storage: {{url: 'sqlite:///{db}'}}\n"
    )


def main(argv: list[str]) -> None:
    out = Path(argv[0])
    out.mkdir(parents=True, exist_ok=True)
    articles, _ = load(datetime.now(UTC))
    with DemoSite(articles) as site:
        (out / "monitor.yaml").write_text(config_text(site, out / "m.db"), encoding="utf-8")
        print(site.base, flush=True)
        threading.Event().wait()


if __name__ == "__main__":
    main(sys.argv[1:])
