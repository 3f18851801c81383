"""Stampede protection: 32 concurrent requests on a cold key run the view once, in the
threads of one process and across gunicorn workers that share Redis."""

from __future__ import annotations

import threading
import time
import urllib.request
from collections.abc import Callable
from typing import Any, TypeVar

import pytest
from flask import Flask

from flask_viewcache import Cache

CONCURRENT = 32
T = TypeVar("T")


def slow_counted_view(app: Flask, cache: Cache, runs: list[int], **options: Any) -> None:
    guard = threading.Lock()

    @app.route("/slow")
    @cache.cached(timeout=60, **options)
    def slow() -> str:
        with guard:
            runs.append(1)
        time.sleep(0.3)  # widens the window in which the others arrive; asserts nothing
        return "done"


def all_at_once(task: Callable[[], T], join_timeout: float = 60) -> list[T]:
    """The results of ``task`` run in ``CONCURRENT`` threads that a barrier releases together."""
    barrier = threading.Barrier(CONCURRENT)
    results: list[T] = []
    guard = threading.Lock()

    def one() -> None:
        barrier.wait(30)
        result = task()
        with guard:
            results.append(result)

    threads = [threading.Thread(target=one) for _ in range(CONCURRENT)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(join_timeout)
    return results


def hammer(app: Flask, path: str) -> list[bytes]:
    return all_at_once(lambda: app.test_client().get(path).data)


def test_threads_on_an_in_process_cache_run_the_view_once(make_app: Any) -> None:
    app, cache = make_app()
    runs: list[int] = []
    slow_counted_view(app, cache, runs, lock=True)
    assert hammer(app, "/slow") == [b"done"] * CONCURRENT
    assert len(runs) == 1


@pytest.mark.redis
def test_threads_on_redis_run_the_view_once_with_the_config_default(
    make_app: Any, redis_config: dict[str, Any]
) -> None:
    app, cache = make_app({**redis_config, "CACHE_LOCK": True})
    runs: list[int] = []
    slow_counted_view(app, cache, runs)
    assert hammer(app, "/slow") == [b"done"] * CONCURRENT
    assert len(runs) == 1
    with app.app_context():
        cache.clear()


def test_memoize_lock_in_threads(make_app: Any) -> None:
    app, cache = make_app()
    runs: list[int] = []
    guard = threading.Lock()

    @cache.memoize(lock=True)
    def expensive(n: int) -> int:
        with guard:
            runs.append(n)
        time.sleep(0.3)
        return n * 2

    def call() -> int:
        with app.app_context():
            return expensive(21)

    assert all_at_once(call) == [42] * CONCURRENT
    assert runs == [21]


_GUNICORN_APP = """
import os
import time

import redis
from flask import Flask

from flask_viewcache import Cache

URL = os.environ["VIEWCACHE_TEST_REDIS_URL"]
PREFIX = os.environ["VIEWCACHE_TEST_PREFIX"]
app = Flask(__name__)
app.config.update(
    CACHE_TYPE="RedisCache", CACHE_REDIS_URL=URL, CACHE_KEY_PREFIX=PREFIX, CACHE_LOCK=True
)
cache = Cache(app)
counter = redis.Redis.from_url(URL)


@app.route("/slow")
@cache.cached(timeout=60)
def slow():
    counter.incr(PREFIX + "runs")
    time.sleep(0.5)
    return "done"


@app.route("/pid")
def pid():
    return str(os.getpid())
"""


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as response:
        body: bytes = response.read()
        return body


@pytest.mark.slow
@pytest.mark.redis
def test_gunicorn_workers_sharing_redis_run_the_view_once(
    gunicorn: Callable[..., Any], redis_url: str, unique_prefix: str
) -> None:
    import redis

    env = {"VIEWCACHE_TEST_REDIS_URL": redis_url, "VIEWCACHE_TEST_PREFIX": unique_prefix}
    server = gunicorn(_GUNICORN_APP, workers=3, threads=8, env=env)
    client = redis.Redis.from_url(redis_url)
    try:
        base = server.url
        deadline = time.monotonic() + 60
        pids: set[bytes] = set()
        while len(pids) < 2:  # wait until at least two workers answer
            if server.process.poll() is not None or time.monotonic() > deadline:
                server.fail("gunicorn did not start two workers")
            try:
                pids.add(_get(base + "/pid"))
            except OSError:
                time.sleep(0.1)
        bodies = all_at_once(lambda: _get(base + "/slow"), join_timeout=90)
        assert bodies == [b"done"] * CONCURRENT
        assert int(client.get(unique_prefix + "runs") or 0) == 1
    finally:
        for key in client.scan_iter(match=unique_prefix + "*"):
            client.delete(key)
        client.close()
