"""Hits written by real WSGI servers: one ``Date`` field, whichever server (RFC 9110 §5.3,
§6.6.1).

gunicorn replaces the app's ``Date`` with its own; Werkzeug's development server adds its own
before the app's (two fields); ``wsgiref`` and waitress add one only when the app sent none.
A hit must not carry two; under the servers that keep the app's, it carries the stored one.
The first tests check those facts of the servers themselves, with an app that sends a fixed
``Date`` and no cache, since the docs state them."""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from flask import Flask
from tests.conftest import free_port, wait_until_listening
from werkzeug.serving import make_server as make_werkzeug_server

from flask_httpcache import HTTPCache, easy_setup

APP_SOURCE = """
import os

from flask import Flask

from flask_httpcache import HTTPCache, easy_setup

app = Flask(__name__)


@app.route("/page")
def page():
    return "hello", 200, {"Cache-Control": "max-age=600"}


if os.environ["HTTPCACHE_TEST_MODE"] == "middleware":
    app.config["HTTPCACHE_MIDDLEWARE"] = True
    HTTPCache(app)
else:
    easy_setup(app)
"""
MODES = ["handlers", "middleware"]


def make_app(mode: str) -> Flask:
    """The app of ``APP_SOURCE``, in this process (for the threaded servers)."""
    app = Flask(__name__)

    @app.route("/page")
    def page() -> Any:
        return "hello", 200, {"Cache-Control": "max-age=600"}

    if mode == "middleware":
        app.config["HTTPCACHE_MIDDLEWARE"] = True
        HTTPCache(app)
    else:
        easy_setup(app)
    return app


def get(port: int, path: str = "/page") -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", path)
    response = connection.getresponse()
    response.read()
    connection.close()
    return response


def miss_then_hit(port: int) -> tuple[http.client.HTTPResponse, http.client.HTTPResponse]:
    miss = get(port)
    time.sleep(1.1)  # so that a stored Date and the server's Date differ
    hit = get(port)
    assert miss.status == hit.status == 200
    assert "stored" in (miss.headers["Cache-Status"] or "")
    assert "hit" in (hit.headers["Cache-Status"] or "")
    assert hit.headers["Age"] is not None
    return miss, hit


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def threaded_server() -> Iterator[Callable[[str, Flask], int]]:
    """Serves an app in this process with ``werkzeug`` or ``wsgiref``; returns the port."""
    servers: list[Any] = []

    def start(kind: str, app: Flask) -> int:
        server: Any
        if kind == "werkzeug":
            server = make_werkzeug_server("127.0.0.1", 0, app, threaded=True)
        else:
            server = make_server("127.0.0.1", 0, app, WSGIServer, _QuietHandler)
        servers.append(server)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return int(server.server_port)

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def waitress_server(tmp_path: Path) -> Iterator[Callable[[str, str], int]]:
    """Serves the ``app`` of some Python source with waitress in a process of its own (closing
    a waitress server from another thread races with its loop); returns the port."""
    started: list[subprocess.Popen[bytes]] = []

    def start(source: str, mode: str = "handlers") -> int:
        (tmp_path / "served_app.py").write_text(source)
        port = free_port()
        process = subprocess.Popen(
            [sys.executable, "-m", "waitress", "--listen", f"127.0.0.1:{port}", "served_app:app"],
            cwd=tmp_path,
            env={**os.environ, "HTTPCACHE_TEST_MODE": mode},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        started.append(process)
        wait_until_listening(process, port, "waitress")
        return port

    yield start
    for process in started:
        process.terminate()
        process.wait(10)


#: the Date an app sends, long past, so that no server's own Date can equal it
APP_DATE = "Mon, 01 Jan 2001 00:00:00 GMT"
DATED_APP_SOURCE = f"""
def app(environ, start_response):
    start_response("200 OK", [("Date", "{APP_DATE}"), ("Content-Length", "2")])
    return [b"ok"]
"""


def dated_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    start_response("200 OK", [("Date", APP_DATE), ("Content-Length", "2")])
    return [b"ok"]


@pytest.mark.slow
def test_gunicorn_replaces_the_date_of_an_app(gunicorn: Callable[..., Any]) -> None:
    """So a stored Date cannot reach a client through gunicorn, whatever the cache sends."""
    server = gunicorn(DATED_APP_SOURCE)
    dates = get(int(server.url.rsplit(":", 1)[1]), "/").headers.get_all("Date") or []
    assert len(dates) == 1
    assert dates != [APP_DATE]


def test_werkzeug_server_adds_its_date_before_the_date_of_an_app(
    threaded_server: Callable[[str, Any], int],
) -> None:
    dates = get(threaded_server("werkzeug", dated_app), "/").headers.get_all("Date") or []
    assert len(dates) == 2
    assert dates[1] == APP_DATE
    assert dates[0] != APP_DATE


def test_wsgiref_keeps_the_date_of_an_app(threaded_server: Callable[[str, Any], int]) -> None:
    assert get(threaded_server("wsgiref", dated_app), "/").headers.get_all("Date") == [APP_DATE]


@pytest.mark.slow
def test_waitress_keeps_the_date_of_an_app(waitress_server: Callable[..., int]) -> None:
    assert get(waitress_server(DATED_APP_SOURCE), "/").headers.get_all("Date") == [APP_DATE]


@pytest.mark.slow
@pytest.mark.parametrize("mode", MODES)
def test_gunicorn_hit_carries_one_date(gunicorn: Callable[..., Any], mode: str) -> None:
    """gunicorn drops an app's Date and adds its own: one Date whatever the cache sends (the
    cache sends none, which spares gunicorn a field to check)."""
    server = gunicorn(APP_SOURCE, env={"HTTPCACHE_TEST_MODE": mode})
    port = int(server.url.rsplit(":", 1)[1])
    miss, hit = miss_then_hit(port)
    assert len(miss.headers.get_all("Date") or []) == 1
    dates = hit.headers.get_all("Date") or []
    assert len(dates) == 1, dates
    # the server's own Date (the time of this answer), the age in Age
    assert parsedate_to_datetime(dates[0]) >= parsedate_to_datetime(miss.headers["Date"])


@pytest.mark.parametrize("mode", MODES)
def test_werkzeug_server_hit_carries_one_date(
    threaded_server: Callable[[str, Any], int], mode: str
) -> None:
    port = threaded_server("werkzeug", make_app(mode))
    _, hit = miss_then_hit(port)
    assert len(hit.headers.get_all("Date") or []) == 1


@pytest.mark.parametrize("mode", MODES)
def test_wsgiref_hit_keeps_the_stored_date(
    threaded_server: Callable[[str, Any], int], mode: str
) -> None:
    """A server that dates only undated responses: the hit carries the stored Date, once, and
    it is the Date of the response that was stored."""
    assert_hit_keeps_the_stored_date(threaded_server("wsgiref", make_app(mode)))


@pytest.mark.slow
@pytest.mark.parametrize("mode", MODES)
def test_waitress_hit_keeps_the_stored_date(waitress_server: Callable[..., int], mode: str) -> None:
    assert_hit_keeps_the_stored_date(waitress_server(APP_SOURCE, mode))


def assert_hit_keeps_the_stored_date(port: int) -> None:
    miss, hit = miss_then_hit(port)
    dates = hit.headers.get_all("Date") or []
    assert len(dates) == 1, dates
    # stored when the miss was answered, so dated no later than the miss; the current time
    # would be at least a second later
    assert parsedate_to_datetime(dates[0]) <= parsedate_to_datetime(miss.headers["Date"])
