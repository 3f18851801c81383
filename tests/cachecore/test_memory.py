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
    monkeypatch.setattr("cachelib.simple.time", lambda: now[0])
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
    monkeypatch.setattr("cachelib.simple.time", lambda: now[0])
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


def test_expiry_follows_the_clock_that_flask_caching_suites_freeze(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Flask-Caching's own tests, and users' suites written for it, move time by patching
    # ``cachelib.simple.time``; an entry must expire when that clock passes its timeout
    now = [5000.0]
    monkeypatch.setattr("cachelib.simple.time", lambda: now[0])
    cache = MemoryCache()
    cache.set("k", "v", timeout=2)
    now[0] += 1.9
    assert cache.get("k") == "v"
    now[0] += 0.2
    assert cache.get("k") is None


def test_expiry_follows_time_time_when_it_is_patched(monkeypatch: pytest.MonkeyPatch) -> None:
    # what freezegun and time-machine change: the process's time.time
    import time

    now = [10_000.0]
    monkeypatch.setattr(time, "time", lambda: now[0])
    monkeypatch.setattr("cachelib.simple.time", time.time)
    cache = MemoryCache()
    cache.set("k", "v", timeout=3)
    now[0] += 4
    assert cache.get("k") is None


def test_byte_budget_holds_under_a_flood_of_large_values() -> None:
    budget = 2_000_000
    cache = MemoryCache(threshold=100_000, max_bytes=budget)
    page = b"x" * 100_000
    for i in range(500):
        cache.set(f"page{i}", page + str(i).encode())
        assert cache.total_bytes <= budget
    # about 19 pages of 100 kB fit; the newest are the ones kept
    assert 15 <= len(cache) <= 20
    assert cache.get("page499") == page + b"499"
    assert cache.get("page0") is None


def test_byte_budget_counts_objects_kept_unpickled() -> None:
    from flask_cachecore import InProcessSerializer

    budget = 1_000_000
    cache = MemoryCache(threshold=100_000, max_bytes=budget, serializer=InProcessSerializer())
    for i in range(200):
        cache.set(f"k{i}", ("body", "y" * 50_000, i))  # a tuple of immutables is kept as is
        assert cache.total_bytes <= budget
    assert len(cache) < 25


def test_a_value_over_the_entry_limit_is_not_stored_and_is_counted() -> None:
    cache = MemoryCache(max_entry_bytes=1000)
    cache.set("k", "small")
    assert cache.set("k", "z" * 5000) is False
    # the refused write must not leave the older value behind
    assert cache.get("k") is None
    assert cache.add("other", b"q" * 5000) is False
    assert cache.too_large == 2
    assert len(cache) == 0


def test_total_bytes_goes_back_to_zero_after_deletes_expiry_and_clear(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = [0.0]
    monkeypatch.setattr("cachelib.simple.time", lambda: now[0])
    cache = MemoryCache(max_bytes=10**6)
    cache.set("a", "1" * 100)
    cache.set("b", "2" * 100, timeout=1)
    cache.set("a", "3" * 300)  # replacing a value counts only the new one
    assert cache.delete("a") is True
    now[0] = 5
    assert cache.get("b") is None
    assert cache.total_bytes == 0
    cache.set("c", "4")
    cache.clear()
    assert cache.total_bytes == 0


def test_byte_bounds_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_bytes"):
        MemoryCache(max_bytes=0)
    with pytest.raises(ValueError, match="max_entry_bytes"):
        MemoryCache(max_entry_bytes=-1)
