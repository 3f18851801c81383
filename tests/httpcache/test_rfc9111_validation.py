"""RFC 9111 §4.3 validation, and the conditional requests of RFC 9110 §13 (origin side)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask, Response, request
from flask.testing import FlaskClient
from werkzeug.http import http_date

from .helpers import START, FakeClock, cached_app


def make_app(**config: Any) -> tuple[Flask, Any, FakeClock, list[dict[str, str]]]:
    app, store, clock = cached_app(**config)
    seen: list[dict[str, str]] = []

    @app.route("/r", methods=["GET", "PUT"])
    def resource() -> Any:
        seen.append(dict(request.headers))
        headers = {k[2:]: v for k, v in request.args.items() if k.startswith("h-")}
        return "the body", 200, headers

    @app.route("/cond")
    def conditional() -> Any:
        # an origin that answers validation itself, with a new header on its 304
        seen.append(dict(request.headers))
        response = Response("conditional body", headers={"Cache-Control": "max-age=10"})
        response.set_etag("v1")
        response.headers["X-Version"] = str(len(seen))
        return response.make_conditional(request)

    return app, store, clock, seen


def test_rfc9110_s8_8_3_automatic_strong_etag() -> None:
    app, _, _, _ = make_app()
    response = app.test_client().get("/r")
    assert response.headers["ETag"].startswith('"')
    again = app.test_client().get("/r")
    assert again.headers["ETag"] == response.headers["ETag"]


def test_rfc9110_s13_1_2_if_none_match_gives_304_with_the_listed_fields() -> None:
    app, _, _, _ = make_app()
    client = app.test_client()
    etag = client.get("/r?h-Cache-Control=max-age=60&h-Content-Location=/r").headers["ETag"]
    response = client.get(
        "/r?h-Cache-Control=max-age=60&h-Content-Location=/r",
        headers={"If-None-Match": f'W/{etag}, "other"'},
    )
    assert response.status_code == 304
    assert response.data == b""
    for name in ("ETag", "Cache-Control", "Date", "Content-Location"):
        assert name in response.headers
    assert "Content-Type" not in response.headers


def test_rfc9110_s13_1_3_if_modified_since_gives_304() -> None:
    app, _, _, _ = make_app()
    client = app.test_client()
    url = f"/r?h-Last-Modified={http_date(START - 100)}"
    response = client.get(url, headers={"If-Modified-Since": http_date(START - 50)})
    assert response.status_code == 304
    response = client.get(url, headers={"If-Modified-Since": http_date(START - 200)})
    assert response.status_code == 200


@pytest.mark.parametrize("server", ["", "gunicorn/27.0.1", "Werkzeug/3.1.9"])
def test_s4_3_2_cache_uses_date_when_no_last_modified(server: str) -> None:
    """Also under the servers that date every response, where a hit leaves the stored Date
    field out; stored half a second past START, dated START (whole seconds)."""
    app, _, clock, _ = make_app()
    clock.now = START + 0.5
    client = app.test_client()
    client.environ_base["SERVER_SOFTWARE"] = server
    client.get("/r?h-Cache-Control=max-age=60")
    clock.advance(5)
    response = client.get(
        "/r?h-Cache-Control=max-age=60", headers={"If-Modified-Since": http_date(START)}
    )
    assert response.status_code == 304
    assert "hit" in response.headers["Cache-Status"]
    earlier = client.get(
        "/r?h-Cache-Control=max-age=60", headers={"If-Modified-Since": http_date(START - 1)}
    )
    assert earlier.status_code == 200


def test_s4_3_2_if_none_match_wins_over_if_modified_since() -> None:
    app, _, _, _ = make_app()
    client = app.test_client()
    url = f"/r?h-Cache-Control=max-age=60&h-Last-Modified={http_date(START - 100)}"
    client.get(url)
    response = client.get(
        url, headers={"If-None-Match": '"nope"', "If-Modified-Since": http_date(START)}
    )
    assert response.status_code == 200


def test_rfc9110_s13_1_1_if_match_failure_gives_412() -> None:
    app, _, _, _ = make_app()
    client = app.test_client()
    assert client.get("/r", headers={"If-Match": '"nope"'}).status_code == 412
    etag = client.get("/r").headers["ETag"]
    assert client.get("/r", headers={"If-Match": etag}).status_code == 200


def test_rfc9110_s13_1_4_if_unmodified_since_failure_gives_412() -> None:
    app, _, _, _ = make_app()
    url = f"/r?h-Last-Modified={http_date(START)}"
    response = app.test_client().get(url, headers={"If-Unmodified-Since": http_date(START - 1)})
    assert response.status_code == 412


def test_rfc9110_s13_2_1_unsafe_method_precondition_checked_before_the_view() -> None:
    app, _, _, seen = make_app()
    client = app.test_client()
    etag = client.get("/r?h-Cache-Control=max-age=60").headers["ETag"]
    response = client.put("/r?h-Cache-Control=max-age=60", headers={"If-None-Match": etag})
    assert response.status_code == 412
    response = client.put("/r?h-Cache-Control=max-age=60", headers={"If-Match": '"old"'})
    assert response.status_code == 412
    assert len(seen) == 1


def test_s3_4_range_answered_from_stored_complete_response() -> None:
    app, _, _, seen = make_app()
    client = app.test_client()
    client.get("/r?h-Cache-Control=max-age=60")
    response = client.get("/r?h-Cache-Control=max-age=60", headers={"Range": "bytes=4-7"})
    assert response.status_code == 206
    assert response.data == b"body"
    assert response.headers["Content-Range"] == "bytes 4-7/8"
    assert len(seen) == 1


def test_rfc9110_s13_1_5_if_range_mismatch_gives_whole_body() -> None:
    app, _, _, _ = make_app()
    client = app.test_client()
    client.get("/r?h-Cache-Control=max-age=60")
    response = client.get(
        "/r?h-Cache-Control=max-age=60", headers={"Range": "bytes=0-3", "If-Range": '"other"'}
    )
    assert response.status_code == 200
    assert response.data == b"the body"


def test_s4_3_1_stale_response_is_validated_with_its_etag() -> None:
    app, _, clock, seen = make_app()
    client = app.test_client()
    client.get("/cond")
    clock.advance(11)
    response = client.get("/cond")
    assert seen[-1]["If-None-Match"] == '"v1"'
    assert response.status_code == 200
    assert response.data == b"conditional body"
    assert "fwd=stale; fwd-status=304" in response.headers["Cache-Status"]


def test_s4_3_4_304_freshens_the_stored_response_headers() -> None:
    app, _, clock, seen = make_app()
    client = app.test_client()
    client.get("/cond")
    clock.advance(11)
    client.get("/cond")
    hit = client.get("/cond")
    assert len(seen) == 2
    assert hit.headers["X-Version"] == "2"
    assert hit.headers["Age"] == "0"
    assert hit.data == b"conditional body"


def test_s4_3_1_client_validators_are_answered_after_validation() -> None:
    app, _, clock, _seen = make_app()
    client = app.test_client()
    client.get("/cond")
    clock.advance(11)
    response = client.get("/cond", headers={"If-None-Match": '"v1"'})
    assert response.status_code == 304
    response = client.get("/cond", headers={"If-None-Match": '"v0"'})
    assert response.status_code == 200


def test_s4_3_4_full_response_replaces_the_stored_one() -> None:
    app, _, clock, _ = make_app()
    client = app.test_client()
    client.get("/r?h-Cache-Control=max-age=10&h-X-Gen=1")
    clock.advance(11)
    client.get("/r?h-Cache-Control=max-age=10&h-X-Gen=1")
    assert client.get("/r?h-Cache-Control=max-age=10&h-X-Gen=1").headers["Age"] == "0"


def test_s4_3_5_head_response_freshens_stored_get() -> None:
    app, _, clock, seen = make_app()
    client = app.test_client()
    url = '/r?h-Cache-Control=max-age=10&h-ETag="same"'
    client.get(url)
    clock.advance(11)
    head = client.head(url)
    assert "stored" in head.headers["Cache-Status"]
    hit = client.get(url)
    assert len(seen) == 2
    assert hit.headers["Cache-Status"].startswith("flask-httpcache; hit")
    assert hit.data == b"the body"


def test_s3_2_update_replaces_fields_but_not_content_length_nor_unstored() -> None:
    from flask_httpcache.revalidation import freshen
    from flask_httpcache.store import StoredResponse

    entry = StoredResponse(
        status=200,
        headers=[("Content-Length", "8"), ("X-A", "old"), ("ETag", '"v"')],
        body=b"the body",
        request_time=START,
        response_time=START,
        date=START,
        age=0,
        lifetime=10,
        directives={},
    )
    updated = freshen(
        entry,
        [("Content-Length", "0"), ("X-A", "new"), ("Connection", "close"), ("X-B", "b")],
    )
    assert updated.header("Content-Length") == "8"
    assert updated.header("X-A") == "new"
    assert updated.header("X-B") == "b"
    assert updated.header("Connection") is None
    assert updated.body == b"the body"


def stale_at_origin(validators: list[dict[str, str]]) -> tuple[FlaskClient, list[dict[str, str]]]:
    """A client of an origin whose n-th answer carries ``validators[n]`` and answers any
    conditional request with a 304 carrying them (as an origin whose representation changed
    between the two, or that sends validators of another variant, would). The first answer
    is already stored and stale: the client's next request makes the cache validate it.
    Returns the client and the request fields the origin saw."""
    app, _, clock = cached_app()
    seen: list[dict[str, str]] = []

    @app.route("/v")
    def view() -> Any:
        seen.append(dict(request.headers))
        fields = validators[min(len(seen), len(validators)) - 1]
        conditional = "If-None-Match" in request.headers or "If-Modified-Since" in request.headers
        headers = {"Cache-Control": "max-age=10", "X-Version": str(len(seen)), **fields}
        if conditional:
            return "", 304, headers
        return f"body {len(seen)}", 200, headers

    client = app.test_client()
    client.get("/v")
    clock.advance(11)
    return client, seen


def test_s4_3_4_304_with_another_strong_etag_freshens_nothing_and_refetches() -> None:
    client, seen = stale_at_origin([{"ETag": '"v1"'}, {"ETag": '"v2"'}])
    response = client.get("/v")
    assert seen[1]["If-None-Match"] == '"v1"'
    # the 304 names "v2", which is not stored: asked again, without validators
    assert len(seen) == 3
    assert "If-None-Match" not in seen[2]
    assert response.status_code == 200
    assert response.data == b"body 3"
    assert response.headers["ETag"] == '"v2"'
    assert response.headers["X-Version"] == "3"
    hit = client.get("/v")
    assert hit.headers["Cache-Status"].startswith("flask-httpcache; hit")
    assert hit.data == b"body 3"
    assert len(seen) == 3


def test_s4_3_4_304_refetch_keeps_the_clients_own_preconditions() -> None:
    client, seen = stale_at_origin([{"ETag": '"v1"'}, {"ETag": '"v2"'}])
    response = client.get("/v", headers={"If-None-Match": '"v2"'})
    assert seen[1]["If-None-Match"] == '"v1"'  # the cache's validator, not the client's
    assert seen[2]["If-None-Match"] == '"v2"'  # the re-fetch carries the client's own
    assert response.status_code == 304


def test_s4_3_4_304_with_the_stored_strong_etag_freshens() -> None:
    client, seen = stale_at_origin([{"ETag": '"v1"'}])
    response = client.get("/v")
    assert len(seen) == 2
    assert response.data == b"body 1"
    assert response.headers["X-Version"] == "2"
    assert "fwd-status=304" in response.headers["Cache-Status"]


def test_s4_3_4_304_with_a_weakly_matching_etag_freshens() -> None:
    client, seen = stale_at_origin([{"ETag": 'W/"v1"'}, {"ETag": 'W/"v1"'}])
    response = client.get("/v")
    assert len(seen) == 2
    assert response.data == b"body 1"
    assert response.headers["X-Version"] == "2"


def test_s4_3_4_304_with_another_last_modified_freshens_nothing() -> None:
    client, seen = stale_at_origin(
        [
            {"Last-Modified": http_date(START - 3600)},
            {"Last-Modified": http_date(START - 60)},
        ]
    )
    response = client.get("/v")
    assert seen[1]["If-Modified-Since"] == http_date(START - 3600)
    assert len(seen) == 3
    assert response.data == b"body 3"
    assert response.headers["Last-Modified"] == http_date(START - 60)


def test_s4_3_4_304_with_the_stored_last_modified_freshens() -> None:
    modified = {"Last-Modified": http_date(START - 3600)}
    client, seen = stale_at_origin([modified, modified])
    response = client.get("/v")
    assert len(seen) == 2
    assert response.data == b"body 1"
    assert response.headers["X-Version"] == "2"


def test_s4_3_4_304_without_validators_freshens_the_validated_response() -> None:
    # our reading: the 304 answers the validators of the one stored response the cache sent
    client, seen = stale_at_origin([{"ETag": '"v1"'}, {}])
    response = client.get("/v")
    assert len(seen) == 2
    assert response.data == b"body 1"
    assert response.headers["X-Version"] == "2"
