"""The console in a real headless browser (Debian's chromium driven by Playwright): the
demo's stories, search, the story page's evidence, a split reaching Slack, an action
refused without a login, and a feed added in the browser polled by the running scheduler.
MONITOR_SCREENSHOT=1 saves the story page to docs/ for the README."""

from __future__ import annotations

import asyncio
import io
import os
import re
import shutil
import sys
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "alert"))
from fakeslack import FakeSlack

from monitor.alert.dispatcher import Dispatcher
from monitor.config import load_config
from monitor.demo.run import demo_config_text
from monitor.demo.site import DemoSite, load_articles
from monitor.extract.extractor import Extractor
from monitor.fetch.http import Fetcher
from monitor.resources import shipped_config_dir
from monitor.runtime import Runtime, open_runtime, poll_once, utcnow
from monitor.scheduler import Service
from monitor.web.auth import hash_secret
from monitor.web.deps import Console
from monitor.web.server import WebServer
from monitor.web.settings import WebSettings, WebUser

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# The README's screenshot: refreshed only on request (MONITOR_SCREENSHOT=1), so a test run
# leaves the checkout clean.
SCREENSHOT = Path(__file__).parents[2] / "docs" / "console-story.png"
pytestmark = pytest.mark.slow

playwright_api = pytest.importorskip("playwright.sync_api")
if not Path(CHROMIUM).exists():
    pytest.skip(
        "no chromium: `apt-get install -y chromium` (Debian) runs these", allow_module_level=True
    )


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[tuple[Runtime, FakeSlack]]:
    """The demo's outlets polled once into a database, its alert sent to a local Slack."""
    with FakeSlack() as slack, DemoSite(load_articles(utcnow())) as site:
        text = demo_config_text(site, shipped_config_dir()).replace(
            "    demo:\n      type: console\n",
            f"    demo:\n      type: slack\n      token: {slack.token}\n"
            f"      channel: {slack.channel}\n      api_url: {slack.api_url}\n",
        )
        path = tmp_path / "monitor.yaml"
        path.write_text(text, encoding="utf-8")
        rt = open_runtime(load_config(path), f"sqlite:///{tmp_path / 'm.db'}", migrate=True)
        asyncio.run(poll_once(rt))
        yield rt, slack
        rt.close()


def test_the_console_in_a_browser(demo: tuple[Runtime, FakeSlack], tmp_path: Path) -> None:
    rt, slack = demo
    [message] = slack.top_level()
    assert "Sources (2)" in str(message["blocks"])
    users = [WebUser(username="ana", password_hash=hash_secret("s3cret-pass"))]
    web = WebSettings(listen="127.0.0.1:0", users=users)
    console = Console(web, rt.sessions, clock=utcnow, alerts=rt.config.settings.alerts)
    server = WebServer(console)
    server.start()
    base = f"http://127.0.0.1:{server.port}"
    try:
        with playwright_api.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            try:
                _walk_through(browser, base, tmp_path / "story.png")
                stranger = browser.new_context()
                refused = stranger.request.post(f"{base}/articles/1/split", form={"csrf": "x"})
                assert refused.status == 401
                landing = stranger.new_page()
                landing.goto(f"{base}/")
                playwright_api.expect(landing).to_have_url(f"{base}/login")
            finally:
                browser.close()
    finally:
        server.stop()
    later = utcnow() + timedelta(minutes=2)
    report = Dispatcher(settings=rt.config.settings.alerts, sessions=rt.sessions,
                        clock=lambda: later).run_once()  # fmt: skip
    assert report.sent == 1
    [message] = slack.top_level()
    assert message.get("edited") and "Sources (1)" in str(message["blocks"])


def _walk_through(browser: Any, base: str, scratch: Path) -> None:
    page = browser.new_page(viewport={"width": 1200, "height": 1400})
    page.goto(f"{base}/")
    page.fill("input[name=username]", "ana")
    page.fill("input[name=password]", "s3cret-pass")
    page.click("form.login button")
    expect = playwright_api.expect  # waits for the page a click loads
    rows = page.locator("table.stories tr.story")
    expect(rows).to_have_count(3)
    page.fill("#search", "Kitaeb")
    page.press("#search", "Enter")
    expect(page).to_have_url(re.compile(r"q=Kitaeb"))
    expect(rows).to_have_count(1)
    rows.first.locator("a").click()
    expect(page.locator("h2", has_text="Sources (2)")).to_have_count(1)
    expect(page.locator("mark.alias", has_text="Kitaeb Hezbollah")).to_have_count(1)
    # The toll is the earlier rocket attack's, shown on its own line, not the strikes' own.
    expect(page.locator("p.prior", has_text="Camp Taji")).to_have_count(1)
    expect(page.locator("p.prior", has_text="3 killed")).to_have_count(1)
    expect(page.locator("mark.toll", has_text="killing two US troops")).to_have_count(0)
    shot = SCREENSHOT if os.environ.get("MONITOR_SCREENSHOT") == "1" else scratch
    page.screenshot(path=str(shot), full_page=False)
    assert shot.stat().st_size > 0
    # Why each report is in the story, in words; the grouper's figures only on request.
    joined = page.locator("article.source .reason .why", has_text="Joined this story")
    expect(joined).to_have_count(1)
    figures = page.locator("article.source details.figures code").nth(1)
    expect(figures).to_be_hidden()
    page.locator("article.source details.figures summary").nth(1).click()
    expect(figures).to_be_visible()
    expect(figures).to_contain_text(re.compile(r"text \d\.\d\d title"))
    page.locator("article.source").nth(1).locator("button", has_text="Split").click()
    # A split re-clusters and queues the Slack edit: slow on a busy machine (30 s ran out
    # twice in full runs at load 10-13, passing alone each time; a hang still fails here)
    expect(page.locator("h2", has_text="Sources (1)")).to_have_count(1, timeout=90_000)
    page.goto(f"{base}/audit")
    expect(page.locator("td", has_text="split")).to_have_count(1)


class Ticking:
    """The scheduler's tick, as `monitor run` runs it, on an event loop of its own."""

    def __init__(self, service: Service) -> None:
        self.service = service
        self.stop = threading.Event()
        self.thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)

    async def _run(self) -> None:
        settings = self.service.rt.config.settings
        async with Fetcher(settings.fetch) as fetcher:
            extractor = Extractor(settings.extract, fetcher)
            while not self.stop.is_set():
                await self.service.tick(fetcher, extractor)
                await asyncio.sleep(0.2)
            if self.service.polls:
                await asyncio.wait(set(self.service.polls))
            extractor.close()

    def __enter__(self) -> Ticking:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=60)


def test_a_feed_added_in_the_browser_is_polled(tmp_path: Path) -> None:
    with DemoSite(load_articles(utcnow())) as site:
        _, (added_url, added_name) = site.feed_urls()
        text = demo_config_text(site, shipped_config_dir())
        text = text.replace(f"  - url: {added_url}\n    name: {added_name}\n", "")
        path = tmp_path / "monitor.yaml"
        path.write_text(text, encoding="utf-8")
        rt = open_runtime(load_config(path), f"sqlite:///{tmp_path / 'm.db'}", migrate=True)
        rt.console = io.StringIO()
        asyncio.run(poll_once(rt))  # the YAML's feed, as at start-up
        users = [WebUser(username="ana", password_hash=hash_secret("s3cret-pass"))]
        web = WebSettings(listen="127.0.0.1:0", users=users)
        console = Console(web, rt.sessions, clock=utcnow, alerts=rt.config.settings.alerts)
        server = WebServer(console)
        server.start()
        base = f"http://127.0.0.1:{server.port}"
        try:
            with Ticking(Service(rt)), playwright_api.sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
                try:
                    _add_feed_and_see_it_polled(browser, base, added_url, added_name)
                finally:
                    browser.close()
        finally:
            server.stop()
            rt.close()


def _add_feed_and_see_it_polled(browser: Any, base: str, url: str, name: str) -> None:
    expect = playwright_api.expect
    page = browser.new_page()
    page.goto(f"{base}/login")
    page.fill("input[name=username]", "ana")
    page.fill("input[name=password]", "s3cret-pass")
    page.click("form.login button")
    page.goto(f"{base}/?q=harvest")
    expect(page.locator("table.stories tr.story")).to_have_count(0)
    page.goto(f"{base}/feeds")
    page.fill("form.add-feed input[name=url]", url)
    page.fill("form.add-feed input[name=name]", name)
    page.click("form.add-feed button")
    expect(page.locator("p.note", has_text=f"added {url}")).to_have_count(1)
    items = page.locator(f'tr.feed[data-url="{url}"] td.items')
    # The row can be listed only once the scheduler's next tick (0.2 s) has synced the new
    # feed, so it is waited for like its count; polling and extraction take longer still.
    for _ in range(120):
        page.goto(f"{base}/feeds")
        if items.count() and items.inner_text().strip() == "2":  # counted as stored
            break
        page.wait_for_timeout(500)
    expect(items).to_have_text("2")
    page.goto(f"{base}/?q=harvest")
    story = page.locator("table.stories tr.story")
    expect(story).to_have_count(1)
    expect(story).to_contain_text("Basra farmers expect a record date harvest")
    page.goto(f"{base}/audit")
    expect(page.locator("td", has_text="feed_add")).to_have_count(1)
