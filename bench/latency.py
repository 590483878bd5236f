"""Latency: time from an entry appearing in a feed to Slack showing it, with `monitor run`.

Outlets (feeds) on 127.0.0.1 publish reports of invented incidents at random moments; the
first report of an incident must reach Slack as a new message, a second outlet's report of
the same incident (published 20-60 s later) as an update of that message. Every feed is polled
at the minimum interval (`fetch.min_interval`, jitter 0, so the interval itself is what is
measured); alerts go to a Slack-compatible server (tests/alert/fakeslack.py) that records
when each call arrives. An entry counts as shown when a Slack call carries its title.

    .venv/bin/python -m bench.latency            # 5 minutes, 30 s interval
    .venv/bin/python -m bench.latency --tiny     # CI smoke run, no BENCHMARKS.md update

Target (issue 15): entry -> Slack p95 <= poll interval + 2 s.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from bench._report import TINY, update_section

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "alert"))

from fakeslack import FakeSlack  # noqa: E402

from monitor.resources import shipped_config_dir  # noqa: E402

COMMAND = ".venv/bin/python -m bench.latency"
RULES = Path(__file__).parent / "data" / "latency-watch.yaml"
PREFIXES = ("Tell", "Khirbet", "Bir", "Jisr", "Kafr", "Ain", "Umm", "Qasr")
ROOTS = ("Hamra", "Sawda", "Zarqa", "Bayda", "Mansur", "Rashid", "Nasir", "Jamil", "Salim")
CITIES = ("Kirkuk", "Mosul", "Basra", "Erbil", "Baghdad", "Al-Qaim", "Abu Kamal", "Deir ez-Zor")
# (first report, later report, what hit): our own invented wording, long enough to read as
# articles. Each report comes from an outlet of its own, so whatever the grouper makes of two
# incidents of one kind, every entry is a new source that Slack must show.
OPENINGS = (
    (
        "{n} rockets slammed into {place}, a farming village {km} km from {city}, before dawn, "
        "killing {killed} people, among them {children} children, and injuring {wounded}. "
        "Neighbours pulled survivors from two collapsed houses with their hands until a "
        "civil defence crew arrived from {city} with a digger. The village had not been hit "
        "since the spring, its headman said, and has no garrison or checkpoint nearby.",
        "Villagers in {place} were burying {killed} dead after a rocket salvo hit homes there "
        "overnight; {wounded} people remain in hospital in {city}. Mourners carried the coffins "
        "past the flattened houses to the cemetery on the hill. A relative of one family said "
        "the children had been asleep in the courtyard because of the heat.",
        "rocket",
    ),
    (
        "A drone dropped explosives on a checkpoint at the entrance of {place}, {km} km east "
        "of {city}, during the evening shift change; {killed} guards were killed and {wounded} "
        "hurt. The provincial police chief ordered all checkpoints on the {city} road to "
        "double their watch and asked the army for jamming equipment. Traffic on the road was "
        "stopped for several hours while engineers searched the verges.",
        "The checkpoint outside {place} that a drone struck had been set up last month, a "
        "police spokesman in {city} said, confirming {killed} deaths among the guards. He said "
        "the small aircraft came in low from the river side and was not seen until it was "
        "overhead; {wounded} wounded officers were moved to the military hospital.",
        "drone",
    ),
    (
        "Mortar rounds fell on the market of {place} near {city} at midday, the busiest hour, "
        "leaving {killed} shoppers dead and {wounded} wounded, the district mayor told "
        "reporters. Stalls of fruit and cloth burned for an hour before the fire brigade could "
        "reach the square. Traders said they had asked for the market to be moved after "
        "warnings last week, but nothing was done.",
        "Shopkeepers in {place} reopened only a few stalls after the mortar fire that killed "
        "{killed}; the mayor asked {city} for more ambulances and a field clinic. Blackened "
        "awnings still hung over the square, and the prices of bread and gas doubled as "
        "supplies stopped coming in from the villages around.",
        "mortar",
    ),
    (
        "An air strike flattened a warehouse on the edge of {place}, south of {city}; the "
        "{killed} dead were fighters guarding it, a militia statement said, and {wounded} were "
        "wounded. The group vowed to respond and accused foreign aircraft of the raid. Local "
        "residents said the building had been used to store fuel and trucks for months and "
        "that secondary explosions went on until morning.",
        "Satellite pictures show the warehouse in {place} destroyed by the air strike; the "
        "militia named {killed} of its members among the dead and said {wounded} more were "
        "being treated. Analysts in {city} said the site had served as a depot on a supply "
        "route and expected the militia to move its stores elsewhere.",
        "air strike",
    ),
)


@dataclass(frozen=True)
class Report:
    id: int
    outlet: int
    title: str
    paragraphs: tuple[str, ...]
    due: float  # seconds after the start of the measured phase
    first: bool  # the incident's first report (a new message), else a new source (an update)


def incidents(count: int, outlets: int, duration: float, rng: random.Random) -> list[Report]:
    places = [f"{p} {r}" for p in PREFIXES for r in ROOTS]
    rng.shuffle(places)
    reports: list[Report] = []
    for i in range(count):
        first_text, later_text, what = OPENINGS[i % len(OPENINGS)]
        facts = {
            "place": places[i % len(places)],
            "city": rng.choice(CITIES),
            "n": rng.randint(3, 12),
            "km": rng.randint(5, 60),
            "killed": rng.randint(2, 9),
            "children": rng.randint(1, 2),
            "wounded": rng.randint(3, 20),
        }
        due = rng.uniform(0, duration)
        place, killed = facts["place"], facts["killed"]
        reports.append(
            Report(
                len(reports),
                (2 * i) % outlets,
                f"{what.capitalize()} attack on {place} kills {killed}",
                (first_text.format(**facts),),
                due,
                True,
            )
        )
        reports.append(
            Report(
                len(reports),
                (2 * i + 1) % outlets,
                f"{place} counts its dead after {what} attack",
                (later_text.format(**facts),),
                due + rng.uniform(20, 60),
                False,
            )
        )
    return reports


class Outlets:
    """N feeds on one 127.0.0.1 server; a report is listed once its moment has come."""

    def __init__(self, reports: list[Report], outlets: int) -> None:
        self.reports, self.outlets = reports, outlets
        self.start: float | None = None  # monotonic start of the measured phase
        self.wall_start = 0.0  # the same moment in wall time (Slack calls are stamped so)
        self.polled: set[int] = set()
        self.polls: list[tuple[int, float]] = []  # (outlet, monotonic time) of each request
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def visible(self, outlet: int) -> list[Report]:
        if self.start is None:
            return []
        now = time.monotonic() - self.start
        return [r for r in self.reports if r.outlet == outlet and r.due <= now]

    def begin(self) -> None:
        self.start, self.wall_start = time.monotonic(), time.time()

    def appeared(self, report: Report) -> float:
        """When ``report`` became visible in its feed (wall time)."""
        return self.wall_start + report.due

    def feed(self, outlet: int) -> bytes:
        items = "".join(
            f"<item><guid isPermaLink='false'>r{r.id}</guid><title>{r.title}</title>"
            f"<link>{self.base}/a/{r.id}.html</link>"
            f"<pubDate>{format_datetime(datetime.now(UTC), usegmt=True)}</pubDate></item>"
            for r in reversed(self.visible(outlet))
        )
        return (
            '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>Outlet {outlet}</title><link>{self.base}/</link>{items}</channel></rss>"
        ).encode()

    def page(self, rid: int) -> bytes:
        r = self.reports[rid]
        body = "".join(f"<p>{p}</p>" for p in r.paragraphs)
        return (
            f"<html><head><title>{r.title}</title></head><body><article><h1>{r.title}</h1>"
            f"{body}</article></body></html>"
        ).encode()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        outlets = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                kind, _, name = self.path.strip("/").partition("/")
                number = int(name.split(".")[0])
                if kind == "feed":
                    outlets.polled.add(number)
                    outlets.polls.append((number, time.monotonic()))
                    body, ctype = outlets.feed(number), "application/rss+xml"
                else:
                    body, ctype = outlets.page(number), "text/html; charset=utf-8"
                self.send_response(200)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Handler

    def __enter__(self) -> Outlets:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


class Recorder:
    """Wraps the fake Slack's dispatch: when each call arrived, and what it carried."""

    def __init__(self, slack: FakeSlack) -> None:
        self.calls: list[tuple[float, str, str]] = []
        inner = slack.dispatch

        def dispatch(method: str, *args: Any, **kwargs: Any) -> Any:
            payload = json.dumps([args, kwargs], default=str)
            self.calls.append((time.time(), method, payload))
            return inner(method, *args, **kwargs)

        slack.dispatch = dispatch

    def shown(self, title: str) -> tuple[float, str] | None:
        needle = json.dumps(title)[1:-1]
        for at, method, payload in self.calls:
            if method in ("chat.postMessage", "chat.update") and needle in payload:
                return at, method
        return None


def config_text(
    outlets: Outlets, slack: FakeSlack, interval: int, extra_feeds: tuple[str, ...] = ()
) -> str:
    urls = [f"{outlets.base}/feed/{i}.xml" for i in range(outlets.outlets)] + list(extra_feeds)
    feeds = "".join(
        f"  - url: {url}\n    name: Outlet {i}\n    interval: {interval}s\n"
        for i, url in enumerate(urls)
    )
    shipped = shipped_config_dir()
    return f"""feeds:
{feeds}watchlists:
  - {shipped / "taxonomy.yaml"}
  - {shipped / "watchlists" / "*.yaml"}
  - {RULES}
fetch:
  allow_private_addresses: true
  interval: {interval}s
  min_interval: {interval}s
  jitter: 0
web:
  enabled: false
alerts:
  routes:
    bench:
      type: slack
      token: {slack.token}
      channel: {slack.channel}
      api_url: {slack.api_url}
    default:
      type: console
      min_severity: critical
"""


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run(*, outlets: int, count: int, interval: int, duration: float, seed: int = 7) -> dict:
    reports = incidents(count, outlets, duration, random.Random(seed))
    bin_dir = Path(sys.executable).parent
    with tempfile.TemporaryDirectory(prefix="monitor-latency-") as tmp, FakeSlack() as slack:
        recorder = Recorder(slack)
        with Outlets(reports, outlets) as site:
            config = Path(tmp) / "monitor.yaml"
            config.write_text(config_text(site, slack, interval), encoding="utf-8")
            trace = Path(tmp) / "trace.jsonl"
            env = {
                **os.environ,
                "MONITOR_CONFIG": str(config),
                "MONITOR_DATABASE_URL": f"sqlite:///{tmp}/latency.db",
                "MONITOR_LATENCY_TRACE": str(trace),
            }
            monitor = str(bin_dir / "monitor")
            subprocess.run([monitor, "db", "upgrade"], env=env, check=True, capture_output=True)
            log = open(Path(tmp) / "run.log", "w")  # noqa: SIM115
            # `monitor run` with the stage trace (bench/_latency_trace.py)
            traced = [sys.executable, "-m", "bench._latency_trace", "run"]
            proc = subprocess.Popen(traced, env=env, stdout=log, stderr=log, cwd=ROOT)
            try:
                deadline = time.monotonic() + 120
                while len(site.polled) < outlets and time.monotonic() < deadline:
                    time.sleep(0.2)  # every feed polled once (empty) before the clock starts
                site.begin()
                # a smoke run waits for first reports only (second ones come 20-60 s later)
                last = max(r.due for r in reports if r.first or not TINY)
                loads = sample_load(last + interval + (10 if TINY else 20))
            finally:
                proc.send_signal(signal.SIGTERM)
                proc.wait(timeout=60)
                log.close()
            if proc.returncode not in (0, -signal.SIGTERM):
                print((Path(tmp) / "run.log").read_text()[-3000:], file=sys.stderr)
            if os.environ.get("BENCH_LATENCY_KEEP"):
                keep = Path(os.environ["BENCH_LATENCY_KEEP"])
                keep.mkdir(parents=True, exist_ok=True)
                for name in ("run.log", "latency.db", "trace.jsonl"):
                    (keep / name).write_bytes((Path(tmp) / name).read_bytes())
                (keep / "calls.json").write_text(json.dumps(recorder.calls))
            events = read_trace(trace)
    result = summarize(reports, site, recorder)
    result["stages"] = breakdown(reports, site, recorder, events)
    result["load"] = loads
    return result


def sample_load(seconds: float, every: float = 5.0) -> list[float]:
    """Sleep ``seconds``, noting the 1-minute load average every ``every`` seconds."""
    loads, end = [os.getloadavg()[0]], time.monotonic() + seconds
    while (left := end - time.monotonic()) > 0:
        time.sleep(min(every, left))
        loads.append(os.getloadavg()[0])
    return loads


def summarize(reports: list[Report], site: Outlets, recorder: Recorder) -> dict:
    new: list[float] = []
    update: list[float] = []
    missing = 0
    methods: dict[int, dict[bool, str]] = {}  # incident -> first report? -> Slack method
    for r in reports:
        shown = recorder.shown(r.title)
        if shown is None:
            missing += 1
            continue
        delay = shown[0] - site.appeared(r)
        (new if r.first else update).append(delay)
        methods.setdefault(r.id // 2, {})[r.first] = shown[1]  # an incident's two reports
    post = "chat.postMessage"
    # Two new messages: the reports were not grouped. A second report posted while the first
    # came as an update: its outlet was polled first (feeds poll on slots of their own).
    split = sum(1 for m in methods.values() if list(m.values()).count(post) > 1)
    second_first = sum(1 for m in methods.values() if m.get(False) == post and m.get(True) != post)
    return {"new": new, "update": update, "missing": missing, "split": split,
            "second_first": second_first}  # fmt: skip


def read_trace(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


# The stages of one entry's way to Slack, as (label, trace event that ends it).
STAGES = (
    ("wait for the poll", "poll_start"),
    ("feed fetched and parsed", "feed_fetched"),
    ("page fetched", "page_fetched"),
    ("page extracted", "extracted"),
    ("embedded", "embedded"),
    ("waiting for the processing thread", "process_start"),
    ("classified, grouped, stored, alert queued", "processed"),
    ("outbox -> Slack call", "slack"),
)


def breakdown(
    reports: list[Report], site: Outlets, recorder: Recorder, events: list[dict[str, Any]]
) -> dict[str, dict[str, list[float]]]:
    """Per entry kind ("new", "update"): each stage's durations, and "after the poll"
    (poll start -> Slack call, the part this service controls)."""
    moments: dict[str, dict[str, float]] = {}
    poll_started: dict[str, float] = {}
    for e in sorted(events, key=lambda e: e["t"]):
        if e["stage"] == "poll_start":
            poll_started[e["key"]] = e["t"]
        elif e["stage"] == "feed_fetched":
            for url in e.get("entries", ()):
                at = moments.setdefault(url, {})
                at.setdefault("poll_start", poll_started.get(e["key"], e["t"]))
                at.setdefault("feed_fetched", e["t"])
        elif e["key"]:
            moments.setdefault(e["key"], {}).setdefault(e["stage"], e["t"])
    out: dict[str, dict[str, list[float]]] = {"new": {}, "update": {}}
    for r in reports:
        at = dict(moments.get(f"{site.base}/a/{r.id}.html", {}))
        shown = recorder.shown(r.title)
        if shown is None or "poll_start" not in at:
            continue
        at["slack"] = shown[0]
        kind = out["new" if r.first else "update"]
        before = site.appeared(r)
        for label, stage in STAGES:
            if stage in at:
                kind.setdefault(label, []).append(at[stage] - before)
                before = at[stage]
        kind.setdefault("after the poll (poll start -> Slack)", []).append(
            shown[0] - at["poll_start"]
        )
    return out


def stage_table(stages: dict[str, dict[str, list[float]]]) -> str:
    labels = [label for label, _ in STAGES] + ["after the poll (poll start -> Slack)"]
    lines = ["| stage (ends when) | new: p50 | new: p95 | update: p50 | update: p95 |",
             "|---|---|---|---|---|"]  # fmt: skip
    for label in labels:
        cells = []
        for kind in ("new", "update"):
            values = stages.get(kind, {}).get(label, [])
            cells += (
                [f"{percentile(values, 0.5):.2f} s", f"{percentile(values, 0.95):.2f} s"]
                if values
                else ["–", "–"]
            )
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def row(label: str, delays: list[float]) -> str:
    if not delays:
        return f"| {label} | 0 | – | – | – |"
    return (
        f"| {label} | {len(delays)} | {percentile(delays, 0.5):.1f} s | "
        f"{percentile(delays, 0.95):.1f} s | {max(delays):.1f} s |"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="a short smoke run, no report")
    args = parser.parse_args(argv)
    args.tiny = args.tiny or TINY
    outlets, count, interval, duration = (6, 3, 5, 10.0) if args.tiny else (120, 60, 30, 240.0)
    size = {"outlets": outlets, "count": count, "interval": interval, "duration": duration}
    result = run(outlets=outlets, count=count, interval=interval, duration=duration)
    reports = 2 * count
    shown = len(result["new"]) + len(result["update"])
    loads = result["load"]
    md = (
        "## latency: entry -> Slack with `monitor run` at the minimum poll interval\n\n"
        f"{size['outlets']} feeds on 127.0.0.1, each polled every {size['interval']} s "
        f"(`fetch.min_interval`, jitter 0); {size['count']} invented incidents published at "
        f"random moments over {size['duration']:.0f} s, each reported by a second outlet "
        "20-60 s later. Delay = first Slack call carrying the entry's title minus the moment "
        "the entry appeared in its feed. A new source should arrive as an update "
        "(chat.update) of the incident's message.\n\n"
        "| entry | shown | p50 | p95 | max |\n|---|---|---|---|---|\n"
        + row("first report -> new message", result["new"])
        + "\n"
        + row("new source -> message updated", result["update"])
        + f"\n\n{shown} of {reports} entries shown in Slack; {result['missing']} never shown; "
        f"{result['split']} incidents shown as two new messages (reports not grouped); "
        f"{result['second_first']} whose second outlet was polled before the first (its "
        f"report made the message, the first report updated it). "
        f"**Target: p95 <= interval + 2 s = {size['interval'] + 2} s.**\n\n"
        "Where the time goes (bench/_latency_trace.py: stage events logged by `monitor run` "
        "itself, joined per entry; each stage runs from the end of the one above):\n\n"
        + stage_table(result["stages"])
        + f"\n\nLoad average (1 min) during the run: mean {statistics.mean(loads):.1f}, "
        f"max {max(loads):.1f} on {os.cpu_count()} CPUs (the machine is shared)."
    )
    if shown == 0:
        raise SystemExit("latency: no entry reached Slack")
    if args.tiny:
        print(md)
        return
    update_section("latency", md, command=COMMAND)


if __name__ == "__main__":
    main()
