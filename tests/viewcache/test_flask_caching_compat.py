"""Typical Flask-Caching 2.x usage, unchanged but for the import line.

Everything below the import is written as a Flask-Caching app and its tests would be: the
decorators, their attributes and options, the proxies, the template tag and the signals.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import pytest
from flask import Flask, Response, abort, render_template_string, request

from flask_viewcache import (  # was: from flask_caching import ...
    Cache,
    CachedResponse,
    cache_memoize_hit,
    cache_memoize_miss,
    cache_view_hit,
    cache_view_miss,
    make_template_fragment_key,
)


@pytest.fixture
def app() -> Flask:
    app = Flask(__name__)
    app.config.update(TESTING=True, CACHE_TYPE="SimpleCache", CACHE_DEFAULT_TIMEOUT=300)
    return app


@pytest.fixture
def cache(app: Flask) -> Cache:
    cache = Cache()
    cache.init_app(app)
    return cache


def test_proxies(app: Flask, cache: Cache) -> None:
    with app.app_context():
        assert cache.set("hi", "hello")
        assert cache.get("hi") == "hello"
        assert cache.has("hi")
        assert not cache.add("hi", "again")
        assert cache.add("new", 1)
        assert cache.cache.inc("new") == 2
        assert cache.cache.dec("new", 2) == 0
        cache.set_many({"a": 1, "b": 2})
        assert cache.get_many("a", "b", "c") == [1, 2, None]
        assert cache.get_dict("a", "b") == {"a": 1, "b": 2}
        cache.delete_many("a", "b")
        assert cache.get("a") is None
        cache.unlink("hi")
        assert cache.get("hi") is None
        assert cache.delete("new")
        cache.set("x", 1)
        assert cache.clear()
        assert cache.get("x") is None
        # Flask-Caching's layout holds the backend itself, and cache.cache is it too
        assert app.extensions["cache"][cache] is cache.cache


def test_config_precedence(app: Flask) -> None:
    app.config["CACHE_DEFAULT_TIMEOUT"] = 10
    cache = Cache(config={"CACHE_TYPE": "SimpleCache", "CACHE_DEFAULT_TIMEOUT": 20})
    cache.init_app(app, config={"CACHE_TYPE": "SimpleCache", "CACHE_DEFAULT_TIMEOUT": 30})
    with app.app_context():
        assert cache.cache.default_timeout == 30
    other = Flask("other")
    other.config["CACHE_DEFAULT_TIMEOUT"] = 10
    Cache(other, config={"CACHE_TYPE": "SimpleCache", "CACHE_DEFAULT_TIMEOUT": 20})
    assert other.config["CACHE_DEFAULT_TIMEOUT"] == 10  # the app's own config is not rewritten


def test_cached_view(app: Flask, cache: Cache) -> None:
    @app.route("/")
    @cache.cached(timeout=50)
    def index() -> str:
        return str(random.random())

    client = app.test_client()
    first = client.get("/").data
    assert client.get("/").data == first
    with app.test_request_context("/"):
        assert cache.delete(index.make_cache_key())
    assert client.get("/").data != first


def test_cached_function_with_key_prefix(app: Flask, cache: Cache) -> None:
    @cache.cached(timeout=50, key_prefix="MyCachedList")
    def get_list() -> list[float]:
        return [random.random() for _ in range(5)]

    with app.app_context():
        first = get_list()
        assert get_list() == first
        cache.delete("MyCachedList")
        assert get_list() != first


def test_callable_key_prefix_and_custom_make_cache_key(app: Flask, cache: Cache) -> None:
    @app.route("/a")
    @cache.cached(key_prefix=lambda: "custom-" + request.args.get("lang", "en"))
    def by_lang() -> str:
        return str(random.random())

    @app.route("/b")
    @cache.cached(make_cache_key=lambda *a, **kw: "fixed-key")
    def fixed() -> str:
        return str(random.random())

    client = app.test_client()
    assert client.get("/a?lang=fr").data == client.get("/a?lang=fr").data
    assert client.get("/a?lang=fr").data != client.get("/a?lang=de").data
    body = client.get("/b").data
    with app.app_context():
        assert cache.get("fixed-key") is not None
    assert client.get("/b").data == body


def test_cached_query_string(app: Flask, cache: Cache) -> None:
    @app.route("/works")
    @cache.cached(query_string=True)
    def works() -> str:
        return str(random.random())

    client = app.test_client()
    first = client.get("/works?limit=15&offset=0").data
    assert client.get("/works?offset=0&limit=15").data == first
    assert client.get("/works?limit=16&offset=0").data != first
    with app.test_request_context():
        cache.delete_cached(works, "/works", {"limit": 15, "offset": 0})
    assert client.get("/works?limit=15&offset=0").data != first


def test_unless_and_forced_update(app: Flask, cache: Cache) -> None:
    state = {"bypass": False, "force": False}

    @app.route("/u")
    @cache.cached(unless=lambda: state["bypass"], forced_update=lambda: state["force"])
    def view() -> str:
        return str(random.random())

    client = app.test_client()
    first = client.get("/u").data
    assert client.get("/u").data == first
    state["bypass"] = True
    assert client.get("/u").data != first
    state["bypass"], state["force"] = False, True
    forced = client.get("/u").data
    assert forced != first
    state["force"] = False
    assert client.get("/u").data == forced


def test_response_filter_and_cached_response(app: Flask, cache: Cache) -> None:
    calls = []

    @app.route("/filtered/<int:code>")
    @cache.cached(response_filter=lambda response: response.status_code == 200)
    def filtered(code: int) -> Response:
        calls.append(code)
        return Response("body", status=code)

    @app.route("/dynamic")
    @cache.cached(timeout=1)
    def dynamic() -> CachedResponse:
        return CachedResponse(Response(str(random.random())), timeout=3600)

    client = app.test_client()
    client.get("/filtered/500")
    client.get("/filtered/500")
    client.get("/filtered/200")
    client.get("/filtered/200")
    assert calls == [500, 500, 200]
    first = client.get("/dynamic").data
    assert client.get("/dynamic").data == first


def test_abort_is_cached(app: Flask, cache: Cache) -> None:
    calls = []

    @app.route("/missing")
    @cache.cached()
    def missing() -> str:
        calls.append(1)
        abort(404)

    client = app.test_client()
    assert client.get("/missing").status_code == 404
    assert client.get("/missing").status_code == 404
    assert calls == [1]


def test_generator_is_joined(app: Flask, cache: Cache) -> None:
    @cache.memoize()
    def chunks() -> Any:
        yield "a"
        yield "b"

    with app.app_context():
        assert chunks() == "ab"
        assert chunks() == "ab"


def test_memoize(app: Flask, cache: Cache) -> None:
    @cache.memoize(timeout=50)
    def big_foo(a: int, b: int) -> float:
        return a + b + random.random()

    with app.app_context():
        first = big_foo(5, 2)
        assert big_foo(5, 2) == first
        assert big_foo(a=5, b=2) == first
        assert big_foo(5, 3) != first
        cache.delete_memoized(big_foo, 5, 2)
        assert big_foo(5, 2) != first
        other = big_foo(5, 3)
        cache.delete_memoized(big_foo)
        assert big_foo(5, 3) != other
        assert big_foo.uncached(1, 1) >= 2
        assert cache.get(big_foo.make_cache_key(big_foo.uncached, 5, 3)) is not None


def test_memoize_attributes_and_timeouts(app: Flask, cache: Cache) -> None:
    @cache.memoize(timeout=dt.timedelta(minutes=1))
    def f(x: int) -> float:
        return random.random()

    assert f.cache_timeout == dt.timedelta(minutes=1)
    f.cache_timeout = 0
    with app.app_context():
        first = f(1)
        assert f(1) == first
        f.delete_memoized()
        assert f(1) != first


def test_memoize_none_and_cache_none(app: Flask, cache: Cache) -> None:
    calls: list[int] = []

    @cache.memoize()
    def plain() -> None:
        calls.append(1)

    @cache.memoize(cache_none=True)
    def kept() -> None:
        calls.append(2)

    with app.app_context():
        plain()
        plain()
        kept()
        kept()
    assert calls == [1, 1, 2]


def test_memoize_methods_and_classmethods(app: Flask, cache: Cache) -> None:
    class Adder:
        def __init__(self, ident: int) -> None:
            self.ident = ident

        def __repr__(self) -> str:
            return f"Adder({self.ident})"

        @cache.memoize()
        def add(self, b: int) -> float:
            return b + random.random()

        @classmethod
        @cache.memoize()
        def make(cls, b: int) -> float:
            return b + random.random()

    adder1, adder2 = Adder(1), Adder(2)
    with app.app_context():
        one, two = adder1.add(3), adder2.add(3)
        assert adder1.add(3) == one
        cache.delete_memoized(adder1.add)
        assert adder1.add(3) != one
        assert adder2.add(3) == two
        cache.delete_memoized(Adder.add)
        assert adder2.add(3) != two
        again = adder1.add(4)
        cache.delete_memoized(adder1.add, 4)
        assert adder1.add(4) != again
        made = Adder.make(1)
        assert Adder.make(1) == made
        cache.delete_memoized(Adder.make)
        assert Adder.make(1) != made


def test_memoize_make_name_args_to_ignore_and_is_stale(app: Flask, cache: Cache) -> None:
    @cache.memoize(args_to_ignore=["verbose"])
    def compute(n: int, verbose: bool = False) -> float:
        return random.random()

    @cache.memoize(make_name=lambda fname: fname + request.args.get("lang", ""))
    def greeting() -> float:
        return random.random()

    @cache.memoize(is_stale=lambda value: value > 100)
    def grows(n: int) -> int:
        return n

    with app.app_context():
        assert compute(1, verbose=True) == compute(1)
    with app.test_request_context("/?lang=fr"):
        french = greeting()
        assert greeting() == french
    with app.test_request_context("/?lang=de"):
        assert greeting() != french
    with app.app_context():
        assert grows(500) == 500
        assert grows(5) == 5


def test_source_check(app: Flask) -> None:
    cache = Cache(app, config={"CACHE_TYPE": "SimpleCache", "CACHE_SOURCE_CHECK": True})

    @cache.memoize()
    def f() -> float:
        return random.random()

    with app.app_context():
        assert f() == f()


def test_template_fragment(app: Flask, cache: Cache) -> None:
    template = "{% cache 60, 'box', user %}{{ value }}{% endcache %}"
    with app.test_request_context():
        assert render_template_string(template, user="ann", value="1") == "1"
        assert render_template_string(template, user="ann", value="2") == "1"
        assert render_template_string(template, user="bob", value="3") == "3"
        cache.delete(make_template_fragment_key("box", vary_on=["ann"]))
        assert render_template_string(template, user="ann", value="4") == "4"
        deleting = "{% cache 'del', 'box', user %}{{ value }}{% endcache %}"
        assert render_template_string(deleting, user="ann", value="5") == "5"
        assert render_template_string(template, user="ann", value="6") == "6"


def test_signals(app: Flask) -> None:
    cache = Cache(app, config={"CACHE_TYPE": "SimpleCache", "CACHE_ENABLE_SIGNALS": True})
    seen: list[tuple[str, str]] = []

    def record(name: str) -> Any:
        def receiver(sender: Any, **extra: Any) -> None:
            assert extra["cache"] is cache
            seen.append((name, extra["cache_key"]))

        return receiver

    receivers = {name: record(name) for name in ("vh", "vm", "mh", "mm")}
    cache_view_hit.connect(receivers["vh"])
    cache_view_miss.connect(receivers["vm"])
    cache_memoize_hit.connect(receivers["mh"])
    cache_memoize_miss.connect(receivers["mm"])

    @app.route("/s")
    @cache.cached()
    def view() -> str:
        return "v"

    @cache.memoize()
    def memo() -> str:
        return "m"

    try:
        client = app.test_client()
        client.get("/s")
        client.get("/s")
        with app.app_context():
            memo()
            memo()
    finally:
        for signal, name in (
            (cache_view_hit, "vh"),
            (cache_view_miss, "vm"),
            (cache_memoize_hit, "mh"),
            (cache_memoize_miss, "mm"),
        ):
            signal.disconnect(receivers[name])
    assert [name for name, _ in seen] == ["vm", "vh", "mm", "mh"]


def test_response_hit_indication(app: Flask, cache: Cache) -> None:
    @app.route("/h")
    @cache.cached(response_hit_indication=True)
    def view() -> str:
        return "x"

    client = app.test_client()
    assert "hit_cache" not in client.get("/h").headers
    assert client.get("/h").headers["hit_cache"] == "True"


def test_null_cache_warns() -> None:
    app = Flask(__name__)
    with pytest.warns(UserWarning, match="NullCache"):
        Cache(app)


def test_delete_memoized_verhash_and_memoize_options(app: Flask, cache: Cache) -> None:
    @cache.memoize(
        unless=lambda f, n: n < 0,
        response_filter=lambda value: value is not None and value[0] != 0,
    )
    def f(n: int) -> tuple[int, float]:
        return n, random.random()

    with app.app_context():
        first = f(1)
        assert f(1) == first
        assert f(-1) != f(-1)  # unless, given the call's arguments
        assert f(0) != f(0)  # response_filter said no
        cache.delete_memoized_verhash(f)
        assert f(1) != first


def test_forced_update_with_arguments(app: Flask, cache: Cache) -> None:
    @app.route("/f/<int:n>")
    @cache.cached(forced_update=lambda n: n == 2)
    def view(n: int) -> str:
        return str(random.random())

    client = app.test_client()
    assert client.get("/f/1").data == client.get("/f/1").data
    assert client.get("/f/2").data != client.get("/f/2").data
