"""Every flask_cachecore backend holds the store; apps sharing Redis share invalidations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from flask_httpcache import HTTPCache


def app_with(config: dict[str, Any]) -> tuple[Flask, dict[str, int]]:
    app = Flask(__name__)
    app.config.update(config)
    calls = {"n": 0}

    @app.route("/page", methods=["GET", "POST"])
    def page() -> Any:
        calls["n"] += 1
        return f"body {calls['n']}", 200, {"Cache-Control": "max-age=60"}

    HTTPCache(app)
    return app, calls


def stores_and_hits(config: dict[str, Any]) -> None:
    app, calls = app_with(config)
    client = app.test_client()
    assert "stored" in client.get("/page").headers["Cache-Status"]
    hit = client.get("/page")
    assert hit.data == b"body 1"
    assert hit.headers["Cache-Status"].startswith("flask-httpcache; hit")
    assert calls["n"] == 1


def test_filesystem_backend(tmp_path: Path) -> None:
    stores_and_hits({"HTTPCACHE_TYPE": "FileSystemCache", "HTTPCACHE_DIR": str(tmp_path)})


@pytest.mark.redis
def test_redis_backend(redis_url: str, unique_prefix: str) -> None:
    stores_and_hits(
        {
            "HTTPCACHE_TYPE": "RedisCache",
            "HTTPCACHE_REDIS_URL": redis_url,
            "HTTPCACHE_KEY_PREFIX": unique_prefix,
        }
    )


@pytest.mark.redis_cluster
def test_redis_cluster_backend(redis_cluster_nodes: str, unique_prefix: str) -> None:
    stores_and_hits(
        {
            "HTTPCACHE_TYPE": "RedisClusterCache",
            "HTTPCACHE_REDIS_CLUSTER": redis_cluster_nodes,
            "HTTPCACHE_KEY_PREFIX": unique_prefix,
        }
    )


@pytest.mark.memcached
def test_memcached_backend(memcached_servers: list[str], unique_prefix: str) -> None:
    stores_and_hits(
        {
            "HTTPCACHE_TYPE": "MemcachedCache",
            "HTTPCACHE_MEMCACHED_SERVERS": memcached_servers,
            "HTTPCACHE_KEY_PREFIX": unique_prefix,
        }
    )


@pytest.mark.redis
def test_s4_4_two_apps_sharing_redis_see_each_others_invalidations(
    redis_url: str, unique_prefix: str
) -> None:
    config = {
        "HTTPCACHE_TYPE": "RedisCache",
        "HTTPCACHE_REDIS_URL": redis_url,
        "HTTPCACHE_KEY_PREFIX": unique_prefix,
    }
    one, calls_one = app_with(config)
    two, calls_two = app_with(config)
    one.test_client().get("/page")
    assert two.test_client().get("/page").data == b"body 1"  # stored by the other process
    assert calls_two["n"] == 0
    two.test_client().post("/page")
    assert one.test_client().get("/page").data == b"body 2"
    assert calls_one["n"] == 2


@pytest.mark.redis
def test_s7_redis_down_means_pass_through_never_5xx(own_redis: Any, unique_prefix: str) -> None:
    app, calls = app_with(
        {
            "HTTPCACHE_TYPE": "RedisCache",
            "HTTPCACHE_REDIS_URL": own_redis.url,
            "HTTPCACHE_KEY_PREFIX": unique_prefix,
            "HTTPCACHE_OPERATION_TIMEOUT": 0.2,
        }
    )
    client = app.test_client()
    client.get("/page")
    assert client.get("/page").data == b"body 1"
    own_redis.kill()
    for _ in range(8):
        response = client.get("/page")
        assert response.status_code == 200
        assert client.post("/page").status_code == 200
    assert calls["n"] == 17
    assert app.extensions["httpcache"].store.stats()["state"] == "open"


@pytest.mark.redis
def test_s7_hung_redis_means_pass_through(own_redis: Any, unique_prefix: str) -> None:
    app, _calls = app_with(
        {
            "HTTPCACHE_TYPE": "RedisCache",
            "HTTPCACHE_REDIS_URL": own_redis.url,
            "HTTPCACHE_KEY_PREFIX": unique_prefix,
            "HTTPCACHE_OPERATION_TIMEOUT": 0.1,
        }
    )
    client = app.test_client()
    own_redis.freeze()
    for _ in range(3):
        assert client.get("/page").status_code == 200


@pytest.mark.redis
def test_rfc5861_s3_stale_while_revalidate_refreshes_once_across_processes(
    redis_url: str, unique_prefix: str
) -> None:
    from flask_cachecore import make_cache
    from flask_httpcache import Store, easy_setup

    from .helpers import FakeClock, Jobs, make_config

    clock = FakeClock()
    jobs = Jobs()
    config = {
        "HTTPCACHE_TYPE": "RedisCache",
        "HTTPCACHE_REDIS_URL": redis_url,
        "HTTPCACHE_KEY_PREFIX": unique_prefix,
    }
    apps = []
    for _ in range(2):  # two app processes, one Redis
        app = Flask(__name__)

        @app.route("/swr")
        def swr() -> Any:
            return "v", 200, {"Cache-Control": "max-age=10, stale-while-revalidate=60"}

        store = Store(make_cache(config, prefix="HTTPCACHE_"), make_config(clock, background=jobs))
        easy_setup(app, store)  # type: ignore[arg-type]
        apps.append(app)
    apps[0].test_client().get("/swr")
    clock.advance(20)
    for app in apps * 2:
        response = app.test_client().get("/swr")
        assert "detail=stale-while-revalidate" in response.headers["Cache-Status"]
    assert len(jobs.queued) == 1
    jobs.run_all()
    assert "hit; ttl=" in apps[1].test_client().get("/swr").headers["Cache-Status"]
