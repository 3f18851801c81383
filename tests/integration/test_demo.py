"""The demo site answers its pages, and ``run.py`` (what ``hatch run demo`` starts) serves and
prints its URL."""

from __future__ import annotations

import importlib.util
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
    assert b"/square/12" in response.data


def test_square_is_computed_once_then_cached() -> None:
    client = make_app().test_client()
    first = client.get("/square/7").get_json()
    second = client.get("/square/7").get_json()
    assert first["square"] == second["square"] == 49
    assert second["ms"] < first["ms"]
    assert client.get("/cache-stats").get_json()["errors"] == 0


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
