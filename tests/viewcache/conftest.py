"""Fixtures of the flask-viewcache tests: apps with a cache on each kind of backend."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask

from flask_viewcache import Cache

AppFactory = Callable[..., tuple[Flask, Cache]]


def build_app(config: dict[str, Any] | None = None, **cache_options: Any) -> tuple[Flask, Cache]:
    app = Flask(__name__)
    app.config.update({"TESTING": True, "CACHE_TYPE": "SimpleCache", **(config or {})})
    cache = Cache(app, **cache_options)
    return app, cache


@pytest.fixture
def make_app() -> AppFactory:
    """``make_app(config)`` → ``(app, cache)``, on ``SimpleCache`` unless told otherwise."""
    return build_app


@pytest.fixture
def redis_config(redis_url: str, unique_prefix: str) -> dict[str, Any]:
    """``CACHE_*`` settings for the shared test Redis, under a prefix of this test alone."""
    return {
        "CACHE_TYPE": "RedisCache",
        "CACHE_REDIS_URL": redis_url,
        "CACHE_KEY_PREFIX": unique_prefix,
    }
