"""``flask viewcache clear`` (this app's prefix only) and ``flask viewcache stats``."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask

from flask_viewcache import Cache


def test_stats_command(make_app: Any) -> None:
    app, cache = make_app()

    @cache.memoize()
    def f() -> int:
        return 1

    result = app.test_cli_runner().invoke(args=["viewcache", "stats"])
    assert result.exit_code == 0, result.output
    (report,) = json.loads(result.output)
    assert report["cache"].startswith("MemoryCache")
    assert report["keys"] == 0


def test_clear_of_an_in_process_cache_says_what_to_do(make_app: Any) -> None:
    app, _ = make_app()
    result = app.test_cli_runner().invoke(args=["viewcache", "clear"])
    assert result.exit_code == 0
    assert "restart" in result.output


@pytest.mark.redis
def test_clear_deletes_only_this_apps_prefix(redis_config: dict[str, Any]) -> None:
    import redis

    app = Flask(__name__)
    app.config.update(redis_config)
    cache = Cache(app)
    raw = redis.Redis.from_url(redis_config["CACHE_REDIS_URL"])
    neighbour = "neighbour-" + redis_config["CACHE_KEY_PREFIX"]
    try:
        raw.set(neighbour, "keep me")
        with app.app_context():
            cache.set("mine", 1)
        stats = app.test_cli_runner().invoke(args=["viewcache", "stats"])
        assert json.loads(stats.output)[0]["keys"] == 1
        result = app.test_cli_runner().invoke(args=["viewcache", "clear"])
        assert result.exit_code == 0, result.output
        with app.app_context():
            assert cache.get("mine") is None
        assert raw.get(neighbour) == b"keep me"
    finally:
        raw.delete(neighbour)
        raw.close()


@pytest.mark.redis
def test_clear_refuses_a_redis_without_prefix(redis_url: str) -> None:
    app = Flask(__name__)
    app.config.update(CACHE_TYPE="RedisCache", CACHE_REDIS_URL=redis_url, CACHE_KEY_PREFIX="")
    Cache(app)
    result = app.test_cli_runner().invoke(args=["viewcache", "clear"])
    assert result.exit_code == 1
    assert "CACHE_KEY_PREFIX" in result.output


@pytest.mark.memcached
def test_clear_refuses_memcached_without_flush_all(
    memcached_servers: list[str], unique_prefix: str
) -> None:
    app = Flask(__name__)
    app.config.update(
        CACHE_TYPE="MemcachedCache",
        CACHE_MEMCACHED_SERVERS=memcached_servers,
        CACHE_KEY_PREFIX=unique_prefix,
    )
    Cache(app)
    result = app.test_cli_runner().invoke(args=["viewcache", "clear"])
    assert result.exit_code == 1
    assert "--flush-all" in result.output
