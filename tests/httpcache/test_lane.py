"""The request handler's hit lane: fresh hits served before Flask's request context, only when
nothing but the cache would have seen the request, and then the same answer as the hook's."""

from __future__ import annotations

import http.client
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import flask
import pytest
from flask import Flask, Response, g, redirect, request, request_finished, session
from flask.testing import FlaskClient
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.test import EnvironBuilder

from flask_cachecore import MemoryCache
from flask_httpcache import HTTPCacheMiddleware, Store, easy_setup
from flask_httpcache.lane import HitLane

from .helpers import FakeClock, cached_app, make_config

#: Flask 3.2 merged the request context into the app context: each request has its own
CONTEXTS_MERGED = hasattr(flask.ctx.AppContext, "has_request")


def add_routes(app: Flask) -> list[str]:
    """A fresh page, and a list of the request contexts Flask builds (one per request that
    goes through Flask, none for a hit served by the lane)."""
    contexts: list[str] = []
    build = app.request_context

    def counting_request_context(environ: dict[str, Any]) -> Any:
        contexts.append(environ.get("PATH_INFO", ""))
        return build(environ)

    app.request_context = counting_request_context  # type: ignore[method-assign]

    @app.route("/page")
    def page() -> Any:
        return f"page for {request.host}", 200, {"Cache-Control": "max-age=60"}

    return contexts


FRESH = {"Cache-Control": "max-age=60"}


def add_odd_routes(app: Flask) -> list[str]:
    """Stored responses that Werkzeug adjusts on the way out (Location made ASCII, no
    Content-Length on a 204, a Content-Length added to a body that had none) or whose status
    line it spells its own way."""

    @app.route("/moved")
    def moved() -> Any:
        response = redirect("/café menu/日本", 301)
        response.headers.update(FRESH)
        return response

    @app.route("/empty")
    def empty() -> Any:
        return Response(status=204, headers=FRESH)

    @app.route("/parts")
    def parts() -> Any:
        return Response([b"hello ", b"world"], headers=FRESH)

    @app.route("/gone")
    def gone() -> Any:
        return "gone", 410, FRESH

    return ["/page", "/moved", "/empty", "/parts", "/gone"]


def lane_app(**config: object) -> tuple[Flask, list[str], FakeClock]:
    app, _store, clock = cached_app(**config)
    return app, add_routes(app), clock


def test_a_fresh_hit_skips_flask_when_nothing_else_would_see_it() -> None:
    app, contexts, _ = lane_app()
    assert isinstance(app.wsgi_app, HitLane)
    client = app.test_client()
    miss = client.get("/page")
    hit = client.get("/page")
    assert "stored" in miss.headers["Cache-Status"]
    assert "hit" in hit.headers["Cache-Status"]
    assert hit.data == miss.data
    assert contexts == ["/page"]  # the hit built no request context


def test_before_flask_handled_a_request_the_lane_waits() -> None:
    """Flask refuses new hooks only after its first request: until then hooks may still be
    added, so a hit (here from a store another app filled) goes through the hook."""
    clock = FakeClock()
    store = Store(MemoryCache(threshold=100), make_config(clock))
    first, _, _ = cached_app(clock, store)
    add_routes(first)
    first.test_client().get("/page")
    second, _, _ = cached_app(clock, store)
    contexts = add_routes(second)
    client = second.test_client()
    assert "hit" in client.get("/page").headers["Cache-Status"]
    assert "hit" in client.get("/page").headers["Cache-Status"]
    assert contexts == ["/page"]


def requests_to_compare() -> list[tuple[str, dict[str, str]]]:
    return [
        ("GET", {}),
        ("HEAD", {}),
        ("GET", {"If-None-Match": "*"}),
        ("GET", {"Range": "bytes=0-3"}),
        ("GET", {"Cache-Control": "max-age=0"}),
        ("GET", {"Cache-Control": "max-stale=100"}),
        ("GET", {"Authorization": "Basic eDp5"}),
        ("GET", {"Accept-Encoding": "gzip"}),
    ]


def answers(hit_lane: bool) -> list[tuple[str, str, list[tuple[str, str]], bytes]]:
    """Status line, fields and body of each answer, written as a WSGI server gets them."""
    app, _contexts, clock = lane_app(hit_lane=hit_lane)
    paths = add_odd_routes(app)
    client = app.test_client()
    for path in paths:
        client.get(path)
    seen = []
    for advance in (5, 100):  # fresh, then stale
        clock.advance(advance)
        for path in paths:
            for method, headers in requests_to_compare():
                response = client.open(path, method=method, headers=headers)
                fields = response.headers.to_wsgi_list()
                seen.append((path, response.status, fields, response.data))
    return seen


def test_the_lane_answers_as_the_hook_does() -> None:
    assert answers(hit_lane=True) == answers(hit_lane=False)


def test_the_lane_answers_as_the_hook_does_through_a_real_server() -> None:
    """A stored redirect to a non-ASCII path: Werkzeug's server must get the URI form, or it
    cannot encode the field and drops the connection."""
    from werkzeug.serving import make_server

    for hit_lane in (True, False):
        app, _, _ = lane_app(hit_lane=hit_lane)
        add_odd_routes(app)
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            for _ in range(3):
                connection = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=10)
                connection.request("GET", "/moved")
                response = connection.getresponse()
                response.read()
                connection.close()
                assert response.status == 301
                assert response.headers["Location"] == "/caf%C3%A9%20menu/%E6%97%A5%E6%9C%AC"
        finally:
            server.shutdown()
            server.server_close()


def test_attributes_flask_lets_change_later_are_checked_on_every_request() -> None:
    """A response class or session interface set after the lane decided closes it."""

    class Framed(Response):
        def get_wsgi_headers(self, environ: Any) -> Any:
            headers = super().get_wsgi_headers(environ)
            headers["X-Frame-Options"] = "DENY"
            return headers

    app, contexts, _ = lane_app()
    client = app.test_client()
    client.get("/page")
    client.get("/page")
    assert contexts == ["/page"]
    app.response_class = Framed
    assert client.get("/page").headers["X-Frame-Options"] == "DENY"
    assert contexts == ["/page", "/page"]


def test_a_request_inside_an_app_context_of_the_app_takes_the_hook() -> None:
    """Before Flask 3.2 the request reuses that context, so the hook leaves its state in its
    ``g``; since 3.2 each request has its own context. Either way the hook serves the hit."""
    app, contexts, _ = lane_app()
    client = app.test_client()
    client.get("/page")
    with app.app_context():
        assert "hit" in client.get("/page").headers["Cache-Status"]
        if not CONTEXTS_MERGED:
            assert getattr(g, "_httpcache", None) is not None
    assert contexts == ["/page", "/page"]


def test_a_hit_is_counted_once_when_the_server_refuses_it() -> None:
    app, _, _ = lane_app()
    store = app.wsgi_app.fresh.store  # type: ignore[attr-defined]
    client = app.test_client()
    client.get("/page")
    environ = EnvironBuilder(path="/page").get_environ()
    calls: list[str] = []

    def refusing(status: str, headers: Any, exc_info: Any = None) -> Any:
        calls.append(status)
        raise ValueError("refused")

    before = store.counters.hits
    with pytest.raises(ValueError, match="refused"):
        app(environ, refusing)
    assert calls == ["200 OK"]
    assert store.counters.hits == before


def test_config_turns_the_lane_off() -> None:
    app, contexts, _ = lane_app(hit_lane=False)
    assert not isinstance(app.wsgi_app, HitLane)
    client = app.test_client()
    client.get("/page")
    assert "hit" in client.get("/page").headers["Cache-Status"]
    assert contexts == ["/page", "/page"]


@contextmanager
def receiving(signal: Any, app: Flask) -> Iterator[list[Any]]:
    received: list[Any] = []

    def receiver(sender: Any, **extra: Any) -> None:
        received.append(extra.get("response"))

    signal.connect(receiver, app)
    try:
        yield received
    finally:
        signal.disconnect(receiver, app)


def test_a_signal_receiver_sees_every_hit() -> None:
    app, contexts, _ = lane_app()
    client = app.test_client()
    client.get("/page")
    client.get("/page")  # by the lane
    with receiving(request_finished, app) as received:
        hit = client.get("/page")
    assert "hit" in hit.headers["Cache-Status"]
    assert len(received) == 1
    assert "hit" in received[0].headers["Cache-Status"]
    assert contexts == ["/page", "/page"]


def test_receivers_of_every_sender_close_the_lane_and_of_another_app_do_not() -> None:
    app, contexts, _ = lane_app()
    other = Flask("another")
    client = app.test_client()
    client.get("/page")
    with receiving(request_finished, other):
        assert "hit" in client.get("/page").headers["Cache-Status"]
    assert contexts == ["/page"]  # another app's receiver left the lane open

    heard: list[Any] = []

    def anywhere(sender: Any, **extra: Any) -> None:
        heard.append(sender)

    request_finished.connect(anywhere)
    try:
        assert "hit" in client.get("/page").headers["Cache-Status"]
    finally:
        request_finished.disconnect(anywhere)
    assert heard == [app]
    assert contexts == ["/page", "/page"]  # a receiver of every sender took the hook


Setup = Callable[[Flask, list[str]], None]


def before_hook(app: Flask, log: list[str]) -> None:
    @app.before_request
    def note() -> None:
        log.append("before")


def after_hook(app: Flask, log: list[str]) -> None:
    def mark(response: Response) -> Response:
        log.append("after")
        response.headers["X-After"] = "1"
        return response

    app.after_request(mark)


def teardown(app: Flask, log: list[str]) -> None:
    app.teardown_request(lambda exc: log.append("teardown"))


def teardown_appcontext(app: Flask, log: list[str]) -> None:
    app.teardown_appcontext(lambda exc: log.append("teardown"))


def url_value_preprocessor(app: Flask, log: list[str]) -> None:
    app.url_value_preprocessor(lambda endpoint, values: log.append("values"))


@pytest.mark.parametrize(
    "install", [before_hook, after_hook, teardown, teardown_appcontext, url_value_preprocessor]
)
def test_any_other_hook_makes_every_hit_take_the_hook(install: Setup) -> None:
    """Installed before the handlers, these run on hits (the before hook too, since it comes
    first): the lane must leave every hit to Flask."""
    log: list[str] = []
    app = Flask(__name__)
    install(app, log)
    easy_setup(app)
    add_routes(app)
    client = app.test_client()
    client.get("/page")
    for _ in range(3):
        assert "hit" in client.get("/page").headers["Cache-Status"]
    assert len(log) == 4


def test_a_before_hook_installed_after_the_handlers_does_not_stop_the_lane() -> None:
    """It never runs on a hit (the request hook answers first), lane or not."""
    log: list[str] = []
    app = Flask(__name__)
    easy_setup(app)
    before_hook(app, log)
    contexts = add_routes(app)
    client = app.test_client()
    client.get("/page")
    client.get("/page")
    assert log == ["before"]
    assert contexts == ["/page"]


def test_a_blueprint_hook_makes_hits_take_the_hook() -> None:
    from flask import Blueprint

    log: list[str] = []
    app = Flask(__name__)
    easy_setup(app)
    pages = Blueprint("pages", __name__)

    @pages.before_request
    def note() -> None:
        log.append("bp")

    @pages.route("/bp")
    def bp_page() -> Any:
        return "bp", 200, {"Cache-Control": "max-age=60"}

    app.register_blueprint(pages)
    contexts = add_routes(app)
    client = app.test_client()
    client.get("/bp")
    assert "hit" in client.get("/bp").headers["Cache-Status"]
    assert contexts == ["/bp", "/bp"]


def test_a_session_cookie_with_a_secret_key_takes_the_hook() -> None:
    """A permanent session's cookie is sent again on every request
    (SESSION_REFRESH_EACH_REQUEST), hits included."""
    app, contexts, _ = lane_app()
    app.secret_key = "test"

    @app.route("/login")
    def login() -> str:
        session.permanent = True
        session["user"] = "a"
        return "in"

    client = app.test_client()
    client.get("/login")
    client.get("/page")
    hit = client.get("/page")
    assert "hit" in hit.headers["Cache-Status"]
    assert "session=" in hit.headers.get("Set-Cookie", "")
    assert contexts == ["/login", "/page", "/page"]


def test_a_test_client_that_keeps_the_context_gets_it_on_a_hit() -> None:
    app, _, _ = lane_app()
    client: FlaskClient = app.test_client()
    client.get("/page")
    with client:
        hit = client.get("/page")
        assert "hit" in hit.headers["Cache-Status"]
        assert request.path == "/page"
        assert g._httpcache is not None


def test_an_app_class_that_overrides_the_pipeline_takes_the_hook() -> None:
    stamps: list[int] = []

    def stamp(response: Response) -> Response:
        response.headers["X-Stamp"] = str(len(stamps))
        stamps.append(1)
        return response

    class Stamping(Flask):
        # Flask 3.2 passes the context first; earlier Flask passes only the response
        if CONTEXTS_MERGED:

            def process_response(self, ctx: flask.ctx.AppContext, response: Response) -> Response:  # type: ignore[override]
                return stamp(super().process_response(ctx, response))  # stored before the stamp

        else:

            def process_response(self, response: Response) -> Response:
                return stamp(super().process_response(response))  # stored before the stamp

    app = Stamping(__name__)
    easy_setup(app)
    add_routes(app)
    client = app.test_client()
    client.get("/page")
    hit = client.get("/page")
    assert "hit" in hit.headers["Cache-Status"]
    assert hit.headers["X-Stamp"] == "1"  # stamped on the hit itself


def test_resource_exemptions_take_the_hook() -> None:
    app, contexts, _ = lane_app(resource_exemptions=("/admin",))
    client = app.test_client()
    client.get("/page")
    client.get("/page")
    assert contexts == ["/page", "/page"]


def test_middleware_installed_before_the_handlers_means_no_lane() -> None:
    """The lane must see what Flask sees: with a WSGI middleware already in place (here a
    ProxyFix), it would sit outside it, so it is not installed."""
    app = Flask(__name__)
    app.wsgi_app = ProxyFix(app.wsgi_app, x_host=1)  # type: ignore[method-assign]
    easy_setup(app)
    assert isinstance(app.wsgi_app, ProxyFix)


def test_middleware_installed_after_the_handlers_runs_before_the_lane() -> None:
    """A ProxyFix added later wraps the lane: the forwarded host is the key's host, so one
    host's page is never served for another."""
    app = Flask(__name__)
    app.config["TRUSTED_HOSTS"] = None
    easy_setup(app)
    contexts = add_routes(app)
    app.wsgi_app = ProxyFix(app.wsgi_app, x_host=1)  # type: ignore[method-assign]
    client = app.test_client()
    for _ in range(2):
        a = client.get("/page", headers={"X-Forwarded-Host": "a.example"})
        b = client.get("/page", headers={"X-Forwarded-Host": "b.example"})
        assert a.data == b"page for a.example"
        assert b.data == b"page for b.example"
    assert "hit" in a.headers["Cache-Status"]
    assert "hit" in b.headers["Cache-Status"]
    assert contexts == ["/page", "/page"]


def test_a_failing_backend_in_the_lane_falls_back_to_flask() -> None:
    class Broken(MemoryCache):
        def get(self, key: str) -> Any:
            raise ConnectionError("down")

    clock = FakeClock()
    app, _, _ = cached_app(clock, Store(Broken(threshold=10), make_config(clock)))
    contexts = add_routes(app)
    client = app.test_client()
    for _ in range(3):
        assert client.get("/page").status_code == 200
    assert contexts == ["/page"] * 3


def test_middleware_over_the_lane_of_its_store_looks_up_once_per_miss() -> None:
    """The README's fast path wrapped around easy_setup's lane: a miss is looked up by the
    middleware and by the hook, not a third time by the lane."""
    lookups: list[str] = []

    class Counting(MemoryCache):
        def get(self, key: str) -> Any:
            lookups.append(key)
            return super().get(key)

    clock = FakeClock()
    store = Store(Counting(threshold=10), make_config(clock))
    app, _, _ = cached_app(clock, store)
    add_routes(app)
    app.wsgi_app = HTTPCacheMiddleware(app.wsgi_app, store)  # type: ignore[method-assign]
    client = app.test_client()
    client.get("/page")
    clock.advance(100)  # stale: a miss for the middleware, a validation for the hook
    lookups.clear()
    assert "stored" in client.get("/page").headers["Cache-Status"]
    assert len(lookups) == 3  # the middleware's, the hook's, and the store's read before saving
