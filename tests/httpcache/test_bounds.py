"""RFC 9111 §7: what clients can grow is bounded. Each bound gets a flood of many times its
size: bytes of the in-process store, the size of one entry (every backend), variants per URL,
query strings per path and Host values, through the test client and through a real Redis,
where the number of keys under the test's own prefix stays bounded."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask, request

from flask_cachecore import MemoryCache
from flask_httpcache import HTTPCache
from flask_httpcache.extension import state_of

HEADERS = {"Cache-Control": "max-age=600"}
MiB = 1024 * 1024


def flood_app(**config: Any) -> Flask:
    app = Flask(__name__)
    app.config.update({f"HTTPCACHE_{k.upper()}": v for k, v in config.items()})

    @app.route("/big/<int:number>")
    def big(number: int) -> Any:
        size = int(request.args.get("size", MiB - 4096))
        return bytes([number % 256]) * size, 200, HEADERS

    @app.route("/search")
    def search() -> Any:
        return f"results for {request.args.get('q')!r}", 200, HEADERS

    @app.route("/variant")
    def variant() -> Any:
        return f"variant {request.headers.get('X-Variant')}", 200, {**HEADERS, "Vary": "X-Variant"}

    @app.route("/host")
    def host() -> Any:
        return f"page of {request.host}", 200, HEADERS

    HTTPCache(app)
    return app


def memory_of(app: Flask) -> MemoryCache:
    backend = state_of(app).store.cache.backend  # type: ignore[attr-defined]
    assert isinstance(backend, MemoryCache)
    return backend


def test_s7_in_process_store_keeps_within_its_byte_budget() -> None:
    """1 MB pages: 100 of them stay within ``HTTPCACHE_MAX_BYTES`` (32 MiB by default)."""
    app = flood_app(threshold=100_000)
    client = app.test_client()
    memory = memory_of(app)
    assert memory.max_bytes == 32 * MiB
    for number in range(100):
        assert "stored" in client.get(f"/big/{number}").headers["Cache-Status"]
        assert memory.total_bytes <= 32 * MiB
    assert memory.total_bytes > 24 * MiB  # the budget is used, not left empty
    assert "hit" in client.get("/big/99").headers["Cache-Status"]  # the newest stay
    assert "hit" not in client.get("/big/0").headers["Cache-Status"]  # the oldest went


def test_s7_a_smaller_byte_budget_is_honoured() -> None:
    app = flood_app(threshold=100_000, max_bytes=4 * MiB)
    client = app.test_client()
    for number in range(20):
        client.get(f"/big/{number}?size=500000")
    assert memory_of(app).total_bytes <= 4 * MiB


def test_s7_an_entry_over_the_entry_limit_is_not_stored_and_is_counted() -> None:
    app = flood_app(max_body_size=8 * MiB, max_entry_bytes=2 * MiB)
    client = app.test_client()
    for _ in range(2):
        answer = client.get(f"/big/1?size={3 * MiB}")
        assert "stored" not in answer.headers["Cache-Status"]
        assert "hit" not in answer.headers["Cache-Status"]
    assert "stored" in client.get(f"/big/2?size={MiB}").headers["Cache-Status"]
    assert state_of(app).store.stats()["too_large"] == 2


@pytest.mark.slow
def test_s7_query_string_flood_keeps_a_bounded_number_of_entries() -> None:
    """5,000 query strings on one path: the store keeps the newest
    ``HTTPCACHE_MAX_QUERY_VARIANTS`` (and its list of them), not 5,000 entries."""
    app = flood_app(threshold=100_000, max_query_variants=100)
    client = app.test_client()
    for number in range(5_000):
        client.get(f"/search?q={number}")
    assert len(memory_of(app)) <= 100 + 1
    assert state_of(app).store.stats()["query_variants_dropped"] == 5_000 - 100
    assert "hit" in client.get("/search?q=4999").headers["Cache-Status"]
    assert client.get("/search?q=0").text == "results for '0'"


@pytest.mark.slow
def test_s7_vary_flood_keeps_at_most_max_variants() -> None:
    app = flood_app(threshold=100_000, max_variants=16)
    client = app.test_client()
    for number in range(1_000):
        client.get("/variant", headers={"X-Variant": str(number)})
    assert len(memory_of(app)) <= 16 + 1
    assert "hit" in client.get("/variant", headers={"X-Variant": "999"}).headers["Cache-Status"]


@pytest.mark.slow
def test_s7_host_flood_keys_at_most_max_hosts() -> None:
    app = flood_app(threshold=100_000, max_hosts=8)
    client = app.test_client()
    for number in range(1_000):
        answer = client.get("/host", headers={"Host": f"h{number}.example"})
        assert answer.text == f"page of h{number}.example"
    assert len(memory_of(app)) <= 8
    # each refused request counted once per lookup (the hit lane and the hook may both look)
    assert state_of(app).store.stats()["hosts_refused"] >= 1_000 - 8


@pytest.fixture
def redis_keys(redis_url: str, unique_prefix: str) -> Iterator[Any]:
    """A counter of the keys under the test's prefix in the real Redis; they are deleted at
    the end."""
    import redis

    client = redis.Redis.from_url(redis_url)

    def count() -> int:
        return sum(1 for _ in client.scan_iter(match=unique_prefix + "*", count=1000))

    try:
        yield count
    finally:
        for key in client.scan_iter(match=unique_prefix + "*", count=1000):
            client.delete(key)


@pytest.mark.redis
@pytest.mark.slow
def test_s7_floods_through_redis_keep_the_key_count_bounded(
    redis_url: str, unique_prefix: str, redis_keys: Any
) -> None:
    app = flood_app(
        type="RedisCache",
        redis_url=redis_url,
        key_prefix=unique_prefix,
        max_query_variants=32,
        max_hosts=4,
        max_entry_bytes=256 * 1024,
    )
    client = app.test_client()
    for number in range(2_000):
        client.get(f"/search?q={number}")
    assert redis_keys() <= 32 + 1
    for number in range(300):
        client.get("/variant", headers={"X-Variant": str(number)})
    assert redis_keys() <= 32 + 1 + 16 + 1
    for number in range(100):
        client.get("/host", headers={"Host": f"h{number}.example"})
    for _ in range(2):
        client.get("/big/1?size=300000")
    assert redis_keys() <= 32 + 1 + 16 + 1 + 4
    stats = state_of(app).store.stats()
    assert stats["too_large"] == 2
    assert stats["query_variants_dropped"] == 2_000 - 32
    assert "hit" in client.get("/search?q=1999").headers["Cache-Status"]
