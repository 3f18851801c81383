"""A backend that is down or hung: views answer uncached, without errors or tracebacks,
and caching comes back by itself."""

from __future__ import annotations

import itertools
import logging
from typing import Any

import pytest
from flask import Flask

from flask_viewcache import Cache


def app_on(url: str, recovery: float) -> tuple[Flask, Cache, itertools.count[int]]:
    app = Flask(__name__)
    app.config.update(
        CACHE_TYPE="RedisCache",
        CACHE_REDIS_URL=url,
        CACHE_KEY_PREFIX="failsafe:",
        CACHE_OPERATION_TIMEOUT=0.2,
        CACHE_FAILURE_THRESHOLD=2,
        CACHE_RECOVERY_TIMEOUT=recovery,
    )
    cache = Cache(app)
    numbers = itertools.count(1)

    @app.route("/v")
    @cache.cached(timeout=60)
    def view() -> str:
        return f"view {next(numbers)}"

    @cache.memoize()
    def memo(n: int) -> int:
        return n * next(numbers)

    app.config["memo"] = memo
    return app, cache, numbers


def no_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


@pytest.mark.redis
@pytest.mark.parametrize("failure", ["freeze", "kill"])
def test_views_answer_uncached_while_the_backend_is_down(
    own_redis: Any, failure: str, caplog: pytest.LogCaptureFixture
) -> None:
    app, cache, _ = app_on(own_redis.url, recovery=60)
    client = app.test_client()
    assert client.get("/v").data == b"view 1"
    assert client.get("/v").data == b"view 1"
    getattr(own_redis, failure)()
    with caplog.at_level(logging.DEBUG):
        bodies = [client.get("/v") for _ in range(5)]
        with app.app_context():
            values = [app.config["memo"](1) for _ in range(3)]
            stats = cache.stats()
    assert [r.status_code for r in bodies] == [200] * 5
    assert len({r.data for r in bodies}) == 5  # each ran the view: uncached
    assert len(set(values)) == 3
    assert stats["errors"] > 0
    assert stats["backend"]["opened"] >= 1
    no_tracebacks(caplog)


@pytest.mark.redis
def test_caching_comes_back_when_the_backend_does(
    own_redis: Any, caplog: pytest.LogCaptureFixture
) -> None:
    app, cache, _ = app_on(own_redis.url, recovery=0)  # probe again at once
    client = app.test_client()
    own_redis.freeze()
    with caplog.at_level(logging.WARNING):
        client.get("/v")
        client.get("/v")
    own_redis.thaw()
    with caplog.at_level(logging.WARNING):
        first = client.get("/v").data  # the probe succeeds: stored again
        assert client.get("/v").data == first
    with app.app_context():
        assert cache.stats()["backend"]["state"] == "closed"
    assert any("recovered" in r.getMessage() for r in caplog.records)
    no_tracebacks(caplog)
