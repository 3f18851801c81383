"""What the demo's news page tells a visitor, checked in a real Chromium against the demo as
``hatch run demo`` serves it: a reload (``Cache-Control: max-age=0``) goes to the view, and
opening the page again by its link is a hit of the shared cache."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import free_port, require, wait_until_listening

pytestmark = pytest.mark.slow

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo"


@pytest.fixture
def demo_url() -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, str(DEMO / "run.py"), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_listening(process, port, "the demo")
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(10)


@pytest.fixture
def page() -> Iterator[Any]:
    require(Path(CHROMIUM).exists() and shutil.which(CHROMIUM) is not None, "Chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        require(False, "the playwright Python package")
        raise
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser.new_context().new_page()
        finally:
            browser.close()


def shared_cache_hits(demo_url: str) -> int:
    with urllib.request.urlopen(demo_url + "/cache-stats", timeout=10) as reply:
        return int(json.load(reply)["httpcache"]["hits"])


def test_a_reload_asks_the_view_and_the_page_link_is_a_hit(demo_url: str, page: Any) -> None:
    first = page.goto(demo_url + "/news")
    assert "stored" in first.all_headers()["cache-status"]
    assert shared_cache_hits(demo_url) == 0

    with page.expect_response(lambda r: r.url.endswith("/news")) as reloaded:
        page.reload()
    request_headers = reloaded.value.request.all_headers()
    assert request_headers.get("cache-control") == "max-age=0"
    assert "fwd=request" in reloaded.value.all_headers()["cache-status"]
    assert shared_cache_hits(demo_url) == 0

    with page.expect_response(lambda r: r.url.endswith("/news")) as opened:
        page.click("#open-again")
    assert "; hit;" in opened.value.all_headers()["cache-status"]
    assert shared_cache_hits(demo_url) == 1
    assert "To see a hit" in page.inner_text("#see-a-hit")
