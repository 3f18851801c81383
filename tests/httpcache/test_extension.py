"""The one install story: ``HTTPCache(app=None)`` / ``init_app``, its state in
``app.extensions``, ``store`` / ``purge`` / ``stats``, the two installers, ``easy_setup`` as
an alias, every ``Config`` field read from ``HTTPCACHE_*``, the same default store everywhere,
and a store that keeps nothing saying so."""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

import pytest
from cachelib import NullCache
from flask import Flask, request

from flask_cachecore import CacheConfigError, MemoryCache
from flask_httpcache import Config, HTTPCache, Store, cache_for, easy_setup
from flask_httpcache.extension import state_of


def page_app(calls: list[str] | None = None) -> Flask:
    app = Flask(__name__)

    @app.route("/page")
    @cache_for(minutes=1)
    def page() -> str:
        if calls is not None:
            calls.append("view")
        return "page"

    return app


#: a value unlike the default for each kind of Config field
def other_value(item: dataclasses.Field[Any]) -> Any:
    default = item.default
    if item.name == "trusted_hosts":
        return ("example.com",)
    if item.name == "resource_exemptions":
        return ("/admin",)
    if item.name == "targeted_fields":
        return ("Surrogate-Control",)
    if item.name == "ignored_query_parameters":
        return ("utm_*",)
    if isinstance(default, bool):
        return not default
    if isinstance(default, int):
        return default + 1
    if isinstance(default, float):
        return default / 2
    if isinstance(default, str):
        return default + "-x"
    raise AssertionError(f"no test value for Config.{item.name}")


def test_init_app_reads_every_config_field_from_its_httpcache_key() -> None:
    """Derived from the dataclass: a field added to Config is read without a name map."""
    app = page_app()
    keys = Config.flask_config_keys()
    expected = {}
    for item in dataclasses.fields(Config):
        if item.name in ("clock", "background"):
            assert item.name not in keys  # code, not configuration
            continue
        assert keys[item.name] == "HTTPCACHE_" + item.name.upper()
        expected[item.name] = app.config[keys[item.name]] = other_value(item)
    HTTPCache(app)
    config = state_of(app).store.config
    assert {name: getattr(config, name) for name in expected} == expected


def test_a_bad_value_names_its_httpcache_key() -> None:
    app = page_app()
    app.config["HTTPCACHE_MAX_QUERY_VARIANTS"] = 0
    with pytest.raises(CacheConfigError, match="HTTPCACHE_MAX_QUERY_VARIANTS=0"):
        HTTPCache(app)


def test_one_extension_object_serves_several_apps_each_with_its_own_state() -> None:
    httpcache = HTTPCache()
    first, second = page_app(), page_app()
    httpcache.init_app(first)
    httpcache.init_app(second)
    assert state_of(first).store is not state_of(second).store
    first.test_client().get("/page")
    assert (
        first.test_client().get("/page").headers["Cache-Status"].startswith("flask-httpcache; hit")
    )
    with first.app_context():
        assert httpcache.store is state_of(first).store
        assert httpcache.stats()["hits"] == 1
    with second.app_context():
        assert httpcache.stats()["hits"] == 0


def test_init_app_twice_and_use_before_init_app_are_clear_errors() -> None:
    app = page_app()
    httpcache = HTTPCache(app)
    with pytest.raises(RuntimeError, match="already set up"):
        httpcache.init_app(app)
    other = page_app()
    with other.app_context(), pytest.raises(RuntimeError, match="init_app"):
        _ = httpcache.store
    with pytest.raises(RuntimeError, match="init_app"):
        httpcache.install_request_handler(other)


def test_purge_forgets_a_url_and_says_whether_it_was_stored() -> None:
    calls: list[str] = []
    app = page_app(calls)
    httpcache = HTTPCache(app)
    client = app.test_client()
    client.get("/page")
    with app.app_context():
        assert httpcache.purge(url="http://localhost/page") is True
        assert httpcache.purge(url="http://localhost/page") is False
        with pytest.raises(ValueError, match="absolute URL"):
            httpcache.purge(url="/page")
        with pytest.raises(ValueError, match="give the URL"):
            httpcache.purge()
    client.get("/page")
    assert calls == ["view", "view"]


def test_the_installers_put_the_handlers_where_the_app_wants_them() -> None:
    seen: list[str] = []
    app = page_app()
    httpcache = HTTPCache(install_handlers=False)
    httpcache.init_app(app)
    assert app.before_request_funcs == {}
    assert app.after_request_funcs == {}

    @app.before_request
    def before_cache() -> None:
        seen.append("before " + request.path)

    httpcache.install_request_handler(app)

    @app.before_request
    def after_cache() -> None:
        seen.append("after " + request.path)

    httpcache.install_response_handler(app)
    client = app.test_client()
    assert client.get("/page").headers["Cache-Status"].endswith("stored")
    assert "; hit;" in client.get("/page").headers["Cache-Status"]
    assert seen == ["before /page", "after /page", "before /page"]
    with pytest.raises(RuntimeError, match="already installed"):
        httpcache.install_request_handler(app)
    with pytest.raises(RuntimeError, match="already installed"):
        httpcache.install_response_handler(app)


def test_easy_setup_is_httpcache_and_reads_app_config() -> None:
    app = page_app()
    app.config["HTTPCACHE_CACHE_NAME"] = "edge"
    request_handler, response_handler = easy_setup(app)
    state = state_of(app)
    assert (state.request_handler, state.response_handler) == (request_handler, response_handler)
    assert state.store.config.cache_name == "edge"
    assert app.test_client().get("/page").headers["Cache-Status"].startswith("edge; ")
    with pytest.raises(RuntimeError, match="already set up"):
        easy_setup(app)


def test_every_way_without_a_cache_gets_the_same_in_process_store() -> None:
    via_extension, via_easy_setup = page_app(), page_app()
    HTTPCache(via_extension)
    easy_setup(via_easy_setup)
    backends = [state_of(app).store.cache.backend for app in (via_extension, via_easy_setup)]  # type: ignore[attr-defined]
    assert all(type(backend) is MemoryCache for backend in backends)
    shapes = [(b.threshold, b.max_bytes, b.max_entry_bytes) for b in backends]
    assert shapes[0] == shapes[1] == (1000, Config.max_bytes, Config.max_entry_bytes)


def test_a_store_that_keeps_nothing_says_so_once_and_never_claims_stored(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = page_app()
    app.config["HTTPCACHE_TYPE"] = "NullCache"
    with caplog.at_level(logging.WARNING, logger="flask_httpcache.store"):
        HTTPCache(app)
        backend = state_of(app).store.cache
        Store(backend)  # a second store over the same backend: no second line
    warnings = [r for r in caplog.records if "keeps nothing" in r.getMessage()]
    assert len(warnings) == 1
    assert isinstance(backend, NullCache)
    client = app.test_client()
    for _ in range(2):
        status = client.get("/page").headers["Cache-Status"]
        assert "stored" not in status
        assert "hit" not in status
