"""Responses served from the store: the fast way of building and writing them gives what
Werkzeug's own way gives, also after later ``after_request`` hooks change them."""

from __future__ import annotations

import gzip
from typing import Any

from flask import Flask, Response, request
from werkzeug.datastructures import Headers
from werkzeug.test import EnvironBuilder

from flask_cachecore import MemoryCache
from flask_httpcache import Store, easy_setup
from flask_httpcache.speedups import CachedResponse

from .helpers import FakeClock, make_config

FIELDS = [
    ("Content-Type", "text/plain; charset=utf-8"),
    ("Content-Length", "8"),
    ("ETag", '"v"'),
    ("Age", "3"),
]


def written(response: Response, method: str = "GET") -> tuple[str, list[tuple[str, str]], bytes]:
    """What a WSGI server receives from ``response``."""
    environ = EnvironBuilder(method=method).get_environ()
    started: list[Any] = []
    body = b"".join(
        response(environ, lambda status, headers, *_: started.extend([status, headers]))
    )
    return started[0], started[1], body


def plain_copy(response: Response) -> Response:
    """The same response as a plain Werkzeug one (no field added by its constructor)."""
    plain = Response(status=response.status)
    plain.response = [response.get_data()]
    plain.headers = Headers(list(response.headers))
    return plain


def as_werkzeug_writes_it(response: Response, method: str = "GET") -> Any:
    return written(plain_copy(response), method)


def test_cached_response_has_the_state_of_a_fresh_response() -> None:
    cached = CachedResponse.build(200, list(FIELDS), b"the body")
    assert set(vars(cached)) == set(vars(Response()))
    other = CachedResponse.build(200, list(FIELDS), b"the body")
    for name, value in vars(cached).items():
        if isinstance(value, list | dict) or hasattr(value, "__dict__"):
            assert value is not vars(other)[name], name  # nothing mutable is shared


def test_cached_response_writes_what_werkzeug_writes() -> None:
    for method in ("GET", "HEAD"):
        cached = CachedResponse.build(200, list(FIELDS), b"the body")
        assert cached.wsgi_fields() == FIELDS  # the fast way is taken
        assert written(cached, method) == as_werkzeug_writes_it(cached, method)
    environ = EnvironBuilder().get_environ()
    expected = plain_copy(cached).get_wsgi_headers(environ).to_wsgi_list()
    assert cached.get_wsgi_headers(environ).to_wsgi_list() == expected


def test_cached_response_falls_back_where_werkzeug_adjusts() -> None:
    cases = [
        (204, [("Content-Length", "0")], b""),  # no Content-Length on a 204
        (200, [("Content-Type", "text/plain")], b"no length"),  # Content-Length computed
        (301, [("Location", "/caf\u00e9"), ("Content-Length", "0")], b""),  # IRI to URI
        (200, [("Content-Location", "/\u00e9"), ("Content-Length", "1")], b"x"),
    ]
    for status, fields, body in cases:
        cached = CachedResponse.build(status, list(fields), body)
        assert written(cached) == as_werkzeug_writes_it(cached), (status, fields)
        environ = EnvironBuilder().get_environ()
        expected = plain_copy(cached).get_wsgi_headers(environ).to_wsgi_list()
        assert cached.get_wsgi_headers(environ).to_wsgi_list() == expected


def test_cached_response_calls_what_a_hook_registered_on_close() -> None:
    cached = CachedResponse.build(200, list(FIELDS), b"the body")
    closed: list[bool] = []
    cached.call_on_close(lambda: closed.append(True))
    environ = EnvironBuilder().get_environ()
    result = cached(environ, lambda *args: None)
    assert b"".join(result) == b"the body"
    result.close()  # type: ignore[attr-defined]
    assert closed == [True]


def hit_app(hook: Any) -> tuple[Flask, dict[str, int]]:
    """A cached view, with ``hook`` as an after_request hook that runs after the cache's."""
    app = Flask(__name__)
    app.after_request(hook)  # installed first: runs last, on hits too
    easy_setup(app, Store(MemoryCache(), make_config(FakeClock())))
    calls = {"n": 0}

    @app.route("/")
    def index() -> Any:
        calls["n"] += 1
        return "the body", 200, {"Cache-Control": "max-age=60"}

    return app, calls


def test_hit_compressed_by_a_later_hook_has_the_new_body_and_length() -> None:
    def compress(response: Response) -> Response:
        response.set_data(gzip.compress(response.get_data(), mtime=0))
        response.headers["Content-Encoding"] = "gzip"
        return response

    app, calls = hit_app(compress)
    client = app.test_client()
    client.get("/")
    hit = client.get("/")
    assert calls["n"] == 1
    assert hit.headers["Cache-Status"].startswith("flask-httpcache; hit")
    assert gzip.decompress(hit.data) == b"the body"
    assert hit.headers["Content-Length"] == str(len(hit.data))
    again = client.get("/")  # the stored entry was not touched by the hook
    assert gzip.decompress(again.data) == b"the body"
    assert again.headers.getlist("Content-Encoding") == ["gzip"]


def test_hit_changed_by_a_later_hook_is_written_as_werkzeug_would() -> None:
    def relocate(response: Response) -> Response:
        if request.args.get("move"):
            response.status_code = 302
            response.headers["Location"] = "/caf\u00e9"
        if request.args.get("stream"):
            response.response = iter([b"streamed"])
            del response.headers["Content-Length"]
        response.headers["X-Added"] = "yes"
        return response

    app, calls = hit_app(relocate)
    client = app.test_client()
    client.get("/")
    moved = client.get("/?move=1")
    streamed = client.get("/?stream=1")
    assert calls["n"] == 3  # three URLs
    moved = client.get("/?move=1")
    assert moved.status_code == 302
    assert moved.headers["Location"] == "/caf%C3%A9"
    assert moved.headers["X-Added"] == "yes"
    streamed = client.get("/?stream=1")
    assert streamed.headers["Cache-Status"].startswith("flask-httpcache; hit")
    assert streamed.data == b"streamed"
    assert client.get("/").headers.getlist("X-Added") == ["yes"]
    assert calls["n"] == 3


def test_hit_to_head_has_no_body() -> None:
    app, _ = hit_app(lambda response: response)
    client = app.test_client()
    client.get("/")
    head = client.head("/")
    assert head.headers["Cache-Status"].startswith("flask-httpcache; hit")
    assert head.headers["Content-Length"] == "8"
    assert head.data == b""
