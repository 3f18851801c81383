"""Drop-in behaviour for apps ported from Flask-Caching 2.5: each test names one thing a ported
app relies on, written the way such an app (or its test suite) does it."""

from __future__ import annotations

import gc
import itertools
import random
from typing import Any

import cachelib.simple
import pytest
from flask import Flask, request

from flask_viewcache import Cache, function_namespace


def make_app(**config: Any) -> Flask:
    app = Flask(__name__)
    app.config.update({"TESTING": True, "CACHE_TYPE": "SimpleCache", **config})
    return app


# -- the stored app ------------------------------------------------------------------------------


def test_a_cache_made_with_its_app_works_without_an_app_context() -> None:
    # background jobs, CLI scripts and tests call the cache outside any context
    app = make_app()
    cache = Cache(app)
    assert cache.app is app
    cache.set("greeting", "hello")
    assert cache.get("greeting") == "hello"
    assert cache.has("greeting")
    cache.delete_many("greeting")
    assert cache.get("greeting") is None


def test_init_app_sets_the_app_attribute() -> None:
    app = make_app()
    cache = Cache()
    assert cache.app is None
    cache.init_app(app)
    assert cache.app is app


def test_one_cache_on_two_apps_uses_the_current_app_inside_a_context() -> None:
    first, second = make_app(), make_app()
    cache = Cache()
    cache.init_app(first)
    cache.init_app(second)
    with first.app_context():
        cache.set("k", "first")
    with second.app_context():
        assert cache.get("k") is None
        cache.set("k", "second")
    with first.app_context():
        assert cache.get("k") == "first"
    assert cache.get("k") == "second"  # outside a context: the app set up last, as Flask-Caching


def test_memoize_outside_an_app_context_uses_the_stored_app() -> None:
    app = make_app()
    cache = Cache(app)
    calls = itertools.count()

    @cache.memoize()
    def slow(n: int) -> int:
        return next(calls)

    assert slow(1) == slow(1)
    with app.app_context():
        assert slow(1) == 0  # the same entry inside the app's context


def test_before_any_init_app_the_proxies_say_what_to_do() -> None:
    with pytest.raises(RuntimeError, match="init_app"):
        Cache().get("k")


# -- backends ----------------------------------------------------------------------------------


def test_every_backend_name_of_flask_caching_imports() -> None:
    from flask_viewcache.backends import (  # noqa: F401
        BaseCache,
        FileSystemCache,
        MemcachedCache,
        NullCache,
        RedisCache,
        RedisClusterCache,
        RedisSentinelCache,
        SASLMemcachedCache,
        SimpleCache,
        SpreadSASLMemcachedCache,
        UWSGICache,
    )
    from flask_viewcache.contrib.uwsgicache import UWSGICache as ContribUWSGICache

    assert ContribUWSGICache is UWSGICache


def test_uwsgi_cache_outside_uwsgi_fails_at_init_app_saying_why() -> None:
    app = make_app(CACHE_TYPE="UWSGICache")
    with pytest.raises(RuntimeError, match="uWSGI"):
        Cache(app)


def test_sasl_memcached_without_pylibmc_says_what_to_install(monkeypatch: Any) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "pylibmc", None)  # as if it were not installed
    app = make_app(CACHE_TYPE="SASLMemcachedCache", CACHE_MEMCACHED_SERVERS=["127.0.0.1:1"])
    with pytest.raises(RuntimeError, match="pip install pylibmc"):
        Cache(app)


def test_the_backend_is_an_instance_of_the_flask_caching_class() -> None:
    from flask_viewcache.backends import SimpleCache

    app = make_app()
    cache = Cache(app)
    assert isinstance(cache.cache, SimpleCache)
    assert cache.cache is app.extensions["cache"][cache]


def test_a_serializer_class_that_needs_arguments_fails_naming_the_key() -> None:
    from cachelib.serializers import SimpleSerializer

    class NeedsProtocol(SimpleSerializer):
        def __init__(self, protocol: int) -> None:
            self.protocol = protocol

    with pytest.raises(ValueError, match="CACHE_SERIALIZER"):
        Cache(make_app(CACHE_SERIALIZER=NeedsProtocol))


# -- time --------------------------------------------------------------------------------------


class FrozenClock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def test_entries_expire_by_the_clock_a_suite_freezes_through_cachelib(monkeypatch: Any) -> None:
    clock = FrozenClock()
    monkeypatch.setattr(cachelib.simple, "time", clock)
    app = make_app()
    cache = Cache(app)
    runs = itertools.count()

    @app.route("/")
    @cache.cached(timeout=10)
    def page() -> str:
        return str(next(runs))

    @cache.memoize(timeout=10)
    def compute() -> int:
        return next(runs)

    client = app.test_client()
    body, value = client.get("/").data, compute()
    clock.now += 9
    assert (client.get("/").data, compute()) == (body, value)
    clock.now += 2
    assert client.get("/").data != body
    assert compute() != value


def _freezegun() -> Any:
    freezegun = pytest.importorskip("freezegun")
    frozen = freezegun.freeze_time("2030-01-01 12:00:00")
    return frozen, lambda clock, seconds: clock.tick(seconds)


def _time_machine() -> Any:
    time_machine = pytest.importorskip("time_machine")
    travel = time_machine.travel(1_900_000_000, tick=False)
    return travel, lambda clock, seconds: clock.shift(seconds)


@pytest.mark.parametrize("freezer", [_freezegun, _time_machine], ids=["freezegun", "time-machine"])
def test_entries_expire_under_the_time_freezers_suites_use(freezer: Any) -> None:
    context, advance = freezer()
    app = make_app()
    cache = Cache(app)
    runs = itertools.count()

    @cache.memoize(timeout=60)
    def compute() -> int:
        return next(runs)

    with context as clock:
        first = compute()
        advance(clock, 59)
        assert compute() == first
        advance(clock, 2)
        assert compute() != first


# -- keys ----------------------------------------------------------------------------------------


def test_view_keys_are_the_strings_flask_caching_builds() -> None:
    import hashlib

    app = make_app()
    cache = Cache(app)

    @app.route("/items")
    @cache.cached(query_string=True)
    def items() -> str:
        return "items"

    @app.route("/about")
    @cache.cached()
    def about() -> str:
        return "about"

    with app.test_request_context("/items?b=2&a=1&a=0"):
        pairs = (("a", "0"), ("a", "1"), ("b", "2"))
        digest = hashlib.sha256(str(pairs).encode()).hexdigest()
        assert items.make_cache_key() == "view//items" + digest  # type: ignore[attr-defined]
    client = app.test_client()
    client.get("/about")
    with app.app_context():
        assert cache.get("view//about") == "about"
        assert cache.delete("view//about")  # what apps write to drop a page


def test_key_prefix_callable_and_constant() -> None:
    app = make_app()
    cache = Cache(app)
    runs = itertools.count()

    @app.route("/lang")
    @cache.cached(key_prefix=lambda: "lang-" + request.args.get("l", "en"))
    def lang() -> str:
        return f"{request.args.get('l', 'en')}{next(runs)}"

    client = app.test_client()
    en, fr = client.get("/lang").data, client.get("/lang?l=fr").data
    assert client.get("/lang").data == en
    assert client.get("/lang?l=fr").data == fr
    with app.app_context():
        assert cache.get("lang-fr") == fr.decode()


def test_an_object_known_only_by_its_address_hits_for_itself_and_never_for_another() -> None:
    app = make_app()
    cache = Cache(app)

    class Account:  # no __repr__: its repr holds a memory address
        def __init__(self, balance: float) -> None:
            self.balance = balance

    @cache.memoize()
    def statement(account: Account) -> float:
        return account.balance + random.random()

    alice = Account(10)
    first = statement(alice)
    assert statement(alice) == first
    bob = Account(10)
    assert statement(bob) != first
    # a freed object's address is reused by new objects: they never get its entries
    del alice
    gc.collect()
    strangers = [Account(10) for _ in range(50)]
    assert all(statement(stranger) != first for stranger in strangers)


def test_memoized_methods_without_repr_are_kept_per_instance() -> None:
    app = make_app()
    cache = Cache(app)

    class Counter:
        @cache.memoize()
        def value(self, step: int) -> float:
            return step + random.random()

    one, two = Counter(), Counter()
    a, b = one.value(1), two.value(1)
    assert a != b
    assert one.value(1) == a
    cache.delete_memoized(one.value)
    assert one.value(1) != a
    assert two.value(1) == b


# -- invalidation ------------------------------------------------------------------------------


def test_delete_memoized_of_a_cached_function_with_a_constant_key_deletes_it() -> None:
    # a forum's settings page: saving must work and the new settings be served after it
    app = make_app()
    cache = Cache(app)
    settings = {"title": "old"}

    @cache.cached(key_prefix="forum-settings")
    def current_settings(name: str = "title") -> str:
        return settings[name]

    @app.post("/admin/settings")
    def save() -> str:
        settings["title"] = request.form["title"]
        cache.delete_memoized(current_settings, "title")
        return "saved"

    @app.get("/")
    def home() -> str:
        return current_settings()

    client = app.test_client()
    assert client.get("/").data == b"old"
    response = client.post("/admin/settings", data={"title": "new"})
    assert response.status_code == 200
    assert client.get("/").data == b"new"


def test_delete_memoized_of_a_cached_function_without_arguments_is_harmless() -> None:
    app = make_app()
    cache = Cache(app)
    runs = itertools.count()

    @cache.cached(key_prefix="stats")
    def stats() -> int:
        return next(runs)

    with app.test_request_context():
        first = stats()
        cache.delete_memoized(stats)  # Flask-Caching deletes nothing here, and raises nothing
        assert stats() == first


def test_delete_memoized_of_a_classmethod_needs_its_class_as_in_flask_caching() -> None:
    app = make_app()
    cache = Cache(app)

    class Prices:
        @classmethod
        @cache.memoize()
        def of(cls, item: str) -> float:
            return random.random()

    with app.app_context():
        first = Prices.of("tea")
        with pytest.raises(ValueError, match="class"):
            cache.delete_memoized(Prices.of, "tea")
        assert Prices.of("tea") == first
        cache.delete_memoized(Prices.of, Prices, "tea")
        assert Prices.of("tea") != first


def test_delete_memoized_verhash_drops_the_version_until_the_next_call() -> None:
    app = make_app()
    cache = Cache(app)

    @cache.memoize()
    def total(a: int, b: int) -> float:
        return a + b + random.random()

    with app.app_context():
        first = total(1, 2)
        version_key = cache._memvname(function_namespace(total)[0])
        cache.delete_memoized_verhash(total)
        assert cache.get(version_key) is None
        assert total(1, 2) != first
        assert cache.get(version_key) is not None


def test_delete_cached_with_a_query_string_outside_a_request() -> None:
    app = make_app()
    cache = Cache(app)
    runs = itertools.count()

    @app.route("/search")
    @cache.cached(query_string=True)
    def search() -> str:
        return str(next(runs))

    client = app.test_client()
    first = client.get("/search?q=tea&page=2").data
    with app.app_context():
        assert cache.delete_cached(search, "/search", {"page": 2, "q": "tea"})
    assert client.get("/search?page=2&q=tea").data != first


# -- configuration -----------------------------------------------------------------------------


def test_init_app_config_cache_options_and_args(tmp_path: Any) -> None:
    app = make_app(CACHE_TYPE="NullCache")
    cache = Cache()
    cache.init_app(
        app,
        config={
            "CACHE_TYPE": "cachelib.FileSystemCache",
            "CACHE_ARGS": [str(tmp_path)],
            "CACHE_OPTIONS": {"threshold": 3},
        },
    )
    with app.app_context():
        cache.set("k", "v")
        assert cache.get("k") == "v"
        assert cache.cache._threshold == 3  # type: ignore[attr-defined]
    assert any(tmp_path.iterdir())


def test_hash_method_can_be_assigned_on_the_cache() -> None:
    import hashlib

    app = make_app()
    cache = Cache(app)

    @cache.memoize()
    def f(n: int) -> int:
        return n

    with app.app_context():
        before = f.make_cache_key(f.uncached, 1)  # type: ignore[attr-defined]
        cache.hash_method = hashlib.md5
        assert f.make_cache_key(f.uncached, 1) != before  # type: ignore[attr-defined]
        assert cache.hash_method is hashlib.md5


def test_get_many_clear_and_uncached() -> None:
    app = make_app()
    cache = Cache(app)

    @cache.memoize()
    def double(n: int) -> int:
        return 2 * n

    with app.app_context():
        cache.set_many({"a": 1, "b": 2})
        assert cache.get_many("a", "b", "c") == [1, 2, None]
        assert double(2) == 4
        assert double.uncached(3) == 6  # type: ignore[attr-defined]
        assert cache.clear()
        assert cache.get_many("a", "b") == [None, None]


def test_delete_memoized_of_a_function_that_is_not_memoized_is_harmless(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = make_app()
    cache = Cache(app)

    def plain() -> int:
        return 1

    with app.app_context():
        cache.delete_memoized(plain)  # Flask-Caching raises nothing here either
        with pytest.raises(ValueError, match="memoize"):
            cache.delete_memoized(plain, 1)
    assert "not memoized" in caplog.text


def test_a_cached_function_with_a_constant_key_works_outside_any_context() -> None:
    app = make_app()
    cache = Cache(app)
    runs = itertools.count()

    @cache.cached(timeout=60, key_prefix="all_comments")
    def comments() -> int:
        return next(runs)

    assert comments() == comments() == 0
    with app.app_context():
        assert cache.get("all_comments") == 0


def test_flask_cachings_module_paths_import() -> None:
    from flask_viewcache import jinja2ext, signals, utils

    assert jinja2ext.JINJA_CACHE_ATTR_NAME == "_template_fragment_cache"
    assert utils.make_template_fragment_key("box", ["a"]) == "_template_fragment_cache_box_a"
    assert utils.TEMPLATE_FRAGMENT_KEY_TEMPLATE % ("box", "") == "_template_fragment_cache_box"
    assert signals.cache_memoize_hit is not None
