"""Container state survives a recreate: poll, alert, remove the container, run a new one on
the same volume, and nothing reaches Slack twice. Then the message an operator gets when a
bind-mounted host directory is not writable by the container's user.

    .venv/bin/python scripts/container-recreate.py IMAGE

Run by scripts/container-smoke.sh after it builds IMAGE. The demo's sample outlets and a
Slack-compatible server (tests/alert/fakeslack.py) run here on 127.0.0.1; the container
shares the host network.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import uuid
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "alert"))

from fakeslack import FakeSlack  # noqa: E402

from monitor.demo.run import DEMO_RULES  # noqa: E402
from monitor.demo.site import DemoSite, load_articles  # noqa: E402

CONFIG_DIR = "/etc/monitor-recreate"  # where the test's config is mounted in the container


def config_text(site: DemoSite, slack: FakeSlack) -> str:
    feeds = "".join(f"  - url: {url}\n    name: {name}\n" for url, name in site.feed_urls())
    return f"""feeds:
{feeds}watchlists:
  - /etc/monitor/taxonomy.yaml
  - /etc/monitor/watchlists/*.yaml
  - {CONFIG_DIR}/demo-watch.yaml
fetch:
  allow_private_addresses: true
dedup:
  window: 14d
alerts:
  max_age: 21d
  routes:
    demo:
      type: slack
      token: ${{SLACK_BOT_TOKEN}}
      channel: {slack.channel}
      api_url: {slack.api_url}
    default:
      type: console
      min_severity: critical
"""


def poll_in_new_container(image: str, mount: str, config: Path, token: str) -> str:
    """One container: migrate, poll every feed once (alerts included), exit; removed after."""
    cmd = [
        "docker", "run", "--rm", "--network", "host",
        "-v", f"{mount}:/var/lib/monitor",
        "-v", f"{config}:{CONFIG_DIR}:ro",
        "-e", f"MONITOR_CONFIG={CONFIG_DIR}/monitor.yaml",
        "-e", f"SLACK_BOT_TOKEN={token}",
        "--entrypoint", "/bin/sh", image,
        "-c", "monitor db upgrade && monitor poll --once",
    ]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise SystemExit(f"container failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done.stdout + done.stderr


def sent(slack: FakeSlack) -> tuple[int, int]:
    return slack.calls_to("chat.postMessage"), slack.calls_to("chat.update")


def check_recreate(image: str, work: Path) -> None:
    volume = f"monitor-recreate-{uuid.uuid4().hex[:8]}"
    config = work / "config"
    config.mkdir()
    shutil.copy(DEMO_RULES, config / "demo-watch.yaml")
    with FakeSlack() as slack, DemoSite(load_articles(datetime.now(UTC))) as site:
        (config / "monitor.yaml").write_text(config_text(site, slack), encoding="utf-8")
        try:
            poll_in_new_container(image, volume, config, slack.token)
            first = sent(slack)
            assert first[0] >= 1, f"the first container sent no alert: {first}"
            poll_in_new_container(image, volume, config, slack.token)
            again = sent(slack)
            assert again == first, f"the recreated container sent again: {first} -> {again}"
        finally:
            subprocess.run(["docker", "volume", "rm", "-f", volume], capture_output=True)
    print(f"container recreate: {first[0]} alert(s) sent once, none again after recreate")


def check_unwritable_mount(image: str, work: Path) -> None:
    """A root-owned host directory: one clear line naming the directory and the uid."""
    host_dir = work / "root-owned"
    host_dir.mkdir(mode=0o755)
    done = subprocess.run(
        ["docker", "run", "--rm", "--network", "host", "-v", f"{host_dir}:/var/lib/monitor",
         image],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    out = done.stdout + done.stderr
    assert done.returncode != 0, out
    assert "must exist and be writable by uid" in out, out
    assert "Traceback" not in out, out
    print("container unwritable mount: exits with the directory and uid named")


def main() -> None:
    image = sys.argv[1]
    with tempfile.TemporaryDirectory(prefix="monitor-recreate-") as tmp:
        work = Path(tmp)
        work.chmod(0o755)
        check_recreate(image, work)
        check_unwritable_mount(image, work)


if __name__ == "__main__":
    main()
