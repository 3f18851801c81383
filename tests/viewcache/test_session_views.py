"""A cached view that reads the session serves one user's page: it is not stored, unless the key
already tells users apart or the app opts in with CACHE_STORE_SESSION_VIEWS."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from flask import Flask, session

from flask_viewcache import Cache


def make_app(**config: Any) -> tuple[Flask, Cache]:
    app = Flask(__name__)
    app.config.update(SECRET_KEY="test", CACHE_TYPE="SimpleCache", **config)
    cache = Cache(app)

    @app.post("/login/<name>")
    def login(name: str) -> str:
        session["user"] = name
        return "ok"

    @app.get("/greeting")
    @cache.cached(timeout=60)
    def greeting() -> str:
        return f"hello {session.get('user', 'stranger')}"

    @app.get("/public")
    @cache.cached(timeout=60)
    def public() -> str:
        return "same for everyone"

    def per_user_key() -> str:
        return f"greeting-of-{session.get('user', '')}"

    @app.get("/keyed")
    @cache.cached(timeout=60, make_cache_key=per_user_key)
    def keyed() -> str:
        return f"hi {session.get('user', 'stranger')}"

    return app, cache


def stats_of(app: Flask, cache: Cache, view: str) -> dict[str, int]:
    with app.app_context():
        functions = cache.stats()["functions"]
    return next(v for k, v in functions.items() if k.endswith(view))


def test_a_view_that_reads_the_session_is_not_served_to_another_user(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app, cache = make_app()
    alice, bob = app.test_client(), app.test_client()
    alice.post("/login/alice")
    bob.post("/login/bob")
    with caplog.at_level(logging.WARNING, logger="flask_viewcache"):
        assert alice.get("/greeting").data == b"hello alice"
        assert bob.get("/greeting").data == b"hello bob"
        assert alice.get("/greeting").data == b"hello alice"
    assert sum("read the session" in r.getMessage() for r in caplog.records) == 1
    greeting = stats_of(app, cache, "greeting")
    assert greeting["hits"] == 0
    assert greeting["bypassed"] == 3


def test_a_view_that_does_not_read_the_session_is_cached_for_everyone() -> None:
    app, cache = make_app()
    alice, bob = app.test_client(), app.test_client()
    alice.post("/login/alice")
    alice.get("/public")
    assert bob.get("/public").data == b"same for everyone"
    public = stats_of(app, cache, "public")
    assert public["hits"] == 1


def test_a_key_that_reads_the_session_keeps_users_apart_and_is_cached() -> None:
    app, cache = make_app()
    alice, bob = app.test_client(), app.test_client()
    alice.post("/login/alice")
    bob.post("/login/bob")
    assert alice.get("/keyed").data == b"hi alice"
    assert bob.get("/keyed").data == b"hi bob"
    assert alice.get("/keyed").data == b"hi alice"
    keyed = stats_of(app, cache, "keyed")
    assert keyed["hits"] == 1


def test_the_old_behaviour_on_request() -> None:
    app, _ = make_app(CACHE_STORE_SESSION_VIEWS=True)
    alice, bob = app.test_client(), app.test_client()
    alice.post("/login/alice")
    bob.post("/login/bob")
    assert alice.get("/greeting").data == b"hello alice"
    assert bob.get("/greeting").data == b"hello alice"  # what Flask-Caching does


def test_without_a_secret_key_the_null_session_does_not_count() -> None:
    app = Flask(__name__)
    app.config.update(CACHE_TYPE="SimpleCache")
    cache = Cache(app)

    @app.get("/")
    @cache.cached(timeout=60)
    def index() -> str:
        return f"user: {session.get('user')}"

    client = app.test_client()
    client.get("/")
    client.get("/")
    index_stats = stats_of(app, cache, "index")
    assert index_stats["hits"] == 1
