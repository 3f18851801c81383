"""Hits written by real WSGI servers: one ``Date`` field, whichever server (RFC 9110 §5.3,
§6.6.1).

gunicorn replaces the app's ``Date`` with its own; Werkzeug's development server adds a second
one; ``wsgiref`` adds one only when the app sent none. A hit must not carry two."""

from __future__ import annotations

import http.client
import threading
import time
from collections.abc import Callable, Iterator
from email.utils import parsedate_to_datetime
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from flask import Flask
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
    threaded_server: Callable[[str, Flask], int], mode: str
) -> None:
    port = threaded_server("werkzeug", make_app(mode))
    _, hit = miss_then_hit(port)
    assert len(hit.headers.get_all("Date") or []) == 1


@pytest.mark.parametrize("mode", MODES)
def test_wsgiref_hit_keeps_the_stored_date(
    threaded_server: Callable[[str, Flask], int], mode: str
) -> None:
    """A server that dates only undated responses: the hit carries the stored Date, once, and
    it is the Date of the response that was stored."""
    port = threaded_server("wsgiref", make_app(mode))
    miss, hit = miss_then_hit(port)
    dates = hit.headers.get_all("Date") or []
    assert len(dates) == 1, dates
    # stored when the miss was answered, so dated no later than the miss; the current time
    # would be at least a second later
    assert parsedate_to_datetime(dates[0]) <= parsedate_to_datetime(miss.headers["Date"])
