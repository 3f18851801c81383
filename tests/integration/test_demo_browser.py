"""What the demo's news page tells a visitor, checked in a real Chromium against the demo as
``hatch run demo`` serves it: a reload (``Cache-Control: max-age=0``) goes to the view, and
opening the page again by its link is a hit of the shared cache."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.appcache.test_browser import browser  # noqa: F401  (the fixture)
from tests.conftest import free_port, wait_until_listening

pytestmark = pytest.mark.slow

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
def page(browser: Any) -> Any:  # noqa: F811
    """A page of a fresh profile in the Chromium of the appcache browser tests."""
    return browser.new_context().new_page()


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
