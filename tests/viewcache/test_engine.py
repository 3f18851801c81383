"""The rules of the one decorator engine hold for ``cached`` and ``memoize`` alike."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

import pytest

from flask_cachecore import stampede
from flask_viewcache import Cache
from flask_viewcache import store as store_module
from flask_viewcache.engine import Engine

from .conftest import AppFactory

DECORATORS = ["cached", "memoize"]


def decorate(cache: Cache, kind: str, **options: Any) -> Callable[[Callable[..., Any]], Any]:
    if kind == "cached":
        return cache.cached(key_prefix="report", **options)
    return cache.memoize(**options)


@pytest.mark.parametrize("kind", DECORATORS)
def test_both_decorators_run_on_the_engine(make_app: AppFactory, kind: str) -> None:
    _app, cache = make_app()

    @decorate(cache, kind)
    def report() -> str:
        return "r"

    engine = getattr(report, "_viewcache_view", None) or report._viewcache_memoized
    assert isinstance(engine, Engine)


@pytest.mark.parametrize("kind", DECORATORS)
def test_forced_update_is_asked_on_every_call_hit_or_miss(make_app: AppFactory, kind: str) -> None:
    app, cache = make_app()
    asked: list[int] = []
    runs: list[int] = []

    def forced_update() -> bool:
        asked.append(1)
        return False

    @decorate(cache, kind, forced_update=forced_update)
    def report() -> str:
        runs.append(1)
        return "r"

    with app.test_request_context("/"):
        assert [report(), report(), report()] == ["r"] * 3
    assert (len(asked), len(runs)) == (3, 1)


@pytest.mark.parametrize("kind", DECORATORS)
def test_lock_waiters_of_a_result_that_is_not_stored_compute_their_own(
    make_app: AppFactory, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    app, cache = make_app()
    leader_in, release, waiter_in = threading.Event(), threading.Event(), threading.Event()
    runs: list[str] = []
    join = stampede._process_flights.join

    def counting_join(key: str) -> Any:
        flight, leader = join(key)
        if not leader:
            waiter_in.set()  # the second caller waits for the first one's result
        return flight, leader

    monkeypatch.setattr(stampede._process_flights, "join", counting_join)

    @decorate(cache, kind, lock=True)
    def report() -> str | None:
        name = threading.current_thread().name
        runs.append(name)
        if name == "first":
            leader_in.set()
            assert release.wait(10)
            return None  # never stored (no cache_none): it is not handed to the waiter
        return name

    results: dict[str, Any] = {}

    def call() -> None:
        with app.test_request_context("/"):
            results[threading.current_thread().name] = report()

    first = threading.Thread(target=call, name="first")
    second = threading.Thread(target=call, name="second")
    first.start()
    assert leader_in.wait(10)
    second.start()
    assert waiter_in.wait(10)
    release.set()
    first.join(10)
    second.join(10)
    assert results == {"first": None, "second": "second"}
    assert sorted(runs) == ["first", "second"]


@pytest.mark.parametrize("kind", DECORATORS)
def test_a_coroutine_function_refreshes_a_stale_entry(
    make_app: AppFactory, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("asgiref")
    app, cache = make_app()
    now = [1000.0]
    monkeypatch.setattr(store_module, "wall_clock", lambda: now[0])
    runs: list[int] = []

    @decorate(cache, kind, timeout=3600, soft_timeout=10)
    async def report() -> str:
        runs.append(1)
        return f"v{len(runs)}"

    with app.test_request_context("/"):
        assert asyncio.run(report()) == "v1"
        assert asyncio.run(report()) == "v1"
        now[0] += 11  # past the soft timeout: this caller refreshes
        assert asyncio.run(report()) == "v2"
        assert asyncio.run(report()) == "v2"
        assert cache.stats()["stale"] == 1
    assert not stampede._refresh_flights._flights  # the refresh lease was released


@pytest.mark.parametrize("kind", DECORATORS)
def test_a_refresh_that_raises_releases_its_claim(
    make_app: AppFactory, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    app, cache = make_app()
    now = [1000.0]
    monkeypatch.setattr(store_module, "wall_clock", lambda: now[0])
    fail = [False]

    @decorate(cache, kind, timeout=3600, soft_timeout=10)
    def report() -> str:
        if fail[0]:
            raise RuntimeError("the refresh failed")
        return "v1"

    with app.test_request_context("/"):
        assert report() == "v1"
        now[0] += 11
        fail[0] = True
        with pytest.raises(RuntimeError):
            report()
        fail[0] = False
        assert not stampede._refresh_flights._flights
        keys = _keys_of(cache)
        assert keys  # the entry is there (the listing sees the backend's keys)
        assert not [key for key in keys if "refresh:" in key]
        assert report() == "v1"  # the next caller may refresh again


def _keys_of(cache: Cache) -> list[str]:
    raw = cache.store().backend
    raw = getattr(raw, "backend", raw)
    return [str(k) for k in getattr(raw, "_data", getattr(raw, "_cache", {}))]
