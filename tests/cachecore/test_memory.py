"""MemoryCache: the in-process backend with a hard bound."""

from __future__ import annotations

import threading

import pytest

from flask_cachecore import MemoryCache


def test_never_holds_more_than_threshold_entries() -> None:
    cache = MemoryCache(threshold=10)
    for i in range(1000):
        cache.set(f"k{i}", i)
        assert len(cache) <= 10
    assert len(cache) == 10


def test_evicts_least_recently_used_first() -> None:
    cache = MemoryCache(threshold=2)
    cache.set("a", 1)
    cache.set("b", 2)
    cache.get("a")
    cache.set("c", 3)
    assert cache.get("a") == 1
    assert cache.get("b") is None
    assert cache.get("c") == 3


def test_bound_holds_under_concurrent_writers() -> None:
    cache = MemoryCache(threshold=50)

    def write(n: int) -> None:
        for i in range(500):
            cache.set(f"{n}-{i}", i)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(cache) == 50


def test_values_are_copies_so_callers_cannot_change_the_cache() -> None:
    cache = MemoryCache()
    cache.set("k", [1])
    cache.get("k").append(2)
    assert cache.get("k") == [1]


def test_timeouts(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1000.0]
    monkeypatch.setattr("flask_cachecore.memory.monotonic", lambda: now[0])
    cache = MemoryCache(default_timeout=10)
    cache.set("default", 1)
    cache.set("forever", 1, timeout=0)
    cache.set("short", 1, timeout=1)
    cache.set("expired", 1, timeout=-1)
    assert cache.get("expired") is None
    now[0] += 5
    assert (cache.get("default"), cache.get("short"), cache.get("forever")) == (1, None, 1)
    now[0] += 10**6
    assert (cache.has("default"), cache.has("forever")) == (False, True)


def test_add_only_when_absent_or_expired(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [0.0]
    monkeypatch.setattr("flask_cachecore.memory.monotonic", lambda: now[0])
    cache = MemoryCache()
    assert cache.add("k", 1, timeout=5) is True
    assert cache.add("k", 2) is False
    now[0] = 6
    assert cache.add("k", 3) is True
    assert cache.get("k") == 3


def test_inc_dec_delete_many_and_clear() -> None:
    cache = MemoryCache()
    assert cache.inc("n") == 1
    assert cache.inc("n", 5) == 6
    assert cache.dec("n", 2) == 4
    cache.set_many({"a": 1, "b": 2})
    assert cache.get_many("a", "b", "c") == [1, 2, None]
    assert cache.delete_many("a", "b") == ["a", "b"]
    cache.clear()
    assert len(cache) == 0


def test_threshold_must_be_positive() -> None:
    with pytest.raises(ValueError, match="threshold"):
        MemoryCache(threshold=0)
