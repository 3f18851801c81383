"""FailSafeCache: a backend that is down, hung or answers garbage is a miss, never an exception."""

from __future__ import annotations

import logging
import time
from typing import Any

import pytest
from cachelib import BaseCache

from flask_cachecore import CircuitBreaker, FailSafeCache, MemoryCache, make_cache


class BrokenCache(BaseCache):
    """A fake backend whose every call raises (what a driver does when its server is gone)."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0
        self.broken = True
        self.store = MemoryCache()

    def _maybe_fail(self) -> None:
        self.calls += 1
        if self.broken:
            raise ConnectionError("connection refused")

    def get(self, key: str) -> Any:
        self._maybe_fail()
        return self.store.get(key)

    def set(self, key: str, value: Any, timeout: Any = None) -> bool:
        self._maybe_fail()
        return self.store.set(key, value, timeout)

    def get_many(self, *keys: str) -> list[Any]:
        self._maybe_fail()
        return self.store.get_many(*keys)


class GarbageCache(BaseCache):
    """A fake backend that answers nonsense shapes."""

    def get_many(self, *keys: str) -> Any:
        return "garbage"

    def delete_many(self, *keys: str) -> Any:
        return 17


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_failures_become_misses_not_exceptions() -> None:
    cache = FailSafeCache(BrokenCache())
    assert cache.get("k") is None
    assert cache.set("k", 1) is False
    assert cache.get_many("a", "b") == [None, None]
    assert cache.counters.errors == 3


def test_breaker_opens_after_threshold_skips_then_probes_and_recovers(
    caplog: pytest.LogCaptureFixture,
) -> None:
    backend = BrokenCache()
    cache = FailSafeCache(backend, failure_threshold=3, recovery_timeout=10)
    clock = Clock()
    cache.breaker.clock = clock
    with caplog.at_level(logging.WARNING, logger="flask_cachecore.failsafe"):
        for _ in range(10):
            assert cache.get("k") is None
    assert backend.calls == 3  # the other 7 were skipped without touching the backend
    assert cache.counters.skipped == 7
    assert cache.breaker.state == "open"
    opened = [r for r in caplog.records if "failed 3 times" in r.getMessage()]
    assert len(opened) == 1  # one line, not one per request
    assert all(r.exc_info is None for r in caplog.records)  # no tracebacks

    clock.now = 11  # half-open: one probe; it fails, so the breaker opens again silently
    assert cache.get("k") is None
    assert backend.calls == 4
    assert cache.breaker.state == "open"

    backend.broken = False
    backend.store.set("k", "v")
    clock.now = 22
    with caplog.at_level(logging.WARNING, logger="flask_cachecore.failsafe"):
        assert cache.get("k") == "v"
    assert cache.breaker.state == "closed"
    assert sum("recovered" in r.getMessage() for r in caplog.records) == 1
    assert cache.stats()["opened"] == 1


def test_only_one_probe_while_half_open() -> None:
    breaker = CircuitBreaker("b", failure_threshold=1, recovery_timeout=5, clock=Clock())
    breaker.record_failure(ConnectionError())
    breaker.clock.now = 6  # type: ignore[attr-defined]
    assert breaker.allow() is True
    assert breaker.allow() is False


def test_garbage_shapes_are_normalised() -> None:
    cache = FailSafeCache(GarbageCache())
    assert cache.get_many("a", "b") == [None, None]
    assert cache.delete_many("a") == []


def test_thread_enforced_operation_timeout() -> None:
    class SlowCache(MemoryCache):
        def get(self, key: str) -> Any:
            time.sleep(2)
            return "late"

    cache = FailSafeCache(SlowCache(), operation_timeout=0.05)
    started = time.monotonic()
    assert cache.get("k") is None
    assert time.monotonic() - started < 1.0
    assert cache.counters.timeouts == 1


def test_half_built_wrapper_raises_attribute_error_not_recursion() -> None:
    bare = FailSafeCache.__new__(FailSafeCache)  # as copy and unpickling make it
    with pytest.raises(AttributeError):
        bare.key_prefix  # noqa: B018


def test_invalid_breaker_settings() -> None:
    with pytest.raises(ValueError, match="failure_threshold"):
        CircuitBreaker("x", failure_threshold=0)


@pytest.mark.redis
def test_redis_killed_mid_test_gives_misses_not_exceptions(own_redis: Any) -> None:
    cache = make_cache({"CACHE_TYPE": "RedisCache", "CACHE_REDIS_URL": own_redis.url})
    assert cache.set("k", {"v": 1}) is True
    assert cache.get("k") == {"v": 1}
    own_redis.kill()
    started = time.monotonic()
    for _ in range(20):
        assert cache.get("k") is None
        assert cache.set("k", 2) is False
    assert time.monotonic() - started < 5
    assert cache.stats()["errors"] >= 1
    assert cache.stats()["state"] == "open"


@pytest.mark.redis
def test_hung_redis_costs_one_operation_timeout_then_is_skipped(own_redis: Any) -> None:
    cache = make_cache(
        {
            "CACHE_TYPE": "RedisCache",
            "CACHE_REDIS_URL": own_redis.url,
            "CACHE_OPERATION_TIMEOUT": 0.2,
            "CACHE_FAILURE_THRESHOLD": 2,
        }
    )
    assert cache.set("k", 1) is True
    own_redis.freeze()
    durations = []
    for _ in range(10):
        started = time.monotonic()
        assert cache.get("k") is None
        durations.append(time.monotonic() - started)
    assert max(durations) < 1.0  # each within about one socket timeout
    assert sum(d > 0.1 for d in durations) <= 2  # after two timeouts the breaker skips Redis
    own_redis.thaw()


@pytest.mark.redis
def test_recovers_after_redis_restarts(own_redis: Any) -> None:
    cache = make_cache(
        {
            "CACHE_TYPE": "RedisCache",
            "CACHE_REDIS_URL": own_redis.url,
            "CACHE_FAILURE_THRESHOLD": 1,
            "CACHE_RECOVERY_TIMEOUT": 0,
        }
    )
    own_redis.kill()
    assert cache.get("k") is None
    own_redis.restart()
    assert cache.set("k", "back") is True
    assert cache.get("k") == "back"
    assert cache.stats()["state"] == "closed"


@pytest.mark.memcached
def test_memcached_killed_mid_test_gives_misses_not_exceptions(own_memcached: Any) -> None:
    server, process = own_memcached
    cache = make_cache({"CACHE_TYPE": "MemcachedCache", "CACHE_MEMCACHED_SERVERS": [server]})
    assert cache.set("k", [1, 2]) is True
    assert cache.get("k") == [1, 2]
    process.kill()
    process.wait(5)
    started = time.monotonic()
    for _ in range(20):
        assert cache.get("k") is None
        assert cache.set("k", 3) is False
    assert time.monotonic() - started < 5
    assert cache.stats()["errors"] >= 1
