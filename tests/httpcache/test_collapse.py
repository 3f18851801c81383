"""Request collapsing on cold misses: concurrent requests for one uncached URL run the view
once; a response that turns out uncacheable sends each waiter to the view itself, and no
waiter ever gets an answer that was not stored for it."""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests
from flask import Flask, request

from flask_cachecore import MISSING, CacheConfigError, claim_compute
from flask_httpcache import Config, HTTPCache, cache_for, collapse_requests

N = 6
#: how long a view waits for the others to arrive; only reached when the test fails
ARRIVAL_TIMEOUT = 20


class Arrivals:
    """Counts requests as they enter the app (a hook before the cache's), and lets a view
    wait until all of them entered."""

    def __init__(self, expected: int) -> None:
        self.expected = expected
        self.count = 0
        self.lock = threading.Lock()
        self.all_in = threading.Event()

    def arrive(self) -> None:
        with self.lock:
            self.count += 1
            if self.count >= self.expected:
                self.all_in.set()


def collapsing_app(**config: Any) -> tuple[Flask, Arrivals, list[str]]:
    app = Flask(__name__)
    app.config["HTTPCACHE_COLLAPSE_TIMEOUT"] = 30
    for name, value in config.items():
        app.config[f"HTTPCACHE_{name.upper()}"] = value
    arrivals = Arrivals(N)
    runs: list[str] = []
    # installed before the cache's hook: it sees every request, hit or not
    app.before_request(arrivals.arrive)
    HTTPCache(app)

    def wait_for_all() -> None:
        assert arrivals.all_in.wait(ARRIVAL_TIMEOUT), "not every request arrived"

    @app.route("/collapsed")
    @cache_for(minutes=5, collapse=True)
    def collapsed() -> str:
        runs.append("collapsed")
        wait_for_all()
        return "shared page"

    @app.route("/decorated")
    @collapse_requests()
    def decorated() -> tuple[str, int, dict[str, str]]:
        runs.append("decorated")
        wait_for_all()
        return "decorated page", 200, {"Cache-Control": "max-age=300"}

    @app.route("/plain")
    @cache_for(minutes=5)
    def plain() -> str:
        runs.append("plain")
        wait_for_all()
        return "plain page"

    @app.route("/private")
    @collapse_requests()
    def private() -> tuple[str, int, dict[str, str]]:
        runs.append("private")
        wait_for_all()
        return f"for {request.headers['X-User']}", 200, {"Cache-Control": "private, max-age=60"}

    @app.route("/cookie")
    @collapse_requests()
    def cookie() -> tuple[str, int, dict[str, str]]:
        runs.append("cookie")
        wait_for_all()
        user = request.headers["X-User"]
        fields = {"Cache-Control": "max-age=60", "Set-Cookie": f"session={user}"}
        return f"for {user}", 200, fields

    @app.route("/vary")
    @collapse_requests()
    def vary() -> tuple[str, int, dict[str, str]]:
        runs.append("vary")
        wait_for_all()
        language = request.headers["Accept-Language"]
        return f"in {language}", 200, {"Cache-Control": "max-age=60", "Vary": "Accept-Language"}

    @app.route("/fails")
    @collapse_requests()
    def fails() -> str:
        raise RuntimeError("the view failed")

    return app, arrivals, runs


def concurrently(app: Flask, path: str, headers: Callable[[int], dict[str, str]]) -> list[Any]:
    """N requests for ``path`` from N threads at once, the i-th with ``headers(i)``."""

    def one(i: int) -> Any:
        return app.test_client().get(path, headers=headers(i))

    with ThreadPoolExecutor(N) as pool:
        return list(pool.map(one, range(N)))


def no_headers(i: int) -> dict[str, str]:
    return {}


@pytest.mark.parametrize("path", ["/collapsed", "/decorated"])
def test_concurrent_cold_misses_run_the_view_once(path: str) -> None:
    app, arrivals, runs = collapsing_app()
    answers = concurrently(app, path, no_headers)
    assert arrivals.count == N
    assert len(runs) == 1
    assert {a.status_code for a in answers} == {200}
    assert len({a.get_data() for a in answers}) == 1


def test_by_config_every_view_collapses() -> None:
    app, _, runs = collapsing_app(collapse_requests=True)
    concurrently(app, "/plain", no_headers)
    assert runs == ["plain"]


def test_without_opting_in_every_request_runs_the_view() -> None:
    app, _, runs = collapsing_app()
    concurrently(app, "/plain", no_headers)
    assert runs == ["plain"] * N


def test_collapse_false_opts_a_view_out_of_the_config() -> None:
    app = Flask(__name__)
    app.config["HTTPCACHE_COLLAPSE_REQUESTS"] = True
    HTTPCache(app)

    @app.route("/never")
    @cache_for(minutes=5, collapse=False)
    def never() -> str:
        return "never"

    from flask_httpcache.collapse import wants_collapse

    with app.test_request_context("/never"):
        config = app.extensions["httpcache"].store.config
        assert not wants_collapse(config, app, request, {})


@pytest.mark.parametrize("path", ["/private", "/cookie"])
def test_an_uncacheable_answer_sends_each_waiter_to_the_view(path: str) -> None:
    """No waiter gets the leader's private answer, nor its cookie: each runs the view."""
    app, _, runs = collapsing_app()
    answers = concurrently(app, path, lambda i: {"X-User": f"user{i}"})
    assert len(runs) == N
    for i, answer in enumerate(answers):
        assert answer.get_data(as_text=True) == f"for user{i}"
        assert answer.headers.get("Set-Cookie", f"session=user{i}").startswith(f"session=user{i}")


def test_a_waiter_gets_only_the_variant_stored_for_it() -> None:
    app, _, runs = collapsing_app()
    answers = concurrently(app, "/vary", lambda i: {"Accept-Language": "en" if i % 2 else "fr"})
    for i, answer in enumerate(answers):
        assert answer.get_data(as_text=True) == ("in en" if i % 2 else "in fr")
    # the leader's language once; the other language at most once per waiter of it
    assert 2 <= len(runs) <= 1 + N // 2


def test_requests_with_credentials_never_collapse() -> None:
    app, _, runs = collapsing_app()
    concurrently(app, "/decorated", lambda i: {"Authorization": f"Bearer {i}"})
    assert runs == ["decorated"] * N


def test_a_failing_view_releases_its_lease() -> None:
    app, _, _ = collapsing_app()
    store = app.extensions["httpcache"].store
    client = app.test_client()
    assert client.get("/fails").status_code == 500
    key = store.url_key("http://localhost/fails")
    assert key is not None
    assert not store.cache.has(f"lock:{key}|collapse")


def test_a_lease_is_released_when_no_response_hook_runs() -> None:
    """Under PROPAGATE_EXCEPTIONS (testing, debug) a failing view skips the after_request
    hooks: the lease goes with the request's ``g``, so the next miss of the URL leads at
    once instead of waiting for a flight that never lands."""
    app, _, _ = collapsing_app()
    app.config["PROPAGATE_EXCEPTIONS"] = True
    store = app.extensions["httpcache"].store
    with pytest.raises(RuntimeError, match="the view failed"):
        app.test_client().get("/fails")
    gc.collect()  # the traceback kept the request's frames (and its g) until now
    key = store.url_key("http://localhost/fails")
    assert key is not None
    found, lease = claim_compute(
        key + "|collapse", lambda: MISSING, lock_cache=store.cache, wait_timeout=0, lock_timeout=1
    )
    assert found is MISSING
    assert lease is not None
    assert lease.flight is not None, "the failed request's flight was never landed"
    lease.release()


def test_collapse_timeout_must_be_finite_and_bounded() -> None:
    for bad in (float("inf"), float("nan"), 0, 301, True):
        with pytest.raises(CacheConfigError, match="collapse_timeout"):
            Config(collapse_timeout=bad)


GUNICORN_APP = """
import os, time

import redis
from flask import Flask

from flask_httpcache import HTTPCache, cache_for

r = redis.Redis.from_url(os.environ["TEST_REDIS_URL"])
prefix = os.environ["TEST_PREFIX"]
expected = int(os.environ["TEST_EXPECTED"])

app = Flask(__name__)
app.config["HTTPCACHE_COLLAPSE_TIMEOUT"] = 30
if os.environ.get("TEST_BACKEND") == "redis":
    app.config["HTTPCACHE_TYPE"] = "RedisCache"
    app.config["HTTPCACHE_REDIS_URL"] = os.environ["TEST_REDIS_URL"]
    app.config["HTTPCACHE_KEY_PREFIX"] = prefix


@app.before_request
def arrive():
    r.incr(prefix + "arrived")


HTTPCache(app)


@app.route("/page")
@cache_for(minutes=5, collapse=True)
def page():
    r.incr(prefix + "runs")
    deadline = time.monotonic() + 20
    while int(r.get(prefix + "arrived") or 0) < expected and time.monotonic() < deadline:
        time.sleep(0.01)  # waits for the test's requests, not for a race
    return "page from worker %d" % os.getpid()
"""


@pytest.mark.slow
@pytest.mark.parametrize(("workers", "backend"), [(1, "memory"), (2, "redis")])
def test_gunicorn_runs_a_collapsed_view_once(
    gunicorn: Callable[..., Any],
    redis_url: str,
    unique_prefix: str,
    workers: int,
    backend: str,
) -> None:
    """Under real gunicorn (gthread), in one worker and across two sharing Redis."""
    import redis

    count = 8
    server = gunicorn(
        GUNICORN_APP,
        workers=workers,
        threads=count,
        env={
            "TEST_REDIS_URL": redis_url,
            "TEST_PREFIX": unique_prefix,
            "TEST_EXPECTED": str(count),
            "TEST_BACKEND": backend,
        },
    )
    with ThreadPoolExecutor(count) as pool:
        answers = list(
            pool.map(lambda _: requests.get(server.url + "/page", timeout=60), range(count))
        )
    r = redis.Redis.from_url(redis_url)
    try:
        assert int(r.get(unique_prefix + "arrived") or 0) == count
        assert [a.status_code for a in answers] == [200] * count
        assert len({a.text for a in answers}) == 1
        assert int(r.get(unique_prefix + "runs") or 0) == 1
    finally:
        r.delete(unique_prefix + "arrived", unique_prefix + "runs")
