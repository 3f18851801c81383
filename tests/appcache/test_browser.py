"""The service worker in a real browser: Debian's Chromium, driven by Playwright, against the
site of browser_site.py under gunicorn. Locally these tests skip when Chromium or Playwright is
missing; under CI=true they fail.

No sleeps: every wait is on a page function or an event, with a timeout.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import free_port, require, wait_until_listening

pytestmark = pytest.mark.slow

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
WAIT_MS = 15_000
HERE = Path(__file__).resolve().parent
DEMO = HERE.parents[1] / "examples" / "demo"


@dataclass
class Site:
    """browser_site.py under gunicorn, stoppable and restartable on the same port."""

    root: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    chdir: Path = HERE
    app: str = "browser_site:app"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, **env: str) -> None:
        argv = [sys.executable, "-m", "gunicorn", "--chdir", str(self.chdir)]
        argv += ["--worker-class", "gthread"]
        # --preload: the app (and its finalize()) is loaded before gunicorn listens
        argv += [
            "--preload",
            "--threads",
            "4",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--graceful-timeout",
            "2",
        ]
        argv += ["--error-logfile", str(self.root / "gunicorn.log"), self.app]
        environment = {**os.environ, "SITE_ROOT": str(self.root), **env}
        self.process = subprocess.Popen(
            argv, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        wait_until_listening(self.process, self.port, "gunicorn")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.process = None

    def requests(self) -> list[str]:
        log = self.root / "requests.log"
        return log.read_text().splitlines() if log.exists() else []


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    static = tmp_path / "static"
    static.mkdir()
    (static / "app.js").write_text('window.appVersion = "v1";\n')
    (static / "style.css").write_text("body { font-family: sans-serif }\n")
    server = Site(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def browser() -> Iterator[Any]:
    require(
        Path(CHROMIUM).exists() and shutil.which(CHROMIUM) is not None, f"Chromium at {CHROMIUM}"
    )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        require(False, "the playwright Python package")
        raise
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


def open_controlled(browser: Any, site: Site, version: str | None = "v1") -> tuple[Any, Any]:
    """A fresh profile's page on ``/``, once the worker is active and controls it."""
    context = browser.new_context()
    page = context.new_page()
    page.goto(site.url + "/")
    page.wait_for_function("navigator.serviceWorker.controller !== null", timeout=WAIT_MS)
    if version is not None:
        assert page.evaluate("window.appVersion") == version
    return context, page


PRECACHE_KEYS = """async () => {
  const cache = await caches.open("flask-appcache-precache");
  return (await cache.keys()).map((request) => {
    const url = new URL(request.url);
    return url.pathname + url.search;
  });
}"""


def test_offline_listed_page_fallback_page_and_the_update_prompt(browser: Any, site: Site) -> None:
    context, page = open_controlled(browser, site)
    first_keys = page.evaluate(PRECACHE_KEYS)
    assert sorted(key.split("?")[0] for key in first_keys) == [
        "/",
        "/about",
        "/offline",
        "/static/app.js",
        "/static/style.css",
    ]

    # offline: the network is cut and the server is down
    context.set_offline(True)
    site.stop()
    page.reload()
    assert page.inner_text("#title") == "home"
    assert page.evaluate("window.appVersion") == "v1"
    page.goto(site.url + "/about")
    assert page.inner_text("#title") == "about"
    page.goto(site.url + "/unlisted")
    assert page.inner_text("#title") == "offline fallback"
    assert page.evaluate("fetch('/api/time').then(() => 'online', () => 'failed')") == "failed"

    # a listed file changes, the site comes back
    (site.root / "static" / "app.js").write_text('window.appVersion = "v2";\n')
    (site.root / "requests.log").write_text("")
    site.start()
    context.set_offline(False)
    page.goto(site.url + "/")
    page.wait_for_selector("#appcache-update button", timeout=WAIT_MS)
    assert page.evaluate("window.appVersion") == "v1"  # the old version until the user accepts
    fetched = site.requests()
    assert "/static/app.js" in fetched
    assert "/static/style.css" not in fetched  # unchanged revision: not downloaded again
    assert "/about" not in fetched

    with page.expect_navigation(timeout=WAIT_MS):
        page.click("#appcache-update button")
    page.wait_for_function("window.appVersion === 'v2'", timeout=WAIT_MS)
    keys = page.evaluate(PRECACHE_KEYS)
    assert len(keys) == 5  # the old app.js entry was deleted on activate
    assert [k for k in keys if k.startswith("/static/app.js")] != [
        k for k in first_keys if k.startswith("/static/app.js")
    ]
    context.close()


def test_a_url_that_fails_to_download_fails_the_whole_install_and_the_page_is_told(
    browser: Any, site: Site
) -> None:
    # served bytes no longer match the integrity computed at start: that download fails
    (site.root / "static" / "style.css").write_text("body { color: red }\n")
    context = browser.new_context()
    page = context.new_page()
    page.goto(site.url + "/")
    failure = page.wait_for_function("window.installFailure", timeout=WAIT_MS).json_value()
    assert failure["url"] == "/static/style.css"
    assert page.evaluate("navigator.serviceWorker.controller") is None
    assert page.evaluate(PRECACHE_KEYS) == []  # all or nothing: nothing was written
    context.close()


def test_the_kill_switch_unregisters_the_worker_and_clears_its_caches(
    browser: Any, site: Site
) -> None:
    context, page = open_controlled(browser, site)
    site.stop()
    site.start(SITE_KILL="1")
    page.goto(site.url + "/about")
    page.wait_for_function(
        "navigator.serviceWorker.getRegistrations().then((all) => all.length === 0)",
        timeout=WAIT_MS,
        polling=100,
    )
    page.wait_for_function(
        "caches.keys().then((names) => names.length === 0)", timeout=WAIT_MS, polling=100
    )
    context.close()


def test_runtime_cache_keeps_its_entry_limit_and_never_stores_network_urls(
    browser: Any, site: Site
) -> None:
    site.stop()
    site.start(SITE_RUNTIME="1")
    context, page = open_controlled(browser, site)
    for number in (1, 2, 3):
        assert page.evaluate(f"fetch('/r/{number}').then((r) => r.text())") == f"resource {number}"
    api = "fetch('/api/time').then((r) => r.json()).then((body) => body.calls)"
    assert [page.evaluate(api), page.evaluate(api)] == [0, 1]  # NETWORK: the server each time
    page.wait_for_function(
        """caches.open("flask-appcache-runtime").then((cache) => cache.keys())
            .then((keys) => keys.map((k) => new URL(k.url).pathname).join() === "/r/2,/r/3")""",
        timeout=WAIT_MS,
        polling=100,
    )
    context.set_offline(True)
    site.stop()
    assert page.evaluate("fetch('/r/3').then((r) => r.text())") == "resource 3"
    assert page.evaluate("fetch('/r/1').then(() => 'served', () => 'failed')") == "failed"
    assert page.evaluate("fetch('/api/time').then(() => 'served', () => 'failed')") == "failed"

    # the next version has no runtime cache: activating it deletes that cache
    site.start()
    context.set_offline(False)
    page.goto(site.url + "/")
    page.wait_for_selector("#appcache-update button", timeout=WAIT_MS)
    with page.expect_navigation(timeout=WAIT_MS):
        page.click("#appcache-update button")
    page.wait_for_function(
        "caches.keys().then((names) => names.join() === 'flask-appcache-precache')",
        timeout=WAIT_MS,
        polling=100,
    )
    context.close()


def test_auto_update_switches_to_the_new_version_without_asking(browser: Any, site: Site) -> None:
    site.stop()
    site.start(SITE_UPDATE="auto")
    context, page = open_controlled(browser, site)
    site.stop()
    (site.root / "static" / "app.js").write_text('window.appVersion = "v2";\n')
    site.start(SITE_UPDATE="auto")
    with page.expect_navigation(timeout=WAIT_MS):
        page.goto(site.url + "/")  # served by v1; the helper activates v2 and reloads
    page.wait_for_function("window.appVersion === 'v2'", timeout=WAIT_MS)
    assert page.query_selector("#appcache-update") is None
    context.close()


@pytest.mark.skipif(not DEMO.is_dir(), reason="the demo site is not in this tree (an sdist)")
def test_the_demo_site_works_offline_and_offers_a_changed_home_page(
    browser: Any, tmp_path: Path
) -> None:
    demo = tmp_path / "demo"
    shutil.copytree(DEMO, demo, ignore=shutil.ignore_patterns("__pycache__"))
    site = Site(tmp_path, chdir=demo, app="app:create_app()")
    site.start()
    try:
        context, page = open_controlled(browser, site, version=None)
        context.set_offline(True)
        site.stop()
        page.reload()
        assert page.inner_text("h1") == "Flask cache toolkit demo"
        styled = "[...document.styleSheets].some((sheet) => sheet.cssRules.length > 0)"
        assert page.evaluate(styled)  # the versioned stylesheet came from the precache
        page.goto(site.url + "/news")
        assert page.inner_text("h1") == "You are offline"

        index = demo / "templates" / "index.html"
        index.write_text(index.read_text().replace("toolkit demo</h1>", "toolkit demo, v2</h1>"))
        site.start()
        context.set_offline(False)
        page.goto(site.url + "/")
        page.wait_for_selector("#appcache-update button", timeout=WAIT_MS)
        assert page.inner_text("h1") == "Flask cache toolkit demo"
        with page.expect_navigation(timeout=WAIT_MS):
            page.click("#appcache-update button")
        page.wait_for_function(
            "document.querySelector('h1').textContent.endsWith('v2')", timeout=WAIT_MS
        )
        context.close()
    finally:
        site.stop()
