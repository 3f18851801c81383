"""Stampede guards: single flight in a process, a distributed lock across processes."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time
from typing import Any

import pytest

from flask_cachecore import (
    MISSING,
    DistributedLock,
    MemoryCache,
    SingleFlight,
    compute_once,
    make_backend,
)


def run_in_threads(count: int, target: Any) -> list[Any]:
    results: list[Any] = [None] * count
    barrier = threading.Barrier(count)

    def worker(i: int) -> None:
        barrier.wait()
        results[i] = target()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_single_flight_runs_once_for_concurrent_callers() -> None:
    flight: SingleFlight[int] = SingleFlight()
    calls = []

    def compute() -> int:
        calls.append(1)
        time.sleep(0.2)
        return 7

    results = run_in_threads(16, lambda: flight.run("k", compute))
    assert results == [7] * 16
    assert len(calls) == 1


def test_single_flight_shares_the_exception() -> None:
    flight: SingleFlight[int] = SingleFlight()

    def compute() -> int:
        time.sleep(0.1)
        raise RuntimeError("view failed")

    def call() -> str:
        try:
            flight.run("k", compute)
        except RuntimeError as exc:
            return str(exc)
        return "no error"

    assert run_in_threads(4, call) == ["view failed"] * 4


def test_distributed_lock_expires_when_its_holder_dies(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [0.0]
    monkeypatch.setattr("cachelib.simple.time", lambda: now[0])
    cache = MemoryCache()
    crashed = DistributedLock(cache, "k", timeout=5)
    assert crashed.acquire()
    now[0] = 6  # the holder never released; the lock's timeout passed
    assert DistributedLock(cache, "k").acquire() is True


def test_compute_once_in_threads_computes_once_and_everyone_gets_the_value() -> None:
    cache = MemoryCache()
    calls = []

    def lookup() -> Any:
        value = cache.get("v")
        return MISSING if value is None else value

    def compute() -> str:
        calls.append(1)
        time.sleep(0.2)
        cache.set("v", "fresh")
        return "fresh"

    results = run_in_threads(32, lambda: compute_once("v", lookup, compute, lock_cache=cache))
    assert results == ["fresh"] * 32
    assert len(calls) == 1


def test_compute_once_gives_up_waiting_on_a_stuck_lock() -> None:
    cache = MemoryCache()
    DistributedLock(cache, "v", timeout=60).acquire()  # another process holds it and hangs
    started = time.monotonic()
    value = compute_once("v", lambda: MISSING, lambda: "mine", lock_cache=cache, wait_timeout=0.2)
    assert value == "mine"
    assert time.monotonic() - started < 2


def test_compute_once_does_not_wait_for_a_lock_on_a_dead_backend() -> None:
    from cachelib import BaseCache

    from flask_cachecore import FailSafeCache

    class DeadCache(BaseCache):
        def _fail(self, *args: Any, **kwargs: Any) -> Any:
            raise ConnectionError("down")

        get = add = has = set = delete = _fail

    cache = FailSafeCache(DeadCache(), failure_threshold=100)  # breaker stays closed
    started = time.monotonic()
    value = compute_once("k", lambda: MISSING, lambda: "computed", lock_cache=cache, wait_timeout=5)
    assert value == "computed"
    assert time.monotonic() - started < 1


WORKER = textwrap.dedent(
    """
    import sys, time
    from flask_cachecore import MISSING, compute_once, make_backend
    cache = make_backend({"CACHE_TYPE": "RedisCache", "CACHE_REDIS_URL": sys.argv[1],
                          "CACHE_KEY_PREFIX": sys.argv[2]})
    def lookup():
        value = cache.get("value")
        return MISSING if value is None else value
    def compute():
        cache.inc("computed")
        time.sleep(0.5)
        cache.set("value", "done")
        return "done"
    start_at = float(sys.argv[3])
    time.sleep(max(0, start_at - time.time()))
    print(compute_once("value", lookup, compute, lock_cache=cache))
    """
)


@pytest.mark.redis
def test_compute_once_across_processes_sharing_redis(redis_url: str, unique_prefix: str) -> None:
    start_at = str(time.time() + 1.5)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, redis_url, unique_prefix, start_at],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(6)
    ]
    outputs = [p.communicate(timeout=30)[0].strip() for p in processes]
    assert outputs == ["done"] * 6
    cache = make_backend(
        {
            "CACHE_TYPE": "RedisCache",
            "CACHE_REDIS_URL": redis_url,
            "CACHE_KEY_PREFIX": unique_prefix,
        }
    )
    assert cache.get("computed") == 1
