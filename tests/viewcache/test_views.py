"""cached views: keys and request variants, canonical query; safe responses; headers; async."""

from __future__ import annotations

import asyncio
import inspect
import itertools
from typing import Any

import pytest
from flask import Flask, Response, request

from flask_cachecore import claim_refresh
from flask_viewcache import Cache
from flask_viewcache.engine import lock_key


def numbered_view(app: Flask, cache: Cache, **options: Any) -> None:
    numbers = itertools.count(1)

    @app.route("/n", methods=["GET", "POST"])
    @cache.cached(**options)
    def number() -> Response:
        body = "" if request.method == "HEAD" else f"{request.method} {next(numbers)}"
        return Response(body, headers={"X-Number": body})


def test_a_request_of_another_method_is_never_answered_with_this_ones_entry(
    make_app: Any,
) -> None:
    # Flask-Caching's key (the path) is shared; the entry records its method
    app, cache = make_app()
    numbered_view(app, cache)
    client = app.test_client()
    assert client.get("/n").data == b"GET 1"
    assert client.get("/n").data == b"GET 1"
    assert client.post("/n").data == b"POST 2"
    assert client.get("/n").data == b"GET 3"


def test_with_request_parts_in_the_key_methods_have_their_own_entries(make_app: Any) -> None:
    app, cache = make_app({"CACHE_VIEW_KEY_REQUEST_PARTS": True})
    numbered_view(app, cache)
    client = app.test_client()
    assert client.get("/n").data == b"GET 1"
    assert client.post("/n").data == b"POST 2"
    assert client.get("/n").data == b"GET 1"
    assert client.post("/n").data == b"POST 2"


def test_head_reads_the_get_entry_but_never_stores_one(make_app: Any) -> None:
    app, cache = make_app()
    numbered_view(app, cache)
    client = app.test_client()
    # a HEAD first: the view's HEAD answer is not stored, so GET is not answered with it
    assert client.head("/n").headers["X-Number"] == ""
    assert client.get("/n").data == b"GET 1"
    # HEAD after GET: the GET entry, without its body
    head = client.head("/n")
    assert head.headers["X-Number"] == "GET 1"
    assert head.data == b""


def test_a_request_for_another_host_or_scheme_is_never_answered_with_this_ones_entry(
    make_app: Any,
) -> None:
    app, cache = make_app()
    numbered_view(app, cache)
    client = app.test_client()
    a = client.get("/n", headers={"Host": "a.example"}).data
    assert client.get("/n", headers={"Host": "A.example"}).data == a
    b = client.get("/n", headers={"Host": "b.example"}).data
    assert b != a
    https = client.get("/n", headers={"Host": "b.example"}, base_url="https://b.example").data
    assert https != b


def test_with_request_parts_in_the_key_hosts_have_their_own_entries(make_app: Any) -> None:
    app, cache = make_app({"CACHE_VIEW_KEY_REQUEST_PARTS": True})
    numbered_view(app, cache)
    client = app.test_client()
    a = client.get("/n", headers={"Host": "a.example"}).data
    b = client.get("/n", headers={"Host": "b.example"}).data
    assert a != b
    assert client.get("/n", headers={"Host": "A.example"}).data == a


def test_query_string_keys_are_canonical(make_app: Any) -> None:
    app, cache = make_app()
    numbered_view(app, cache, query_string=True)
    client = app.test_client()
    first = client.get("/n?a=1&b=2").data
    assert client.get("/n?b=2&a=1").data == first
    assert client.get("/n?b=2&a=%31").data == first
    # as in Flask-Caching, the values of a repeated name are sorted too
    assert client.get("/n?a=1&a=2").data == client.get("/n?a=2&a=1").data


def test_with_request_parts_in_the_key_repeated_values_keep_their_order(make_app: Any) -> None:
    app, cache = make_app({"CACHE_VIEW_KEY_REQUEST_PARTS": True})
    numbered_view(app, cache, query_string=True)
    client = app.test_client()
    # the order of the values of one name is what a view sees in getlist: it stays
    assert client.get("/n?a=1&a=2").data != client.get("/n?a=2&a=1").data


def test_without_query_string_the_query_is_ignored(make_app: Any) -> None:
    app, cache = make_app()
    numbered_view(app, cache)
    client = app.test_client()
    assert client.get("/n?a=1").data == client.get("/n?a=2").data


def test_a_response_that_sets_a_cookie_is_never_stored(make_app: Any) -> None:
    app, cache = make_app()
    numbers = itertools.count(1)

    @app.route("/login")
    @cache.cached()
    def login() -> Response:
        response = Response(str(next(numbers)))
        response.set_cookie("session", "secret-of-one-user")
        return response

    client = app.test_client()
    assert client.get("/login").data == b"1"
    assert client.get("/login").data == b"2"


def test_responses_keep_status_headers_and_bytes(make_app: Any) -> None:
    app, cache = make_app({"CACHE_SERIALIZER": "json"})
    calls = itertools.count(1)

    @app.route("/bin")
    @cache.cached()
    def binary() -> Response:
        next(calls)
        return Response(bytes(range(256)), status=203, headers={"X-Kind": "bytes"})

    client = app.test_client()
    first = client.get("/bin")
    second = client.get("/bin")
    assert next(calls) == 2  # the view ran once
    assert second.status_code == 203
    assert second.headers["X-Kind"] == "bytes"
    assert second.data == first.data == bytes(range(256))


def test_each_hit_gets_a_response_of_its_own(make_app: Any) -> None:
    app, cache = make_app()

    @app.route("/r")
    @cache.cached()
    def view() -> Response:
        return Response("x")

    @app.after_request
    def stamp(response: Response) -> Response:
        response.headers.add("X-Stamp", "1")
        return response

    client = app.test_client()
    client.get("/r")
    assert client.get("/r").headers.getlist("X-Stamp") == ["1"]
    assert client.get("/r").headers.getlist("X-Stamp") == ["1"]


def test_cache_status_header(make_app: Any) -> None:
    app, cache = make_app({"CACHE_STATUS_HEADER": True})
    numbered_view(app, cache)

    @app.route("/plain")
    def plain() -> str:
        return "p"

    client = app.test_client()
    assert client.get("/n").headers["Cache-Status"] == "flask-viewcache; fwd=uri-miss; stored"
    assert client.get("/n").headers["Cache-Status"] == "flask-viewcache; hit"
    assert "Cache-Status" not in client.get("/plain").headers


def test_cache_status_header_is_off_by_default(make_app: Any) -> None:
    app, cache = make_app()
    numbered_view(app, cache)
    client = app.test_client()
    client.get("/n")
    assert "Cache-Status" not in client.get("/n").headers


def test_delete_cached_outside_a_request(make_app: Any) -> None:
    app, cache = make_app({"SERVER_NAME": "example.com"})
    numbered_view(app, cache)
    client = app.test_client()
    first = client.get("/n").data
    with app.app_context():
        assert cache.delete_cached(app.view_functions["number"], "/n")
    assert client.get("/n").data != first


def test_tags_on_views(make_app: Any) -> None:
    app, cache = make_app()
    numbered_view(app, cache, tags=["numbers"])
    client = app.test_client()
    first = client.get("/n").data
    assert client.get("/n").data == first
    with app.app_context():
        cache.invalidate_tags("numbers")
    assert client.get("/n").data != first


def test_async_view_and_coroutine_function(make_app: Any) -> None:
    app, cache = make_app()
    calls = itertools.count(1)

    @cache.cached(timeout=60)
    async def page() -> str:
        return f"page {next(calls)}"

    @cache.memoize()
    async def square(n: int) -> int:
        next(calls)
        return n * n

    assert inspect.iscoroutinefunction(page)
    assert inspect.iscoroutinefunction(square)

    async def scenario() -> list[Any]:
        return [await page(), await page(), await square(3), await square(3)]

    with app.test_request_context("/page"):
        assert asyncio.run(scenario()) == ["page 1", "page 1", 9, 9]
    assert next(calls) == 3


def test_stale_while_revalidate_on_a_view(make_app: Any, monkeypatch: Any) -> None:
    from flask_viewcache import store as store_module

    app, cache = make_app({"CACHE_STATUS_HEADER": True})
    now = [1000.0]
    monkeypatch.setattr(store_module, "wall_clock", lambda: now[0])
    numbered_view(app, cache, timeout=3600, soft_timeout=10)
    client = app.test_client()
    assert client.get("/n").data == b"GET 1"
    now[0] += 11
    with app.test_request_context("/n"):
        store = cache.store()
        where = app.view_functions["number"]._viewcache_view.locate(store, (), {})
    other = claim_refresh(lock_key(where), lock_cache=store.backend)
    assert other is not None  # another worker is refreshing it
    stale = client.get("/n")
    assert stale.data == b"GET 1"  # served stale at once
    assert stale.headers["Cache-Status"] == "flask-viewcache; hit"
    other.release()
    refreshed = client.get("/n")  # this caller is elected to refresh
    assert refreshed.data == b"GET 2"
    assert refreshed.headers["Cache-Status"] == "flask-viewcache; fwd=stale"
    assert client.get("/n").data == b"GET 2"


def test_async_view_is_cached_through_flask() -> None:
    pytest.importorskip("asgiref")  # flask[async]
    app = Flask(__name__)
    app.config.update(CACHE_TYPE="SimpleCache")
    cache = Cache(app)
    calls: list[int] = []

    @app.get("/async")
    @cache.cached(timeout=60)
    async def async_page() -> str:
        await asyncio.sleep(0)
        calls.append(1)
        return f"async page {len(calls)}"

    @cache.memoize(timeout=60)
    async def async_double(n: int) -> int:
        calls.append(n)
        return n * 2

    @app.get("/double/<int:n>")
    async def double(n: int) -> str:
        return str(await async_double(n))

    assert inspect.iscoroutinefunction(async_page)
    assert inspect.iscoroutinefunction(async_double)
    client = app.test_client()
    assert client.get("/async").data == client.get("/async").data == b"async page 1"
    assert client.get("/double/4").data == client.get("/double/4").data == b"8"
    assert calls == [1, 4]
