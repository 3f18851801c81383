"""The demo site answers its pages, and ``run.py`` (what ``hatch run demo`` starts) serves and
prints its URL."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from types import ModuleType

from flask import Flask

DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo"


def load_demo() -> ModuleType:
    spec = importlib.util.spec_from_file_location("demo_app", DEMO / "app.py")
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def make_app() -> Flask:
    app = load_demo().create_app({"TESTING": True})
    assert isinstance(app, Flask)
    return app


def test_index_lists_the_pages() -> None:
    response = make_app().test_client().get("/")
    assert response.status_code == 200
    assert b"/products/12" in response.data


def test_product_page_is_a_cached_view_with_memoized_price_and_fragment() -> None:
    client = make_app().test_client()
    first = client.get("/products/7")
    second = client.get("/products/7")
    assert first.status_code == second.status_code == 200
    assert b"8.75 EUR" in first.data
    assert second.data == first.data  # served from the view cache
    assert "hit" in second.headers["Cache-Status"]
    assert "hit" not in first.headers["Cache-Status"]
    stats = client.get("/cache-stats").get_json()
    assert stats["viewcache"]["errors"] == 0


def test_refreshing_prices_invalidates_the_memoized_lookup() -> None:
    client = make_app().test_client()

    def price_misses() -> int:
        functions = client.get("/cache-stats").get_json()["viewcache"]["functions"]
        return next(v["misses"] for k, v in functions.items() if k.endswith("product_price"))

    client.get("/products/3")
    client.get("/products/3")
    assert price_misses() == 1
    assert client.post("/prices/refresh").get_json() == {"invalidated": "prices"}
    client.get("/products/3")
    assert price_misses() == 2


def without_build_time(page: bytes) -> bytes:
    """The news page without the time it was built at."""
    return re.sub(rb"Built at \d\d:\d\d:\d\d\.", b"Built at (time).", page)


def test_news_is_served_by_the_http_cache_around_the_gzip_and_counter_hooks() -> None:
    import gzip

    app = make_app()
    client = app.test_client()
    plain = client.get("/news")
    assert "stored" in plain.headers["Cache-Status"]
    assert "Accept-Encoding" in plain.headers["Vary"]
    zipped = client.get("/news", headers={"Accept-Encoding": "gzip"})
    assert "vary-miss" in zipped.headers["Cache-Status"]  # another variant: the view ran
    again = client.get("/news", headers={"Accept-Encoding": "gzip"})
    assert "hit" in again.headers["Cache-Status"]
    assert again.headers["Content-Encoding"] == "gzip"
    assert again.data == zipped.data  # the stored compressed bytes, not compressed twice
    # the two variants are two runs of the view, which prints the time to the second: the
    # clock may cross a second between them, so the time is left out of the comparison
    assert without_build_time(gzip.decompress(again.data)) == without_build_time(plain.data)
    assert re.search(rb"Built at \d\d:\d\d:\d\d\.", plain.data)
    assert client.get("/news").data == plain.data  # the plain variant is still the plain one
    stats = client.get("/cache-stats").get_json()
    assert stats["httpcache"]["hits"] == 2
    assert stats["requests_seen"] == 5  # the counter sits before RequestHandler: hits count


def test_news_keeps_one_copy_per_language() -> None:
    client = make_app().test_client()
    english = client.get("/news", headers={"Accept-Language": "en"})
    french = client.get("/news", headers={"Accept-Language": "fr"})
    assert b"RFC 9111" in english.data
    assert b"Les caches" in french.data
    assert b"Les caches" in client.get("/news", headers={"Accept-Language": "fr"}).data


def test_run_script_serves_and_prints_its_url() -> None:
    from socket import socket

    with socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, str(DEMO / "run.py"), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert f"http://127.0.0.1:{port}/" in line
        deadline = time.monotonic() + 15
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as reply:
                    assert reply.status == 200
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
    finally:
        process.terminate()
        process.wait(10)
