"""What a Flask-Caching 2.5 app may rely on beyond the decorators: import paths, config values
it may set, attributes it may replace, and what ``cache.get`` gives for the decorators' keys."""

from __future__ import annotations

import hashlib
import itertools
from typing import Any

import pytest
from cachelib.serializers import JSONSerializer as CachelibJSONSerializer
from flask import Flask, request
from markupsafe import Markup

import flask_viewcache
from flask_viewcache import SUPPORTED_HASH_FUNCTIONS, Cache, function_namespace
from flask_viewcache.backends import BaseCache, NullCache, RedisCache, SimpleCache
from flask_viewcache.backends.simplecache import SimpleCache as SimpleCacheFromModule


@pytest.fixture
def app() -> Flask:
    app = Flask(__name__)
    app.config.update(TESTING=True, CACHE_TYPE="SimpleCache")
    return app


# -- import paths ------------------------------------------------------------------------------


def test_backend_classes_are_the_ones_cache_type_builds(app: Flask) -> None:
    cache = Cache(app)
    assert SimpleCacheFromModule is SimpleCache
    assert isinstance(app.extensions["cache"][cache], SimpleCache)


def test_backend_import_path_as_cache_type_reads_the_cache_keys(app: Flask) -> None:
    app.config.update(
        CACHE_TYPE="flask_viewcache.backends.RedisCache",
        CACHE_REDIS_URL="redis://127.0.0.1:1/0",  # never connected to: built only
    )
    cache = Cache(app)
    assert isinstance(app.extensions["cache"][cache], RedisCache)


class CountingBackend(BaseCache):
    """A custom backend as Flask-Caching apps write them: ``factory`` reads the config."""

    def __init__(self, greeting: str) -> None:
        super().__init__()
        self.greeting = greeting
        self.values: dict[str, Any] = {}

    @classmethod
    def factory(
        cls, app: Any, config: Any, args: list[Any], kwargs: dict[str, Any]
    ) -> CountingBackend:
        return cls(config["GREETING"])

    def get(self, key: str) -> Any:
        return self.values.get(key)

    def set(self, key: str, value: Any, timeout: Any = None) -> bool:
        self.values[key] = value
        return True

    def delete(self, key: str) -> bool:
        return self.values.pop(key, None) is not None


def test_custom_backend_subclassing_base_cache_is_made_by_its_factory(app: Flask) -> None:
    app.config.update(CACHE_TYPE=f"{__name__}.CountingBackend", GREETING="hello")
    cache = Cache(app)
    backend = app.extensions["cache"][cache]
    assert isinstance(backend, CountingBackend)
    assert backend.greeting == "hello"
    with app.app_context():
        cache.set("k", 1)
        assert cache.get("k") == 1


def test_simple_cache_takes_flask_cachings_constructor_arguments() -> None:
    assert SimpleCache(threshold=2, ignore_delete_many_errors=True).ignore_delete_many_errors
    with pytest.warns(DeprecationWarning, match="ignore_errors"):
        kept = SimpleCache(ignore_errors=True)
    assert kept.ignore_delete_many_errors is True
    kept.set("k", 1)
    assert kept.get("k") == 1


class SmallSimpleCache(SimpleCache):
    pass


def test_subclass_of_simple_cache_as_cache_type(app: Flask) -> None:
    app.config.update(CACHE_TYPE=f"{__name__}.SmallSimpleCache", CACHE_THRESHOLD=3)
    cache = Cache(app)
    backend = app.extensions["cache"][cache]
    assert type(backend) is SmallSimpleCache
    assert backend.threshold == 3
    assert not isinstance(SimpleCache(), SmallSimpleCache)


def test_memcached_cache_is_the_class_memcached_cache_type_builds(app: Flask) -> None:
    app.config.update(CACHE_TYPE="MemcachedCache", CACHE_MEMCACHED_SERVERS=["127.0.0.1:1"])
    cache = Cache(app)
    assert isinstance(app.extensions["cache"][cache], flask_viewcache.backends.MemcachedCache)
    assert flask_viewcache.backends.MemcachedCache.__name__ == "MemcachedCache"


def test_base_cache_factory_takes_no_settings() -> None:
    assert isinstance(NullCache(), flask_viewcache.backends.NullCache)
    assert type(BaseCache.factory(None, {}, [], {})) is BaseCache


def test_supported_hash_functions_are_hashlib_constructors(app: Flask) -> None:
    assert hashlib.sha256 in SUPPORTED_HASH_FUNCTIONS
    app.config["CACHE_HASH_METHOD"] = SUPPORTED_HASH_FUNCTIONS[0]
    cache = Cache(app)

    @cache.memoize()
    def double(x: int) -> int:
        return 2 * x

    with app.app_context():
        assert double(2) == 4


# -- function_namespace ------------------------------------------------------------------------


class Account:
    def __init__(self, number: int) -> None:
        self.number = number

    def __cache_key__(self) -> int:
        return self.number

    def balance(self) -> int:
        return self.number

    @classmethod
    def bank(cls) -> str:
        return "b"


def test_function_namespace_of_a_function() -> None:
    name, instance = function_namespace(test_function_namespace_of_a_function)
    assert name == f"{__name__}.test_function_namespace_of_a_function"
    assert instance is None


def test_function_namespace_of_a_method_names_the_instance_stably() -> None:
    name, instance = function_namespace(Account(7).balance)
    assert name == f"{__name__}.Account.balance"
    assert instance == function_namespace(Account(7).balance)[1]
    assert instance != function_namespace(Account(8).balance)[1]
    assert function_namespace(Account.balance, [Account(7)]) == (name, instance)


def test_function_namespace_of_a_classmethod_function_needs_the_class() -> None:
    with pytest.raises(ValueError, match="class"):
        function_namespace(Account.bank.__func__)
    assert function_namespace(Account.bank.__func__, [Account])[0] == f"{__name__}.Account.bank"


# -- CACHE_SERIALIZER --------------------------------------------------------------------------


def test_cachelib_serializer_class_as_cache_serializer(app: Flask) -> None:
    app.config["CACHE_SERIALIZER"] = CachelibJSONSerializer
    cache = Cache(app)
    assert isinstance(app.extensions["cache"][cache].serializer, CachelibJSONSerializer)

    @cache.memoize()
    def pair(x: int) -> list[int]:
        return [x, x]

    with app.app_context():
        cache.set("k", {"a": 1})
        assert cache.get("k") == {"a": 1}
        assert pair(3) == [3, 3]
        assert pair(3) == [3, 3]


def test_cachelib_serializer_instance_as_cache_serializer(app: Flask) -> None:
    serializer = CachelibJSONSerializer()
    cache = Cache(app, config={"CACHE_SERIALIZER": serializer})
    assert app.extensions["cache"][cache].serializer is serializer


def test_serializer_names_still_work(app: Flask) -> None:
    app.config["CACHE_SERIALIZER"] = "json"
    cache = Cache(app)
    with app.app_context():
        cache.set("k", [1])
        assert cache.get("k") == [1]


# -- cache.get on the decorators' keys ---------------------------------------------------------


def test_cache_get_of_a_view_key_gives_what_the_view_returned(app: Flask) -> None:
    cache = Cache(app)
    counter = itertools.count()

    @app.route("/count")
    @cache.cached()
    def count() -> str:
        return str(next(counter))

    body = app.test_client().get("/count").get_data(as_text=True)
    with app.test_request_context("/count"):
        assert cache.get(count.make_cache_key()) == body
        assert cache.get_many(count.make_cache_key(), "other") == [body, None]
        assert cache.get_dict(count.make_cache_key()) == {count.make_cache_key(): body}


def test_cache_get_of_a_fragment_key_gives_its_text(app: Flask) -> None:
    from flask import render_template_string

    from flask_viewcache import make_template_fragment_key

    cache = Cache(app)
    with app.test_request_context():
        render_template_string("{% cache 60, 'card', 1 %}<b>{{ n }}</b>{% endcache %}", n=5)
        text = cache.get(make_template_fragment_key("card", [1]))
    assert text == "<b>5</b>"
    assert isinstance(text, Markup)


@pytest.mark.parametrize("backend", ["SimpleCache", "FileSystemCache"])
def test_cache_get_of_a_memoize_key_gives_the_result_while_it_is_valid(
    backend: str, tmp_path: Any
) -> None:
    app = Flask(__name__)
    app.config.update(CACHE_TYPE=backend, CACHE_DIR=str(tmp_path))
    cache = Cache(app)

    @cache.memoize()
    def double(x: int) -> int:
        return 2 * x

    with app.app_context():
        double(2)
        key = double.make_cache_key(double.uncached, 2)  # type: ignore[attr-defined]
        assert cache.get(key) == 4
        cache.delete_memoized(double)
        assert cache.get(key) is None  # made under a version that is gone
        double(2)
        assert cache.get(key) == 4


def test_cache_get_of_a_memoized_method_key_stays_an_envelope(app: Flask) -> None:
    # its validity also depends on the instance's version, which the key does not name
    cache = Cache(app)

    class Doubler:
        def __repr__(self) -> str:
            return "Doubler()"

        @cache.memoize()
        def double(self, x: int) -> int:
            return 2 * x

    doubler = Doubler()
    with app.app_context():
        doubler.double(2)
        stored = cache.get(Doubler.double.make_cache_key(Doubler.double.uncached, doubler, 2))  # type: ignore[attr-defined]
    assert stored[0] == "vc1"
    assert stored[1] == 4


# -- view keys built by the app --------------------------------------------------------------


def test_view_make_cache_key_with_positional_view_arguments(app: Flask) -> None:
    cache = Cache(app)

    @app.route("/cake/<flavor>")
    @cache.cached()
    def cake(flavor: str) -> str:
        return flavor

    with app.test_request_context("/pie/cherry"):
        assert cake.make_cache_key("apple") == cake.make_cache_key(flavor="apple")  # type: ignore[attr-defined]
        assert cake.make_cache_key("apple") == "view//cake/apple"  # type: ignore[attr-defined]


def test_delete_cached_outside_a_request_builds_a_relative_path(app: Flask) -> None:
    app.config["SERVER_NAME"] = "localhost"  # url_for outside a request needs it
    cache = Cache(app)
    counter = itertools.count()

    @app.route("/user/<name>")
    @cache.cached()
    def user(name: str) -> str:
        return f"{name}{next(counter)}"

    client = app.test_client()
    first = client.get("/user/bob").get_data(as_text=True)
    with app.app_context():
        assert user.make_cache_key(name="bob") == "view//user/bob"  # type: ignore[attr-defined]
        assert cache.delete_cached(user, name="bob")
    assert client.get("/user/bob").get_data(as_text=True) != first


def test_replacing_make_cache_key_of_a_view_changes_its_keys(app: Flask) -> None:
    cache = Cache(app)
    counter = itertools.count()

    @app.route("/")
    @cache.cached()
    def page() -> str:
        return str(next(counter))

    page.make_cache_key = lambda *args, **kwargs: "page:" + request.args["v"]  # type: ignore[attr-defined]
    client = app.test_client()
    a = client.get("/?v=a").get_data(as_text=True)
    b = client.get("/?v=b").get_data(as_text=True)
    assert a != b
    assert client.get("/?v=a").get_data(as_text=True) == a
    with app.app_context():
        assert cache.get("page:b") == b


# -- memoize --------------------------------------------------------------------------------


def test_delete_memoized_of_a_bound_method_that_ignores_self(app: Flask) -> None:
    cache = Cache(app)
    counter = itertools.count()

    class Adder:
        @cache.memoize(args_to_ignore=["self"])
        def add(self, b: int) -> tuple[int, int]:
            return b, next(counter)

    first, second = Adder(), Adder()
    with app.app_context():
        three, four = first.add(3), first.add(4)
        assert second.add(3) == three  # ``self`` is not in the key
        cache.delete_memoized(first.add, 3)
        assert first.add(3) != three
        assert first.add(4) == four


# -- Cache subclasses that wrap the public methods ---------------------------------------------


class TracingCache(Cache):
    """What tracing libraries do: wrap the public methods and note each call."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.seen: list[str] = []
        super().__init__(*args, **kwargs)

    def get(self, key: str) -> Any:
        self.seen.append("get")
        return super().get(key)

    def get_many(self, *keys: str) -> list[Any]:
        self.seen.append("get_many")
        return super().get_many(*keys)

    def set(self, key: str, value: Any, timeout: Any = None) -> bool:
        self.seen.append("set")
        return super().set(key, value, timeout)

    def add(self, key: str, value: Any, timeout: Any = None) -> bool:
        self.seen.append("add")
        return super().add(key, value, timeout)

    def set_many(self, mapping: dict[str, Any], timeout: Any = None) -> list[Any]:
        self.seen.append("set_many")
        return super().set_many(mapping, timeout)

    def delete(self, key: str) -> bool:
        self.seen.append("delete")
        return super().delete(key)


def test_subclass_sees_the_reads_and_writes_of_a_cached_view(app: Flask) -> None:
    cache = TracingCache(app)

    @app.route("/")
    @cache.cached()
    def home() -> str:
        return "hello"

    client = app.test_client()
    assert client.get("/").data == b"hello"
    assert cache.seen == ["get", "set"]
    cache.seen.clear()
    assert client.get("/").data == b"hello"
    assert cache.seen == ["get"]


def test_subclass_sees_the_reads_writes_and_deletes_of_memoize(app: Flask) -> None:
    cache = TracingCache(app)
    counter = itertools.count()

    @cache.memoize()
    def numbered(x: int) -> tuple[int, int]:
        return x, next(counter)

    with app.app_context():
        first = numbered(1)
        assert cache.seen[0] == "get_many"
        assert "set" in cache.seen
        cache.seen.clear()
        assert numbered(1) == first
        assert cache.seen == ["get_many"]  # a hit: still one read
        cache.seen.clear()
        cache.delete_memoized(numbered, 1)
        assert cache.seen == ["delete"]
        assert numbered(1) != first
        cache.seen.clear()
        cache.delete_memoized(numbered)
        assert cache.seen == ["set_many"]  # a new version, written through the subclass
        assert cache.get("anything") is None


def test_plain_cache_reads_the_backend_directly(app: Flask) -> None:
    cache = Cache(app)
    with app.app_context():
        assert cache.store().backend is cache.store().direct


def test_subclass_on_a_shared_backend_keeps_versions_there(
    app: Flask, redis_config: dict[str, Any]
) -> None:
    app.config.update(redis_config)
    cache = TracingCache(app)
    counter = itertools.count()

    @cache.memoize()
    def numbered(x: int) -> tuple[int, int]:
        return x, next(counter)

    with app.app_context():
        first = numbered(1)
        assert "add" in cache.seen  # the new version went through the subclass too
        cache.seen.clear()
        assert numbered(1) == first
        assert cache.seen == ["get_many"]
        cache.delete_memoized(numbered)
        assert numbered(1) != first
        cache.clear()


def test_file_hash_method_reaches_the_file_system_cache(app: Flask, tmp_path: Any) -> None:
    app.config.update(
        CACHE_TYPE="FileSystemCache", CACHE_DIR=str(tmp_path), CACHE_FILE_HASH_METHOD=hashlib.md5
    )
    cache = Cache(app)
    with app.app_context():
        cache.set("k", "v")
        assert cache.get("k") == "v"
    assert hashlib.md5(b"k").hexdigest() in {path.name for path in tmp_path.iterdir()}


def test_cachelib_serializer_on_redis_holds_memoized_values_and_views(
    app: Flask, redis_config: dict[str, Any]
) -> None:
    app.config.update(redis_config, CACHE_SERIALIZER=CachelibJSONSerializer)
    cache = Cache(app)
    counter = itertools.count()

    @cache.memoize()
    def numbered(x: int) -> list[int]:
        return [x, next(counter)]

    @app.route("/n")
    @cache.cached()
    def view() -> str:
        return str(next(counter))

    client = app.test_client()
    body = client.get("/n").get_data(as_text=True)
    assert client.get("/n").get_data(as_text=True) == body
    with app.app_context():
        first = numbered(1)
        assert numbered(1) == first
        cache.delete_memoized(numbered)
        assert numbered(1) != first
        cache.clear()
