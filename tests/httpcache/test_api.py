"""The public API: HTTPCache, easy_setup, Config, decorators, install order, CLI, middleware."""

from __future__ import annotations

import gzip
import json
from typing import Any

import pytest
from flask import Flask, Response, redirect, request

from flask_cachecore import CacheConfigError, MemoryCache
from flask_httpcache import (
    Config,
    HTTPCache,
    HTTPCacheMiddleware,
    RequestHandler,
    ResponseHandler,
    Store,
    cache_control,
    cache_for,
    dont_cache,
    easy_setup,
    vary,
)

from .helpers import FakeClock, make_config


def counted(app: Flask, calls: dict[str, int], rule: str = "/") -> None:
    def view() -> Any:
        calls["n"] = calls.get("n", 0) + 1
        return f"body {calls['n']}", 200, {"Cache-Control": "max-age=60"}

    app.add_url_rule(rule, rule, view, methods=["GET", "POST"])


def test_httpcache_init_app_reads_config_and_registers_extension() -> None:
    app = Flask(__name__)
    app.config["HTTPCACHE_MAX_VARIANTS"] = 3
    ext = HTTPCache()
    ext.init_app(app)
    state = app.extensions["httpcache"]
    assert state.store.config.max_variants == 3
    assert app.config["HTTPCACHE_TYPE"] == "SimpleCache"
    calls: dict[str, int] = {}
    counted(app, calls)
    client = app.test_client()
    client.get("/")
    client.get("/")
    assert calls["n"] == 1
    with pytest.raises(RuntimeError, match="already"):
        ext.init_app(app)


def test_httpcache_bad_config_names_the_key() -> None:
    app = Flask(__name__)
    app.config["HTTPCACHE_MAX_VARIANTS"] = 0
    with pytest.raises(CacheConfigError, match="HTTPCACHE_MAX_VARIANTS"):
        HTTPCache(app)
    app = Flask(__name__)
    app.config["HTTPCACHE_TYPE"] = "NoSuchCache"
    with pytest.raises(CacheConfigError, match="HTTPCACHE_TYPE"):
        HTTPCache(app)


def test_easy_setup_uses_in_process_cache_by_default() -> None:
    app = Flask(__name__)
    calls: dict[str, int] = {}
    counted(app, calls)
    easy_setup(app)
    client = app.test_client()
    client.get("/")
    assert client.get("/").headers["Cache-Status"].startswith("flask-httpcache; hit")


def test_config_master_salt_invalidates_everything() -> None:
    cache = MemoryCache()
    clock = FakeClock()
    calls: dict[str, int] = {}
    app = Flask(__name__)
    counted(app, calls)
    handlers = easy_setup(app, cache, make_config(clock, master_salt="one"))
    client = app.test_client()
    client.get("/")
    client.get("/")
    assert calls["n"] == 1
    handlers[0].store.config.master_salt = "two"
    client.get("/")
    assert calls["n"] == 2


def test_config_resource_exemptions_are_never_stored() -> None:
    app = Flask(__name__)
    calls: dict[str, int] = {}
    counted(app, calls, "/admin/x")
    easy_setup(app, config=make_config(FakeClock(), resource_exemptions=["/admin"]))
    client = app.test_client()
    client.get("/admin/x")
    response = client.get("/admin/x")
    assert calls["n"] == 2
    assert "fwd=bypass" in response.headers["Cache-Status"]


def test_config_rejects_bad_values() -> None:
    with pytest.raises(CacheConfigError, match="heuristic_fraction"):
        Config(heuristic_fraction=0.5)


def test_cache_for_sets_max_age_and_expires() -> None:
    app = Flask(__name__)

    @app.route("/")
    @cache_for(minutes=5)
    def index() -> str:
        return "x"

    response = app.test_client().get("/")
    assert response.cache_control.max_age == 300
    assert response.expires is not None


def test_cache_control_sets_known_directives_and_rejects_unknown() -> None:
    app = Flask(__name__)

    @app.route("/")
    @cache_control(public=True, s_maxage=60, stale_while_revalidate=30)
    def index() -> str:
        return "x"

    value = app.test_client().get("/").headers["Cache-Control"]
    assert "public" in value
    assert "s-maxage=60" in value
    assert "stale-while-revalidate=30" in value
    with pytest.raises(TypeError, match="no_such"):
        cache_control(no_such=True)


def test_dont_cache_and_vary() -> None:
    app = Flask(__name__)
    calls: dict[str, int] = {}

    @app.route("/never")
    @dont_cache()
    def never() -> str:
        calls["n"] = calls.get("n", 0) + 1
        return "x"

    @app.route("/lang")
    @vary("Accept-Language")
    @cache_for(seconds=60)
    def lang() -> str:
        return request.headers.get("Accept-Language", "none")

    easy_setup(app)
    client = app.test_client()
    client.get("/never")
    client.get("/never")
    assert calls["n"] == 2
    assert client.get("/lang", headers={"Accept-Language": "fr"}).data == b"fr"
    assert client.get("/lang", headers={"Accept-Language": "de"}).data == b"de"
    assert client.get("/lang", headers={"Accept-Language": "fr"}).headers["Vary"] == (
        "Accept-Language"
    )


def compress(response: Response) -> Response:
    """A compression hook, as an app would write it."""
    if (
        "gzip" in request.headers.get("Accept-Encoding", "")
        and "Content-Encoding" not in response.headers
        and not response.direct_passthrough
        and response.status_code == 200
    ):
        response.set_data(gzip.compress(response.get_data(), mtime=0))
        response.headers["Content-Encoding"] = "gzip"
        response.vary.add("Accept-Encoding")
    return response


def build_ordered_app(order: str) -> tuple[Flask, Store, list[str], dict[str, int]]:
    app = Flask(__name__)
    store = Store(MemoryCache(), make_config(FakeClock()))
    log: list[str] = []
    calls: dict[str, int] = {}
    counted(app, calls)

    def log_request() -> None:
        log.append(request.path)

    if order == "cache-outermost":
        # the log and compression sit inside the cache: hits skip the log; the stored body
        # is compressed once and served as is
        RequestHandler(store, app)
        app.before_request(log_request)
        ResponseHandler(store, app)
        app.after_request(compress)
    else:
        # the log and compression sit outside the cache: the log sees hits; the stored body
        # is plain and every response (hits too) is compressed on the way out
        app.before_request(log_request)
        app.after_request(compress)
        RequestHandler(store, app)
        ResponseHandler(store, app)
    return app, store, log, calls


def test_install_order_cache_outermost_stores_compressed_and_hides_hits_from_log() -> None:
    app, store, log, calls = build_ordered_app("cache-outermost")
    client = app.test_client()
    headers = {"Accept-Encoding": "gzip"}
    client.get("/", headers=headers)
    hit = client.get("/", headers=headers)
    assert calls["n"] == 1
    assert log == ["/"]
    assert gzip.decompress(hit.data) == b"body 1"
    entry, _ = store.lookup(
        store.uri_key("http", "localhost", "/", ""),
        lambda name: "gzip" if name.lower() == "accept-encoding" else None,
    )
    assert entry is not None
    assert entry.body.startswith(b"\x1f\x8b")
    plain = client.get("/")
    assert plain.data == b"body 2"  # another variant (Vary: Accept-Encoding)


def test_install_order_cache_innermost_stores_plain_and_logs_hits() -> None:
    app, store, log, calls = build_ordered_app("cache-innermost")
    client = app.test_client()
    headers = {"Accept-Encoding": "gzip"}
    client.get("/", headers=headers)
    hit = client.get("/", headers=headers)
    assert calls["n"] == 1
    assert log == ["/", "/"]
    assert gzip.decompress(hit.data) == b"body 1"
    entry, _ = store.lookup(store.uri_key("http", "localhost", "/", ""), lambda name: None)
    assert entry is not None
    assert entry.body == b"body 1"
    assert client.get("/").data == b"body 1"  # one stored variant serves both


def test_cli_purge_and_stats() -> None:
    app = Flask(__name__)
    calls: dict[str, int] = {}
    counted(app, calls, "/page")
    HTTPCache(app)
    client = app.test_client()
    client.get("/page")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["httpcache", "purge", "http://localhost/page"])
    assert result.exit_code == 0, result.output
    assert "purged" in result.output
    client.get("/page")
    assert calls["n"] == 2
    result = runner.invoke(args=["httpcache", "stats"])
    stats = json.loads(result.output)
    assert stats["stores"] == 2
    assert stats["invalidations"] == 1
    result = runner.invoke(args=["httpcache", "purge", "/relative"])
    assert result.exit_code != 0


def test_middleware_serves_fresh_hits_before_flask() -> None:
    app = Flask(__name__)
    calls: dict[str, int] = {}
    counted(app, calls)
    seen: list[str] = []
    app.before_request(lambda: seen.append("flask") and None)
    clock = FakeClock()
    store = Store(MemoryCache(), make_config(clock))
    RequestHandler(store, app)
    ResponseHandler(store, app)
    app.wsgi_app = HTTPCacheMiddleware(app.wsgi_app, store)  # type: ignore[method-assign]
    client = app.test_client()
    client.get("/")
    seen.clear()
    hit = client.get("/")
    assert hit.data == b"body 1"
    assert seen == []
    assert hit.headers["Cache-Status"].endswith("hit; ttl=60")
    assert client.head("/").data == b""
    clock.advance(61)
    client.get("/")
    assert seen == ["flask"]
    assert calls["n"] == 2
    client.get("/", headers={"If-None-Match": '"x"'})  # left to Flask
    assert seen == ["flask", "flask"]


def test_middleware_leaves_responses_werkzeug_adjusts_to_flask() -> None:
    """A stored redirect to a non-ASCII path is written with its Location in URI form, as the
    handlers write it (the middleware leaves it to them): a server cannot send the IRI."""
    app = Flask(__name__)
    seen: list[str] = []
    app.before_request(lambda: seen.append("flask") and None)

    @app.route("/moved")
    def moved() -> Any:
        response = redirect("/café", 301)
        response.headers["Cache-Control"] = "max-age=60"
        return response

    store = Store(MemoryCache(), make_config(FakeClock()))
    easy_setup(app, store)
    app.wsgi_app = HTTPCacheMiddleware(app.wsgi_app, store)  # type: ignore[method-assign]
    client = app.test_client()
    client.get("/moved")
    hit = client.get("/moved")
    assert "hit" in hit.headers["Cache-Status"]
    assert hit.headers["Location"] == "/caf%C3%A9"
    assert seen == ["flask", "flask"]


def test_httpcache_middleware_setting_installs_the_fast_path() -> None:
    app = Flask(__name__)
    app.config["HTTPCACHE_MIDDLEWARE"] = True
    calls: dict[str, int] = {}
    counted(app, calls)
    HTTPCache(app)
    assert isinstance(app.wsgi_app, HTTPCacheMiddleware)
    client = app.test_client()
    client.get("/")
    assert client.get("/").data == b"body 1"
    client.post("/")
    assert client.get("/").data == b"body 3"
