"""RFC 9111 §4: reusing stored responses; §4.1 Vary; §4.2 freshness and age; §4.4 invalidation."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask, request
from werkzeug.http import http_date

from .helpers import START, FakeClock, cached_app


def make_app(**config: Any) -> tuple[Flask, Any, FakeClock, dict[str, int]]:
    app, store, clock = cached_app(**config)
    calls: dict[str, int] = {"n": 0}

    @app.route("/r", methods=["GET", "POST", "PUT", "DELETE", "PATCH", "PURGEIT"])
    def resource() -> Any:
        calls["n"] += 1
        status = int(request.args.get("status", 200))
        headers = {k[2:]: v for k, v in request.args.items() if k.startswith("h-")}
        return f"body {calls['n']}", status, headers

    @app.route("/other")
    def other() -> Any:
        calls["n"] += 1
        return f"other {calls['n']}", 200, {"Cache-Control": "max-age=60"}

    return app, store, clock, calls


FRESH = "/r?h-Cache-Control=max-age=60"


def test_s4_reuses_fresh_response_and_sends_age() -> None:
    app, _, clock, calls = make_app()
    client = app.test_client()
    client.get(FRESH)
    clock.advance(10)
    hit = client.get(FRESH)
    assert calls["n"] == 1
    assert hit.headers["Age"] == "10"
    assert hit.headers["Cache-Status"] == "flask-httpcache; hit; ttl=50"


def test_s4_target_uri_includes_query_host_and_scheme() -> None:
    app, _, _, calls = make_app()
    client = app.test_client()
    client.get(FRESH)
    client.get(FRESH + "&x=1")
    client.get(FRESH, base_url="http://other.example")
    client.get(FRESH, base_url="https://localhost")
    assert calls["n"] == 4
    client.get(FRESH, base_url="http://OTHER.example:80")
    assert calls["n"] == 4


def test_s4_stored_head_never_answers_get_but_get_answers_head() -> None:
    app, _, _, calls = make_app()
    client = app.test_client()
    client.head(FRESH)
    client.get(FRESH)
    assert calls["n"] == 2
    client.head(FRESH)
    assert calls["n"] == 2


def test_s4_unsafe_methods_pass_through() -> None:
    app, _, _, calls = make_app()
    client = app.test_client()
    client.get(FRESH)
    response = client.post(FRESH)
    assert calls["n"] == 2
    assert "fwd=method" in response.headers["Cache-Status"]


def test_s4_newest_response_replaces_older_one() -> None:
    app, _, clock, _calls = make_app()
    client = app.test_client()
    client.get(FRESH)
    clock.advance(61)
    client.get(FRESH)
    assert client.get(FRESH).data == b"body 2"


def test_s4_1_vary_selects_the_variant_by_normalised_value() -> None:
    app, _, _, _calls = make_app()
    client = app.test_client()
    url = FRESH + "&h-Vary=Accept-Language"
    assert client.get(url, headers={"Accept-Language": "en,  fr"}).data == b"body 1"
    assert client.get(url, headers={"Accept-Language": "EN,fr"}).data == b"body 1"
    assert client.get(url, headers={"Accept-Language": "de"}).data == b"body 2"
    assert client.get(url, headers={"Accept-Language": "de"}).data == b"body 2"
    assert client.get(url, headers={"Accept-Language": "en,fr"}).data == b"body 1"


def test_s4_1_absent_field_differs_from_empty_field() -> None:
    app, _, _, calls = make_app()
    client = app.test_client()
    url = FRESH + "&h-Vary=X-Flag"
    client.get(url)
    client.get(url, headers={"X-Flag": ""})
    assert calls["n"] == 2
    client.get(url)
    assert calls["n"] == 2


def test_s4_1_vary_star_never_matches() -> None:
    app, _, _, calls = make_app()
    client = app.test_client()
    client.get(FRESH + "&h-Vary=*")
    client.get(FRESH + "&h-Vary=*")
    assert calls["n"] == 2


def test_s7_variants_per_uri_are_bounded() -> None:
    app, _store, _, calls = make_app(max_variants=2)
    client = app.test_client()
    url = FRESH + "&h-Vary=X-V"
    for value in ("a", "b", "c"):
        client.get(url, headers={"X-V": value})
    client.get(url, headers={"X-V": "a"})  # dropped as the oldest
    client.get(url, headers={"X-V": "c"})
    assert calls["n"] == 4


def test_s4_2_1_expires_gives_freshness() -> None:
    app, _, clock, calls = make_app()
    client = app.test_client()
    url = f"/r?h-Expires={http_date(START + 30)}&h-Date={http_date(START)}"
    client.get(url)
    clock.advance(29)
    client.get(url)
    assert calls["n"] == 1
    clock.advance(2)
    client.get(url)
    assert calls["n"] == 2


def test_s5_3_invalid_expires_is_already_stale() -> None:
    app, _, _, calls = make_app()
    client = app.test_client()
    client.get('/r?h-Expires=0&h-ETag="x"')
    client.get('/r?h-Expires=0&h-ETag="x"')
    assert calls["n"] == 2


def test_s4_2_2_heuristic_freshness_from_last_modified() -> None:
    app, _, clock, calls = make_app()
    client = app.test_client()
    url = f"/r?h-Last-Modified={http_date(START - 1000)}"
    client.get(url)
    clock.advance(99)
    client.get(url)
    assert calls["n"] == 1
    clock.advance(2)
    client.get(url)
    assert calls["n"] == 2


def test_s4_2_3_age_from_upstream_counts() -> None:
    app, _, _, calls = make_app()
    client = app.test_client()
    url = FRESH + "&h-Age=50"
    client.get(url)
    assert client.get(url).headers["Age"] == "50"
    url = FRESH + "&h-Age=70"
    client.get(url)
    client.get(url)
    assert calls["n"] == 3  # Age 70 > max-age 60: stored stale, never served fresh


def test_s4_2_3_apparent_age_from_old_date() -> None:
    app, _, _, calls = make_app()
    client = app.test_client()
    url = FRESH + f"&h-Date={http_date(START - 100)}"
    client.get(url)
    client.get(url)
    assert calls["n"] == 2


def test_s4_4_unsafe_method_invalidates_target_uri() -> None:
    app, _, _, _calls = make_app()
    client = app.test_client()
    client.get(FRESH)
    client.post(FRESH)
    assert client.get(FRESH).data == b"body 3"


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH", "PURGEIT"])
def test_s4_4_every_unsafe_and_unknown_method_invalidates(method: str) -> None:
    app, _, _, calls = make_app()
    client = app.test_client()
    client.get(FRESH)
    client.open(FRESH, method=method)
    client.get(FRESH)
    assert calls["n"] == 3


def test_s4_4_error_answer_does_not_invalidate() -> None:
    app, _, _, calls = make_app()
    client = app.test_client()
    client.get(FRESH)
    client.post(FRESH + "&status=500")
    client.get(FRESH)
    assert calls["n"] == 2


def test_s4_4_location_and_content_location_same_origin_are_invalidated() -> None:
    app, _, _, calls = make_app()
    client = app.test_client()
    client.get("/other")
    client.post("/r?h-Location=/other")
    client.get("/other")
    assert calls["n"] == 3
    client.post("/r?h-Content-Location=http://localhost/other")
    client.get("/other")
    assert calls["n"] == 5


def test_s4_4_location_of_another_origin_is_not_invalidated() -> None:
    app, _, _, calls = make_app()
    client = app.test_client()
    client.get("/other", base_url="http://evil.example")
    client.post("/r?h-Location=http://evil.example/other")
    client.get("/other", base_url="http://evil.example")
    assert calls["n"] == 2


def test_s5_3_expires_in_another_format_than_http_date_is_already_stale() -> None:
    app, _, _, calls = make_app()
    client = app.test_client()
    url = '/r?h-Expires=Thu, 18 Aug 2050 02:01:18 UTC&h-ETag="x"'
    client.get(url)
    client.get(url)
    assert calls["n"] == 2


def test_rfc9211_cache_status_names_why_the_request_was_forwarded() -> None:
    app, _, clock, _ = make_app()
    client = app.test_client()
    url = FRESH + "&h-Vary=X-V"
    assert "fwd=uri-miss" in client.get(url, headers={"X-V": "a"}).headers["Cache-Status"]
    assert "fwd=vary-miss" in client.get(url, headers={"X-V": "b"}).headers["Cache-Status"]
    forced = client.get(url, headers={"X-V": "a", "Cache-Control": "no-cache"})
    assert "fwd=request" in forced.headers["Cache-Status"]
    clock.advance(61)
    assert "fwd=stale" in client.get(url, headers={"X-V": "a"}).headers["Cache-Status"]
    assert "fwd=method" in client.post(url).headers["Cache-Status"]
