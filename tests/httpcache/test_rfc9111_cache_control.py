"""RFC 9111 §5.2 Cache-Control, §5.4 Pragma, §4.2.4 serving stale, RFC 5861 stale-* ."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask, request

from .helpers import FakeClock, Jobs, cached_app


def make_app(**config: Any) -> tuple[Flask, Any, FakeClock, dict[str, int]]:
    app, store, clock = cached_app(**config)
    calls: dict[str, int] = {"n": 0}

    @app.route("/r")
    def resource() -> Any:
        calls["n"] += 1
        if request.args.get("fail") and calls["n"] > 1:
            if request.args["fail"] == "raise":
                raise RuntimeError("view broke")
            return "down", 503
        headers = {k[2:]: v for k, v in request.args.items() if k.startswith("h-")}
        return f"body {calls['n']}", 200, headers

    return app, store, clock, calls


URL = "/r?h-Cache-Control=max-age=60"


def twice(url: str, advance: float, **headers: str) -> tuple[Any, int]:
    app, _, clock, calls = make_app()
    client = app.test_client()
    client.get(url)
    clock.advance(advance)
    response = client.get(url, headers=headers)
    return response, calls["n"]


def test_s5_2_1_4_request_no_cache_forces_validation() -> None:
    assert twice(URL, 1, **{"Cache-Control": "no-cache"})[1] == 2


def test_s5_4_pragma_no_cache_only_without_cache_control() -> None:
    assert twice(URL, 1, Pragma="no-cache")[1] == 2
    assert twice(URL, 1, Pragma="no-cache", **{"Cache-Control": "max-age=600"})[1] == 1


def test_s5_2_1_1_request_max_age() -> None:
    assert twice(URL, 10, **{"Cache-Control": "max-age=5"})[1] == 2
    assert twice(URL, 10, **{"Cache-Control": "max-age=20"})[1] == 1


def test_s5_2_1_3_request_min_fresh() -> None:
    assert twice(URL, 10, **{"Cache-Control": "min-fresh=55"})[1] == 2
    assert twice(URL, 10, **{"Cache-Control": "min-fresh=10"})[1] == 1


def test_s5_2_1_2_request_max_stale() -> None:
    response, calls = twice(URL, 70, **{"Cache-Control": "max-stale=20"})
    assert calls == 1
    assert response.headers["Age"] == "70"
    assert twice(URL, 90, **{"Cache-Control": "max-stale=20"})[1] == 2
    assert twice(URL, 9000, **{"Cache-Control": "max-stale"})[1] == 1


@pytest.mark.parametrize(
    "directive", ["must-revalidate", "proxy-revalidate", "s-maxage=60", "no-cache"]
)
def test_s4_2_4_never_serve_stale_when_forbidden(directive: str) -> None:
    url = f'/r?h-Cache-Control=max-age=60, {directive}&h-ETag="e"'
    assert twice(url, 70, **{"Cache-Control": "max-stale=1000"})[1] == 2


def test_s5_2_1_7_only_if_cached_gives_504_when_not_stored() -> None:
    app, _, _, calls = make_app()
    response = app.test_client().get(URL, headers={"Cache-Control": "only-if-cached"})
    assert response.status_code == 504
    assert calls["n"] == 0


def test_s5_2_1_7_only_if_cached_served_from_store() -> None:
    response, calls = twice(URL, 1, **{"Cache-Control": "only-if-cached"})
    assert response.status_code == 200
    assert calls == 1


def test_s4_2_4_revalidation_required_and_impossible_gives_504() -> None:
    url = "/r?h-Cache-Control=max-age=60, must-revalidate"
    response, calls = twice(url, 70, **{"Cache-Control": "only-if-cached"})
    assert response.status_code == 504
    assert calls == 1


def test_s5_2_2_4_response_no_cache_validates_every_time() -> None:
    assert twice('/r?h-Cache-Control=no-cache, max-age=60&h-ETag="e"', 1)[1] == 2


def test_s5_2_request_controls_cache_false_ignores_request_directives() -> None:
    app, _, _clock, calls = make_app(request_controls_cache=False)
    client = app.test_client()
    client.get(URL)
    client.get(URL, headers={"Cache-Control": "no-cache"})
    assert calls["n"] == 1


def test_rfc8246_immutable_is_stored_and_served_fresh() -> None:
    assert twice("/r?h-Cache-Control=max-age=60, immutable", 30)[1] == 1


def test_rfc5861_s3_stale_while_revalidate_refreshes_once_in_background() -> None:
    app, store, clock, calls = make_app()
    jobs: Jobs = store.config.background
    client = app.test_client()
    url = "/r?h-Cache-Control=max-age=10, stale-while-revalidate=30"
    client.get(url)
    clock.advance(15)
    for _ in range(3):
        response = client.get(url)
        assert response.data == b"body 1"
        assert "detail=stale-while-revalidate" in response.headers["Cache-Status"]
    assert len(jobs.queued) == 1
    assert calls["n"] == 1
    assert jobs.run_all() == 1
    assert calls["n"] == 2
    fresh = client.get(url)
    assert fresh.data == b"body 2"
    assert "hit" in fresh.headers["Cache-Status"]


def test_rfc5861_s3_stale_while_revalidate_window_ends() -> None:
    url = "/r?h-Cache-Control=max-age=10, stale-while-revalidate=30"
    assert twice(url, 50)[1] == 2


def test_rfc5861_s4_stale_if_error_on_5xx() -> None:
    app, _, clock, _calls = make_app()
    client = app.test_client()
    url = "/r?fail=503&h-Cache-Control=max-age=10, stale-if-error=60"
    client.get(url)
    clock.advance(20)
    response = client.get(url)
    assert response.status_code == 200
    assert response.data == b"body 1"
    assert "detail=stale-if-error" in response.headers["Cache-Status"]
    clock.advance(60)
    assert client.get(url).status_code == 503


def test_rfc5861_s4_stale_if_error_when_the_view_raises() -> None:
    response, _ = twice("/r?fail=raise&h-Cache-Control=max-age=10, stale-if-error=60", 20)
    assert response.status_code == 200
    assert response.data == b"body 1"


def test_rfc5861_s4_stale_if_error_from_the_request() -> None:
    url = "/r?fail=503&h-Cache-Control=max-age=10"
    response, _ = twice(url, 20, **{"Cache-Control": "stale-if-error=30"})
    assert response.data == b"body 1"


def test_s4_2_4_stale_if_error_not_with_must_revalidate() -> None:
    url = "/r?fail=503&h-Cache-Control=max-age=10, stale-if-error=60, must-revalidate"
    assert twice(url, 20)[0].status_code == 503


def test_s5_2_2_4_no_cache_with_validator_is_stored_and_revalidated() -> None:
    app, _store, _clock, calls = make_app()
    client = app.test_client()
    url = '/r?h-Cache-Control=no-cache&h-ETag="abcd"'
    assert "stored" in client.get(url).headers["Cache-Status"]
    second = client.get(url)
    assert calls["n"] == 2
    assert "fwd=stale" in second.headers["Cache-Status"]
