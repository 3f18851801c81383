"""The stampede model (``flask_cachecore.stampede``): one lease per key, with a token; waiters
get only what was stored; a stale entry is refreshed by one caller while the others use it."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from flask_cachecore import (
    MISSING,
    DistributedLock,
    MemoryCache,
    claim_compute,
    claim_refresh,
    get_or_create,
    stampede,
)


def lookup_of(cache: MemoryCache, key: str) -> Any:
    def lookup() -> Any:
        found = cache.get(key)
        return MISSING if found is None else found

    return lookup


def test_the_moved_names_are_still_importable_from_locks() -> None:
    from flask_cachecore import locks

    assert locks.claim_compute is claim_compute
    assert locks.claim_refresh is claim_refresh
    assert locks.get_or_create is get_or_create
    with pytest.raises(AttributeError):
        _ = locks.no_such_name


def run_while_leader_holds(first: Any, second: Any) -> dict[str, Any]:
    """Run ``first`` (which leads a key and waits for the event it is given) and ``second``;
    the event is set once ``second`` has joined the first one's flight as a waiter."""
    joined, release = threading.Event(), threading.Event()
    join = stampede._process_flights.join

    def counting_join(flight_key: str) -> Any:
        flight, leader = join(flight_key)
        if not leader:
            joined.set()
        return flight, leader

    results: dict[str, Any] = {}
    stampede._process_flights.join = counting_join  # type: ignore[method-assign]
    try:
        one = threading.Thread(target=lambda: results.__setitem__("first", first(release)))
        two = threading.Thread(target=lambda: results.__setitem__("second", second()))
        one.start()
        two.start()
        assert joined.wait(10)
        release.set()
        one.join(10)
        two.join(10)
    finally:
        del stampede._process_flights.join
    return results


@pytest.mark.parametrize("stored", [True, False], ids=["stored", "not-stored"])
def test_get_or_create_hands_a_waiter_only_what_was_stored(stored: bool) -> None:
    cache = MemoryCache()
    lookup = lookup_of(cache, "k")
    leading = threading.Event()
    made: list[str] = []

    def create(name: str, release: threading.Event | None = None) -> tuple[str, bool]:
        made.append(name)
        if release is not None:
            leading.set()
            assert release.wait(10)
        return name, stored and bool(cache.set("k", name))

    def first(release: threading.Event) -> str:
        return get_or_create("k", lookup, lambda: create("first", release), lock_cache=cache)

    def second() -> str:
        assert leading.wait(10)
        return get_or_create("k", lookup, lambda: create("second"), lock_cache=cache)

    results = run_while_leader_holds(first, second)
    if stored:
        assert results == {"first": "first", "second": "first"}
        assert made == ["first"]
    else:
        assert results == {"first": "first", "second": "second"}
        assert made == ["first", "second"]


def test_get_or_create_refreshes_a_stale_value_once_while_others_use_it() -> None:
    cache = MemoryCache()
    cache.set("k", "old")
    lookup = lookup_of(cache, "k")
    refreshing, release = threading.Event(), threading.Event()

    def refresh() -> tuple[str, bool]:
        refreshing.set()
        assert release.wait(10)
        return "new", bool(cache.set("k", "new"))

    def is_stale(value: Any) -> bool:
        return value == "old"

    results: dict[str, Any] = {}
    refresher = threading.Thread(
        target=lambda: results.__setitem__(
            "refresher", get_or_create("k", lookup, refresh, is_stale=is_stale, lock_cache=cache)
        )
    )
    refresher.start()
    assert refreshing.wait(10)
    never = lambda: pytest.fail("a second refresh")  # noqa: E731
    assert get_or_create("k", lookup, never, is_stale=is_stale, lock_cache=cache) == "old"
    release.set()
    refresher.join(10)
    assert results == {"refresher": "new"}
    assert get_or_create("k", lookup, never, is_stale=is_stale, lock_cache=cache) == "new"
    assert not cache.has("lock:refresh:k")


def test_a_refresh_claimed_by_another_process_is_not_claimed_here() -> None:
    cache = MemoryCache()
    other = DistributedLock(cache, "refresh:k")
    assert other.acquire()
    assert claim_refresh("k", lock_cache=cache) is None
    assert not stampede._refresh_flights._flights  # the in-process claim was given back
    assert other.release()
    lease = claim_refresh("k", lock_cache=cache)
    assert lease is not None
    assert lease.held
    assert cache.get("lock:refresh:k") == lease.token
    lease.release()
    assert not lease.held
    assert not cache.has("lock:refresh:k")


def test_a_slow_lease_never_releases_the_lock_a_newer_holder_took() -> None:
    cache = MemoryCache()
    found, slow = claim_compute("k", lookup_of(cache, "k"), lock_cache=cache)
    assert found is MISSING
    assert slow is not None
    assert slow.token is not None
    assert cache.delete("lock:k")  # the slow holder's lock timed out
    newer = DistributedLock(cache, "k")
    assert newer.acquire()
    slow.release()
    assert cache.get("lock:k") == newer.token
    newer.release()


@pytest.mark.parametrize("hand_over", [True, False])
def test_hand_over_false_sends_each_waiter_to_its_own_lookup(hand_over: bool) -> None:
    """What the leader's lookup found is its own (httpcache: the variant of its request
    fields); with ``hand_over=False`` a waiter of this process looks up for itself."""
    leading = threading.Event()

    def first(release: threading.Event) -> Any:
        def lookup() -> str:
            leading.set()
            assert release.wait(10)
            return "the leader's variant"

        return claim_compute("variants", lookup, hand_over=hand_over)

    def second() -> Any:
        assert leading.wait(10)
        return claim_compute("variants", lambda: "the waiter's variant", hand_over=hand_over)

    results = run_while_leader_holds(first, second)
    assert results["first"] == ("the leader's variant", None)
    if hand_over:
        assert results["second"] == ("the leader's variant", None)
    else:
        assert results["second"] == ("the waiter's variant", None)
