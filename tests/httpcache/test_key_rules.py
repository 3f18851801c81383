"""Key rules for the query: ignored parameters (left out of the key and removed from what the
view sees, RFC 9111 §7.1) and the sorted query, by config."""

from __future__ import annotations

import pytest
from flask import Flask, g, request

from flask_cachecore import CacheConfigError, MemoryCache
from flask_httpcache import Config, HTTPCache, RequestHandler, ResponseHandler, Store
from flask_httpcache.query_rules import rewrite_query

from .helpers import FakeClock, cached_app, make_config

IGNORED = ["utm_*", "fbclid"]


def echo_app(**config: object) -> tuple[Flask, list[str]]:
    """A cached app whose view echoes the query it sees, and counts its runs."""
    app, _, _ = cached_app(ignored_query_parameters=IGNORED, **config)
    runs: list[str] = []

    @app.route("/p")
    def page() -> tuple[str, int, dict[str, str]]:
        runs.append(request.query_string.decode())
        seen = ",".join(f"{k}={v}" for k, v in request.args.items(multi=True))
        return f"{seen}|{request.full_path}|{request.url}", 200, {"Cache-Control": "max-age=60"}

    return app, runs


def test_ignored_parameters_share_one_key() -> None:
    app, runs = echo_app()
    client = app.test_client()
    first = client.get("/p?utm_source=a&id=1")
    second = client.get("/p?id=1&utm_source=b&fbclid=zzz")
    assert "hit" in second.headers["Cache-Status"]
    assert second.data == first.data
    assert runs == ["id=1"]


def test_the_view_never_sees_an_ignored_parameter() -> None:
    """An ignored parameter the view could read would poison the key it is left out of."""
    app, runs = echo_app()
    body = app.test_client().get("/p?utm_source=evil&id=1").get_data(as_text=True)
    assert "evil" not in body
    assert body == "id=1|/p?id=1|http://localhost/p?id=1"
    assert runs == ["id=1"]


@pytest.mark.parametrize(
    "query", ["UTM_Source=evil", "utm%5Fsource=evil", "Fbclid=evil", "utm_=evil"]
)
def test_patterns_match_the_decoded_name_without_case(query: str) -> None:
    app, runs = echo_app()
    body = app.test_client().get(f"/p?{query}&id=1").get_data(as_text=True)
    assert "evil" not in body
    assert runs == ["id=1"]


@pytest.mark.parametrize("query", ["utm=1", "fbclid2=1", "xutm_source=1", "fb%63lid_x=1"])
def test_patterns_match_whole_names_only(query: str) -> None:
    app, runs = echo_app()
    client = app.test_client()
    client.get("/p")
    answer = client.get(f"/p?{query}")
    assert "hit" not in answer.headers["Cache-Status"]
    assert runs == ["", query]


def test_the_rest_of_the_query_stays_in_the_key() -> None:
    app, runs = echo_app()
    client = app.test_client()
    client.get("/p?id=1&utm_source=a")
    other = client.get("/p?id=2&utm_source=a")
    assert other.get_data(as_text=True).startswith("id=2|")
    assert runs == ["id=1", "id=2"]


def test_sort_query_gives_the_view_the_order_of_the_key() -> None:
    app, runs = echo_app(sort_query=True)
    client = app.test_client()
    first = client.get("/p?b=2&a=1&b=1")
    second = client.get("/p?a=1&b=2&b=1")
    assert "hit" in second.headers["Cache-Status"]
    assert first.get_data(as_text=True).startswith("a=1,b=2,b=1|/p?a=1&b=2&b=1|")
    assert runs == ["a=1&b=2&b=1"]


def test_without_sort_query_the_view_sees_the_order_sent() -> None:
    app, runs = echo_app()
    app.test_client().get("/p?b=2&a=1")
    assert runs == ["b=2&a=1"]


@pytest.mark.parametrize("middleware", [False, True])
def test_the_fast_paths_follow_the_rules(middleware: bool) -> None:
    app = Flask(__name__)
    app.config["HTTPCACHE_IGNORED_QUERY_PARAMETERS"] = IGNORED
    app.config["HTTPCACHE_MIDDLEWARE"] = middleware
    runs: list[str] = []

    @app.route("/p")
    def page() -> tuple[str, int, dict[str, str]]:
        runs.append(request.query_string.decode())
        return "page", 200, {"Cache-Control": "max-age=60"}

    HTTPCache(app)
    client = app.test_client()
    for value in ("a", "b", "c"):
        client.get(f"/p?utm_medium={value}")
    assert runs == [""]
    assert app.extensions["httpcache"].store.counters.hits == 2


def test_a_response_handler_alone_does_not_store_what_the_rules_would_rekey() -> None:
    """Without the request handler the view ran before the rules could remove the parameter:
    its answer may depend on it, so it is not stored under the rewritten key."""
    app = Flask(__name__)
    store = Store(MemoryCache(), Config(ignored_query_parameters=IGNORED))
    ResponseHandler(store, app)

    @app.route("/p")
    def page() -> tuple[str, int, dict[str, str]]:
        return request.args.get("utm_source", ""), 200, {"Cache-Control": "max-age=60"}

    answer = app.test_client().get("/p?utm_source=evil")
    assert "stored" not in answer.headers["Cache-Status"]
    assert store.counters.stores == 0


def test_purge_by_url_ignores_the_same_parameters() -> None:
    app, store, _ = cached_app(ignored_query_parameters=IGNORED)

    @app.route("/p")
    def page() -> tuple[str, int, dict[str, str]]:
        return "page", 200, {"Cache-Control": "max-age=60"}

    client = app.test_client()
    client.get("/p?id=1")
    key = store.url_key("http://localhost/p?id=1&utm_campaign=x")
    assert key is not None
    assert store.invalidate(key)
    assert "hit" not in client.get("/p?id=1").headers["Cache-Status"]


def test_a_bad_value_names_its_key() -> None:
    app = Flask(__name__)
    app.config["HTTPCACHE_IGNORED_QUERY_PARAMETERS"] = [3]
    with pytest.raises(CacheConfigError, match="HTTPCACHE_IGNORED_QUERY_PARAMETERS"):
        HTTPCache(app)


def test_one_pattern_may_be_given_as_a_string() -> None:
    assert Config(ignored_query_parameters="utm_*").ignored_query_parameters == ("utm_*",)


def test_rewrite_keeps_pairs_byte_for_byte() -> None:
    assert rewrite_query("z=%41+b&utm_x=1&a", ("utm_*",), sort=True) == "a&z=%41+b"


def hooked_app(hook_first: bool) -> tuple[Flask, list[str]]:
    """ProxyFix wraps ``wsgi_app`` (so no hit lane: the rules run in the cache's hook) and
    an app hook reads ``utm_source``, registered before or after the cache's hook."""
    from werkzeug.middleware.proxy_fix import ProxyFix

    clock = FakeClock()
    app = Flask(__name__)
    app.wsgi_app = ProxyFix(app.wsgi_app)  # type: ignore[method-assign]
    runs: list[str] = []

    def campaign() -> None:
        g.campaign = request.args.get("utm_source", "-")

    if hook_first:
        app.before_request(campaign)
    store = Store(MemoryCache(threshold=1000), make_config(clock, ignored_query_parameters=IGNORED))
    RequestHandler(store, app)
    ResponseHandler(store, app)
    if not hook_first:
        app.before_request(campaign)

    @app.route("/p")
    def page() -> tuple[str, int, dict[str, str]]:
        runs.append(g.campaign)
        return f"campaign={g.campaign}", 200, {"Cache-Control": "max-age=60"}

    return app, runs


def test_a_hook_that_read_an_ignored_parameter_first_keeps_its_answer_out_of_the_cache() -> None:
    app, runs = hooked_app(hook_first=True)
    client = app.test_client()
    attacker = client.get("/p?utm_source=<script>evil</script>")
    assert attacker.get_data(as_text=True) == "campaign=<script>evil</script>"
    victim = client.get("/p")
    assert victim.get_data(as_text=True) == "campaign=-"
    assert runs == ["<script>evil</script>", "-"]


def test_a_hook_after_the_cache_sees_the_rewritten_query_and_the_answer_is_stored() -> None:
    app, runs = hooked_app(hook_first=False)
    client = app.test_client()
    assert client.get("/p?utm_source=x").get_data(as_text=True) == "campaign=-"
    assert client.get("/p").get_data(as_text=True) == "campaign=-"
    assert runs == ["-"]


def test_request_uri_and_raw_uri_follow_the_rewritten_query() -> None:
    app, _, _ = cached_app(ignored_query_parameters=IGNORED)
    seen: list[tuple[str, str]] = []

    @app.route("/u")
    def uri() -> str:
        seen.append((request.environ["REQUEST_URI"], request.environ["RAW_URI"]))
        return "ok"

    raw = "/u?utm_source=EVIL&page=2"
    app.test_client().get(raw, environ_overrides={"REQUEST_URI": raw, "RAW_URI": raw})
    only = "/u?utm_source=EVIL"
    app.test_client().get(only, environ_overrides={"REQUEST_URI": only, "RAW_URI": only})
    assert seen == [("/u?page=2", "/u?page=2"), ("/u", "/u")]
