"""memoize: keys by content, versions without an extra round trip, stale-while-revalidate."""

from __future__ import annotations

import inspect
import logging
import os
import subprocess
import sys
import threading
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from hypothesis import given
from hypothesis import strategies as st

from flask_cachecore import args_token
from flask_viewcache import Cache
from flask_viewcache import store as store_module
from flask_viewcache.keys import ArgumentBinder, fast_args_token


def counter() -> tuple[list[Any], Any]:
    calls: list[Any] = []

    def record(*args: Any, **kwargs: Any) -> int:
        calls.append((args, kwargs))
        return len(calls)

    return calls, record


def test_equivalent_calls_share_a_key(make_app: Any) -> None:
    app, cache = make_app()
    calls, record = counter()

    @cache.memoize()
    def f(a: int, b: int = 2, *rest: int, c: str = "x", **extra: Any) -> int:
        return record(a, b, rest, c, extra)

    with app.app_context():
        assert f(1) == f(1, 2) == f(a=1) == f(1, b=2) == f(1, c="x") == 1
        assert f(1, 3) == 2
        assert f(1, 2, 3) == 3
        assert f(1, z=1) == f(1, z=1) == 4
        assert f(1, c="y") == 5
    assert len(calls) == 5


def test_argument_mapping_is_computed_once(make_app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    app, cache = make_app()

    @cache.memoize()
    def f(a: int, b: int = 0) -> int:
        return a + b

    def forbidden(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("inspect.signature called on a memoized call")

    monkeypatch.setattr(inspect, "signature", forbidden)
    with app.app_context():
        assert f(1, b=2) == f(1, 2) == 3


_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=8),
    st.binary(max_size=4),
)
_values = st.recursive(
    _scalars, lambda inner: st.tuples(inner, inner) | st.lists(inner, max_size=3)
)


@given(st.lists(_values, max_size=5))
def test_fast_path_gives_the_generic_key(values: list[Any]) -> None:
    assert fast_args_token(values) == args_token(values)


@given(st.integers(), st.text(max_size=5), st.none() | st.floats(allow_nan=False))
def test_binder_fast_and_keyword_paths_agree(a: int, b: str, c: float | None) -> None:
    def f(a: int, b: str, c: float | None = None) -> None:
        return None

    binder = ArgumentBinder(f)
    expected = args_token([a, b, c])
    assert binder.token((a, b, c), {}) == expected
    assert binder.token((a,), {"b": b, "c": c}) == expected
    assert binder.token((), {"a": a, "b": b, "c": c}) == expected


_KEY_SCRIPT = """
import flask
from flask_viewcache import Cache
app = flask.Flask("keys")
cache = Cache(app, config={"CACHE_TYPE": "SimpleCache"})
def report(x, y=None):
    return x
report.__module__ = "keys_module"
report.__qualname__ = "report"
report = cache.memoize()(report)
with app.app_context():
    print(report.make_cache_key(None, {"b": 1, "a": frozenset({"x", "y", "z"})}, y=(1.5, None)))
"""


def test_keys_do_not_depend_on_the_hash_seed() -> None:
    keys = set()
    for seed in ("1", "2", "3"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        result = subprocess.run(
            [sys.executable, "-c", _KEY_SCRIPT],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        keys.add(result.stdout.strip())
    assert len(keys) == 1


def test_an_argument_known_only_by_address_runs_uncached_with_one_warning(
    make_app: Any, caplog: pytest.LogCaptureFixture
) -> None:
    app, cache = make_app()
    calls, record = counter()

    @cache.memoize()
    def f(thing: object) -> int:
        return record(thing)

    opaque = object()
    with app.app_context(), caplog.at_level(logging.WARNING, "flask_viewcache"):
        f(opaque)
        f(opaque)
    assert len(calls) == 2
    assert sum("called uncached" in r.getMessage() for r in caplog.records) == 1


def test_objects_with_cache_key_are_keyed_by_it(make_app: Any) -> None:
    app, cache = make_app()
    calls, record = counter()

    @dataclass
    class User:
        id: int
        name: str

    class Account:
        def __init__(self, number: int) -> None:
            self.number = number

        def __cache_key__(self) -> int:
            return self.number

    @cache.memoize()
    def describe(user: User, account: Account) -> int:
        return record(user, account)

    with app.app_context():
        assert describe(User(1, "a"), Account(7)) == describe(User(1, "a"), Account(7))
        assert describe(User(2, "a"), Account(7)) != describe(User(1, "a"), Account(8))
    assert len(calls) == 3


def test_outside_an_app_context_the_cache_of_its_app_is_used(make_app: Any) -> None:
    # Cache(app) keeps its app, as Flask-Caching does: background jobs and scripts rely on it
    _, cache = make_app()
    _calls, record = counter()

    @cache.memoize()
    def f() -> int:
        return record()

    assert f() == 1
    assert f() == 1


def test_before_init_app_the_function_runs_uncached() -> None:
    cache = Cache()
    _calls, record = counter()

    @cache.memoize()
    def f() -> int:
        return record()

    assert f() == 1
    assert f() == 2


def test_a_lost_version_never_brings_old_values_back(make_app: Any) -> None:
    # a shared backend (FileSystemCache) keeps versions as keys that may be evicted
    app, cache = make_app()
    _calls, record = counter()

    @cache.memoize()
    def f() -> int:
        return record()

    with app.app_context():
        store = cache.store()
        store.local_versions = None  # behave as a shared backend: versions live in the backend
        assert f() == f() == 1
        cache.delete_memoized(f)
        assert f() == 2
        version_key = f._viewcache_memoized.function_version_key
        cache.delete(version_key)  # evicted
        assert f() == 3
        assert f() == 3


def test_stale_while_revalidate(make_app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    app, cache = make_app()
    now = [1000.0]
    monkeypatch.setattr(store_module, "wall_clock", lambda: now[0])
    entered, release = threading.Event(), threading.Event()
    version = [0]

    @cache.memoize(timeout=3600, soft_timeout=10)
    def report() -> int:
        version[0] += 1
        if version[0] > 1:
            entered.set()
            assert release.wait(30)
        return version[0]

    with app.app_context():
        assert report() == 1
        now[0] += 11  # past the soft timeout
        results: list[int] = []

        def refresher() -> None:
            with app.app_context():
                results.append(report())

        thread = threading.Thread(target=refresher)
        thread.start()
        assert entered.wait(30)
        assert report() == 1  # another caller gets the stale value at once
        release.set()
        thread.join(30)
        assert results == [2]
        assert report() == 2
        assert cache.stats()["stale"] == 1


def test_tags(make_app: Any) -> None:
    app, cache = make_app()
    _calls, record = counter()

    @cache.memoize(tags=["users"])
    def user(n: int) -> int:
        return record("user", n)

    @cache.memoize(tags=["posts"])
    def post(n: int) -> int:
        return record("post", n)

    with app.app_context():
        u, p = user(1), post(1)
        assert (user(1), post(1)) == (u, p)
        cache.invalidate_tags("users")
        assert user(1) != u
        assert post(1) == p


def test_stats_per_function(make_app: Any) -> None:
    app, cache = make_app()

    @cache.memoize()
    def f(n: int) -> int:
        return n

    with app.app_context():
        f(1)
        f(1)
        f(2)
        stats = cache.stats()
    assert stats["hits"] == 1
    assert stats["misses"] == 2
    assert stats["errors"] == 0
    (name,) = stats["functions"]
    assert name.endswith("f")
    assert stats["functions"][name] == {"hits": 1, "misses": 2, "stale": 0, "bypassed": 0}


def test_delete_memoized_rejects_what_is_not_memoized(make_app: Any) -> None:
    app, cache = make_app()
    with app.app_context():
        with pytest.raises(TypeError):
            cache.delete_memoized("name")  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="not decorated"):
            cache.delete_memoized(len, [1])  # without arguments: a logged no-op (test_dropin)


def test_init_app_twice_is_an_error() -> None:
    app = Flask(__name__)
    cache = Cache(app, config={"CACHE_TYPE": "SimpleCache"})
    with pytest.raises(RuntimeError, match="already"):
        cache.init_app(app)


def test_bad_config_names_the_key() -> None:
    from flask_cachecore import CacheConfigError

    app = Flask(__name__)
    with pytest.raises(CacheConfigError, match="CACHE_TYPE"):
        Cache(app, config={"CACHE_TYPE": "NoSuchCache"})
    with pytest.raises(CacheConfigError, match="CACHE_LOCK_TIMEOUT"):
        Cache(Flask("x"), config={"CACHE_TYPE": "SimpleCache", "CACHE_LOCK_TIMEOUT": "soon"})


def test_store_needs_an_app_context() -> None:
    cache = Cache()
    with pytest.raises(RuntimeError, match="application context"):
        cache.get("x")
    with Flask(__name__).app_context(), pytest.raises(RuntimeError, match="init_app"):
        cache.get("x")


def test_a_caller_mutating_its_result_changes_nothing_for_the_next(make_app: Any) -> None:
    app, cache = make_app()

    @cache.memoize()
    def listing() -> list[int]:
        return [1, 2]

    @cache.memoize()
    def pair() -> tuple[str, int]:
        return ("a", 1)

    with app.app_context():
        listing().append(3)
        listing().append(4)
        assert listing() == [1, 2]
        assert pair() == pair() == ("a", 1)


def test_inc_and_dec_on_the_cache(make_app: Any) -> None:
    # Flask-Caching has these on the backend only (cache.cache.inc); here on Cache as well
    app, cache = make_app()
    with app.app_context():
        assert cache.inc("hits") == 1
        assert cache.inc("hits", 5) == 6
        assert cache.dec("hits", 2) == 4
        assert cache.get("hits") == 4
