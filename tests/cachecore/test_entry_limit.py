"""The per-entry size limit on every backend, and the byte budget of the in-process cache
under a flood of distinct pages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from flask_cachecore import make_cache

LIMIT = 10_000


def assert_limit_holds(cache: Any) -> None:
    assert cache.set("small", "x" * 100) is True
    assert cache.set("big", "x" * (2 * LIMIT)) is False
    assert cache.get("big") is None
    assert cache.get("small") == "x" * 100
    stats = cache.stats()
    assert stats["too_large"] == 1
    assert stats["errors"] == 0  # not held against the backend
    assert stats["state"] == "closed"


@pytest.mark.redis
def test_redis_does_not_store_a_value_over_the_limit(redis_url: str, unique_prefix: str) -> None:
    cache = make_cache(
        {
            "CACHE_TYPE": "RedisCache",
            "CACHE_REDIS_URL": redis_url,
            "CACHE_KEY_PREFIX": unique_prefix,
            "CACHE_MAX_ENTRY_BYTES": LIMIT,
        }
    )
    assert_limit_holds(cache)
    cache.clear()


@pytest.mark.memcached
def test_memcached_does_not_store_a_value_over_the_limit(own_memcached: Any) -> None:
    server, _ = own_memcached
    cache = make_cache(
        {
            "CACHE_TYPE": "MemcachedCache",
            "CACHE_MEMCACHED_SERVERS": [server],
            "CACHE_MAX_ENTRY_BYTES": LIMIT,
        }
    )
    assert_limit_holds(cache)


def test_filesystem_does_not_store_a_value_over_the_limit_and_leaves_no_file(
    tmp_path: Path,
) -> None:
    cache = make_cache(
        {
            "CACHE_TYPE": "FileSystemCache",
            "CACHE_DIR": str(tmp_path),
            "CACHE_MAX_ENTRY_BYTES": LIMIT,
        }
    )
    before = set(tmp_path.iterdir())
    assert_limit_holds(cache)
    for _ in range(20):
        assert cache.set("big", "x" * (2 * LIMIT)) is False
    left = set(tmp_path.iterdir()) - before
    assert len(left) == 1  # the small value's file: no temporary file of a refused value


def test_the_in_process_cache_measures_its_entries_itself() -> None:
    cache: Any = make_cache({"CACHE_TYPE": "SimpleCache", "CACHE_MAX_ENTRY_BYTES": LIMIT})
    assert cache.set("big", "x" * (2 * LIMIT)) is False
    assert cache.backend.too_large == 1


@pytest.mark.slow
def test_a_flood_of_distinct_pages_stays_within_the_byte_budget() -> None:
    # flask-viewcache is not a dependency of flask-cachecore: its sdist's tests run without it
    viewcache = pytest.importorskip("flask_viewcache")
    app = Flask(__name__)
    app.config.update(CACHE_TYPE="SimpleCache", CACHE_THRESHOLD=100_000)
    cache = viewcache.Cache(app)
    page = "x" * 100_000

    @app.get("/page/<int:n>")
    @cache.cached(timeout=300)
    def paged(n: int) -> str:
        return f"{n}:{page}"

    @app.get("/huge")
    @cache.cached(timeout=300)
    def huge() -> str:
        return "y" * 2_000_000

    client = app.test_client()
    with app.app_context():
        backend: Any = cache.cache  # the MemoryCache itself, as in Flask-Caching
    budget = app.config["CACHE_MAX_BYTES"]
    assert budget == 32 * 1024 * 1024
    for n in range(2_000):
        assert client.get(f"/page/{n}").status_code == 200
        assert backend.total_bytes <= budget
    assert 0.9 * budget <= backend.total_bytes <= budget  # full, and no more
    assert client.get("/page/1999").data.startswith(b"1999:")  # the newest still cached
    assert len(client.get("/huge").data) == 2_000_000
    assert backend.too_large == 1  # over CACHE_MAX_ENTRY_BYTES (1 MiB): served, not stored
    with app.app_context():
        assert cache.stats()["functions"]


def test_the_limited_serializer_keeps_the_configured_serializer_type() -> None:
    # Flask-Caching's suite (and ported apps) check the type of a backend's serializer
    from cachelib.serializers import JSONSerializer as CachelibJSON

    from flask_cachecore import make_backend
    from flask_cachecore.errors import EntryTooLargeError
    from flask_cachecore.serializers import limit_entry_size

    backend = make_backend(
        {
            "CACHE_TYPE": "cachelib.SimpleCache",
            "CACHE_SERIALIZER": CachelibJSON,
            "CACHE_MAX_ENTRY_BYTES": 50,
        },
        "CACHE_",
    )
    raw = getattr(backend, "backend", backend)
    assert isinstance(raw.serializer, CachelibJSON)
    with pytest.raises(EntryTooLargeError):
        raw.serializer.dumps("x" * 100)
    assert raw.serializer.loads(raw.serializer.dumps([1])) == [1]
    # a serializer whose class cannot be extended still gets the limit, through a wrapper
    import json

    wrapped = limit_entry_size(json, 10)
    with pytest.raises(EntryTooLargeError):
        wrapped.dumps("y" * 20)
