"""RFC 9111 §3: when a shared cache may store a response."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask, request, session

from .helpers import cached_app


def counting_app(**config: Any) -> tuple[Flask, Any, Any, dict[str, int]]:
    app, store, clock = cached_app(**config)
    calls: dict[str, int] = {}
    app.config["SECRET_KEY"] = "test"

    @app.route("/r", methods=["GET", "POST", "PUT", "DELETE", "PATCH"])
    def resource() -> Any:
        calls["n"] = calls.get("n", 0) + 1
        status = int(request.args.get("status", 200))
        headers = {k[2:]: v for k, v in request.args.items() if k.startswith("h-")}
        return f"body {calls['n']}", status, headers

    return app, store, clock, calls


def served_twice(query: str, method: str = "GET", **kwargs: Any) -> tuple[Any, Any, int]:
    app, _, _, calls = counting_app()
    client = app.test_client()
    first = client.open("/r?" + query, method=method, **kwargs)
    second = client.open("/r?" + query, method=method, **kwargs)
    return first, second, calls.get("n", 0)


def test_s3_stores_response_with_explicit_freshness() -> None:
    first, second, calls = served_twice("h-Cache-Control=max-age=60")
    assert calls == 1
    assert "stored" in first.headers["Cache-Status"]
    assert second.data == first.data
    assert second.headers["Cache-Status"].startswith("flask-httpcache; hit")


def test_s3_post_is_not_stored() -> None:
    _, _, calls = served_twice("h-Cache-Control=max-age=60", method="POST")
    assert calls == 2


@pytest.mark.parametrize("status", [200, 203, 204, 300, 301, 308, 404, 405, 410, 414, 501])
def test_s3_heuristically_cacheable_status_with_last_modified_is_stored(status: int) -> None:
    query = f"status={status}&h-Last-Modified=Mon, 01 Jan 2001 00:00:00 GMT"
    _, _, calls = served_twice(query)
    assert calls == 1


@pytest.mark.parametrize("status", [302, 307, 400, 403, 500, 503])
def test_s3_other_status_needs_explicit_freshness(status: int) -> None:
    query = f"status={status}&h-Last-Modified=Mon, 01 Jan 2001 00:00:00 GMT"
    assert served_twice(query)[2] == 2
    assert served_twice(f"status={status}&h-Cache-Control=max-age=60")[2] == 1


def test_s3_no_store_forbids_storing() -> None:
    assert served_twice("h-Cache-Control=max-age=60, no-store")[2] == 2


def test_s5_2_2_3_must_understand_with_no_store_stores_understood_status() -> None:
    assert served_twice("h-Cache-Control=max-age=60, no-store, must-understand")[2] == 1
    query = "status=299&h-Cache-Control=max-age=60, no-store, must-understand"
    assert served_twice(query)[2] == 2


def test_s3_unqualified_private_forbids_storing_in_shared_cache() -> None:
    assert served_twice("h-Cache-Control=max-age=60, private")[2] == 2


def test_s3_3_partial_content_is_not_stored() -> None:
    assert served_twice("status=206&h-Cache-Control=max-age=60")[2] == 2


def test_s3_1_connection_and_named_fields_are_not_stored() -> None:
    query = "h-Cache-Control=max-age=60&h-Connection=X-Hop&h-X-Hop=1&h-X-Other=2"
    query += "&h-Proxy-Authenticate=Basic"
    _first, second, calls = served_twice(query)
    assert calls == 1
    assert "X-Hop" not in second.headers
    assert "Proxy-Authenticate" not in second.headers
    assert second.headers["X-Other"] == "2"


def test_s3_1_unknown_fields_are_stored() -> None:
    _, second, _ = served_twice("h-Cache-Control=max-age=60&h-X-Unknown-Thing=yes")
    assert second.headers["X-Unknown-Thing"] == "yes"


def test_s5_2_2_4_qualified_no_cache_strips_named_field() -> None:
    first, second, calls = served_twice(
        'h-Cache-Control=max-age=60, no-cache="X-Secret"&h-X-Secret=1'
    )
    assert calls == 1
    assert first.headers["X-Secret"] == "1"
    assert "X-Secret" not in second.headers


def test_s5_2_2_7_qualified_private_strips_named_field() -> None:
    query = 'h-Cache-Control=max-age=60, private="X-User"&h-X-User=ann'
    _first, second, calls = served_twice(query)
    assert calls == 1
    assert "X-User" not in second.headers


def test_s3_5_authorization_response_not_shared_without_permission() -> None:
    auth = {"headers": {"Authorization": "Basic YTpi"}}
    assert served_twice("h-Cache-Control=max-age=60", **auth)[2] == 2


@pytest.mark.parametrize("directive", ["public", "s-maxage=60", "must-revalidate, max-age=60"])
def test_s3_5_authorization_response_shared_with_public_s_maxage_must_revalidate(
    directive: str,
) -> None:
    app, _, _, calls = counting_app()
    client = app.test_client()
    url = "/r?h-Cache-Control=" + directive + "&h-Last-Modified=Mon, 01 Jan 2001 00:00:00 GMT"
    client.get(url, headers={"Authorization": "Basic YTpi"})
    client.get(url)
    assert calls["n"] == 1


def test_s3_5_request_with_authorization_always_reaches_the_view() -> None:
    # our policy: credentials in the request mean the view decides, never a stored response
    app, _, _, calls = counting_app()
    client = app.test_client()
    client.get("/r?h-Cache-Control=public, max-age=60")
    client.get("/r?h-Cache-Control=public, max-age=60", headers={"Authorization": "Basic YTpi"})
    assert calls["n"] == 2


def test_s7_3_set_cookie_response_is_not_stored_by_default_even_when_public() -> None:
    assert served_twice("h-Cache-Control=max-age=60&h-Set-Cookie=sid=1")[2] == 2
    first, second, calls = served_twice("h-Cache-Control=public, max-age=60&h-Set-Cookie=sid=1")
    assert calls == 2
    assert "stored" not in first.headers["Cache-Status"]
    assert second.headers["Set-Cookie"] == "sid=1"


def test_s3_1_store_set_cookie_stores_and_replays_the_field_as_rfc9111_allows() -> None:
    app, _, _, calls = counting_app(store_set_cookie=True)
    client = app.test_client()
    for _ in range(2):
        response = client.get("/r?h-Cache-Control=max-age=60&h-Set-Cookie=sid=1")
        assert response.headers["Set-Cookie"] == "sid=1"
    assert calls["n"] == 1
    assert response.headers["Cache-Status"].startswith("flask-httpcache; hit")


def test_s7_3_session_write_is_never_stored() -> None:
    app, _, _, _ = counting_app()
    calls = {"n": 0}

    @app.route("/login")
    def login() -> Any:
        calls["n"] += 1
        session["user"] = "ann"
        return "welcome", 200, {"Cache-Control": "max-age=60"}

    client = app.test_client()
    client.get("/login")
    client.get("/login")
    assert calls["n"] == 2


def test_s7_bounded_body_size() -> None:
    app, _, _, calls = counting_app(max_body_size=4)
    client = app.test_client()
    client.get("/r?h-Cache-Control=max-age=60")
    client.get("/r?h-Cache-Control=max-age=60")
    assert calls["n"] == 2


def test_s3_streamed_response_is_not_stored() -> None:
    app, _, _, _ = counting_app()
    calls = {"n": 0}

    @app.route("/stream")
    def stream() -> Any:
        calls["n"] += 1
        return (chunk for chunk in ["a", "b"]), 200, {"Cache-Control": "max-age=60"}

    client = app.test_client()
    assert client.get("/stream").data == b"ab"
    assert client.get("/stream").data == b"ab"
    assert calls["n"] == 2


def test_s3_request_no_store_prevents_storing() -> None:
    app, _, _, calls = counting_app()
    client = app.test_client()
    client.get("/r?h-Cache-Control=max-age=60", headers={"Cache-Control": "no-store"})
    client.get("/r?h-Cache-Control=max-age=60")
    assert calls["n"] == 2


def test_s3_2_head_is_answered_from_stored_get_and_never_stored() -> None:
    app, _, _, calls = counting_app()
    client = app.test_client()
    assert client.head("/r?h-Cache-Control=max-age=60").data == b""
    client.get("/r?h-Cache-Control=max-age=60")
    head = client.head("/r?h-Cache-Control=max-age=60")
    assert calls["n"] == 2
    assert head.headers["Cache-Status"].startswith("flask-httpcache; hit")
    assert head.data == b""


def test_rfc9213_cdn_cache_control_replaces_cache_control_and_expires() -> None:
    assert served_twice("h-Cache-Control=no-store&h-CDN-Cache-Control=max-age=60")[2] == 1
    query = "h-Cache-Control=max-age=60&h-CDN-Cache-Control=no-store"
    assert served_twice(query)[2] == 2
    query = 'h-Cache-Control=max-age=60&h-CDN-Cache-Control=no-cache&h-ETag="e"'
    assert served_twice(query)[2] == 2


def test_rfc9213_invalid_cdn_cache_control_is_ignored() -> None:
    query = "h-Cache-Control=no-store&h-CDN-Cache-Control=max-age=60, &&&"
    assert served_twice(query)[2] == 2
    assert served_twice('h-Cache-Control=no-store&h-CDN-Cache-Control=max-age="60"')[2] == 2
