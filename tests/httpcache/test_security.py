"""RFC 9111 §7 security: no user sees another's data, no poisoning, no 500 from garbage."""

from __future__ import annotations

import string
from typing import Any

from flask import Flask, request, session
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.middleware.proxy_fix import ProxyFix

from .helpers import cached_app


def make_app() -> tuple[Flask, Any]:
    app, store, _clock = cached_app()
    app.config["SECRET_KEY"] = "test"
    app.config["TRUSTED_HOSTS"] = None

    @app.route("/login/<user>")
    def login(user: str) -> str:
        session["user"] = user
        return "ok"

    @app.route("/me")
    def me() -> Any:
        return f"hello {session.get('user')}", 200, {"Cache-Control": "max-age=60"}

    @app.route("/auth")
    def auth() -> Any:
        return (
            f"secret of {request.headers.get('Authorization')}",
            200,
            {"Cache-Control": "max-age=60"},
        )

    @app.route("/cookie")
    def cookie() -> Any:
        user = request.headers.get("X-User", "nobody")
        public = request.args.get("cc", "max-age=60")
        return "cookie", 200, {"Cache-Control": public, "Set-Cookie": f"sid={user}-secret"}

    @app.route("/link")
    def link() -> Any:
        return f"<a href='//{request.host}/x'>", 200, {"Cache-Control": "max-age=60"}

    @app.route("/fuzz")
    def fuzz() -> Any:
        headers = {k[2:]: v for k, v in request.args.items() if k.startswith("h-")}
        return "fuzz body", 200, headers

    return app, store


def test_s7_session_response_never_served_to_another_user() -> None:
    app, _ = make_app()
    ann, bob = app.test_client(), app.test_client()
    ann.get("/login/ann")
    bob.get("/login/bob")
    assert ann.get("/me").data == b"hello ann"
    assert bob.get("/me").data == b"hello bob"
    assert ann.get("/me").headers["Cache-Status"].startswith("flask-httpcache; hit")
    anonymous = app.test_client()
    assert anonymous.get("/me").data == b"hello None"


def test_s3_5_authorization_response_never_served_to_another_user() -> None:
    app, _ = make_app()
    client = app.test_client()
    first = client.get("/auth", headers={"Authorization": "Bearer ann"})
    assert first.data == b"secret of Bearer ann"
    assert client.get("/auth").data == b"secret of None"
    assert client.get("/auth", headers={"Authorization": "Bearer bob"}).data == (
        b"secret of Bearer bob"
    )


def test_s7_3_set_cookie_of_one_user_never_reaches_another() -> None:
    app, _ = make_app()
    for url in ("/cookie", "/cookie?cc=public,max-age=60"):
        ann = app.test_client().get(url, headers={"X-User": "ann"})
        assert "ann-secret" in ann.headers["Set-Cookie"]
        for _ in range(2):
            bob = app.test_client().get(url, headers={"X-User": "bob"})
            assert "ann-secret" not in str(bob.headers)


def test_s7_1_host_header_cannot_poison_other_hosts() -> None:
    app, _ = make_app()
    client = app.test_client()
    evil = client.get("/link", headers={"Host": "evil.example"})
    assert b"evil.example" in evil.data
    assert b"evil.example" not in client.get("/link").data


def test_s7_1_x_forwarded_host_without_proxyfix_is_not_trusted() -> None:
    app, _ = make_app()
    client = app.test_client()
    client.get("/link", headers={"X-Forwarded-Host": "evil.example"})
    assert b"evil.example" not in client.get("/link").data


def test_s7_1_x_forwarded_host_with_proxyfix_is_part_of_the_key() -> None:
    app, _ = make_app()
    app.wsgi_app = ProxyFix(app.wsgi_app, x_host=1)  # type: ignore[method-assign]
    client = app.test_client()
    poisoned = client.get("/link", headers={"X-Forwarded-Host": "evil.example"})
    assert b"evil.example" in poisoned.data
    assert b"evil.example" not in client.get("/link").data


garbage = st.text(alphabet=string.printable.replace("\n", "").replace("\r", ""), max_size=40)
HEADERS = [
    "Cache-Control",
    "If-None-Match",
    "If-Modified-Since",
    "If-Match",
    "If-Unmodified-Since",
    "If-Range",
    "Range",
    "Pragma",
]
RESPONSE_HEADERS = ["Cache-Control", "Vary", "Age", "Expires", "Date", "Last-Modified", "ETag"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    request_headers=st.dictionaries(st.sampled_from(HEADERS), garbage, max_size=4),
    response_headers=st.dictionaries(st.sampled_from(RESPONSE_HEADERS), garbage, max_size=4),
    method=st.sampled_from(["GET", "HEAD", "POST", "GET"]),
)
def test_s7_garbage_headers_never_give_500(
    request_headers: dict[str, str], response_headers: dict[str, str], method: str
) -> None:
    app, _ = make_app()
    app.add_url_rule("/fuzz", "fuzz_any", lambda: "x", methods=["POST"])
    client = app.test_client()
    query = "&".join(f"h-{k}={v}" for k, v in response_headers.items())
    from urllib.parse import quote

    query = "&".join(f"h-{k}={quote(v)}" for k, v in response_headers.items())
    for _ in range(2):
        response = client.open("/fuzz?" + query, method=method, headers=request_headers)
        assert response.status_code < 500


def test_s7_backend_failure_means_pass_through() -> None:
    class Broken:
        default_timeout = 300

        def __getattr__(self, name: str) -> Any:
            def fail(*args: Any, **kwargs: Any) -> Any:
                raise ConnectionError("backend down")

            return fail

    from cachelib import BaseCache

    class BrokenCache(BaseCache):
        def get(self, key: str) -> Any:
            raise ConnectionError("down")

        def set(self, key: str, value: Any, timeout: Any = None) -> bool:
            raise ConnectionError("down")

        def delete(self, key: str) -> bool:
            raise ConnectionError("down")

        def add(self, key: str, value: Any, timeout: Any = None) -> bool:
            raise ConnectionError("down")

    from flask_httpcache import easy_setup

    app = Flask(__name__)

    @app.route("/")
    def index() -> Any:
        return "ok", 200, {"Cache-Control": "max-age=60"}

    easy_setup(app, BrokenCache())
    client = app.test_client()
    for _ in range(8):
        assert client.get("/").status_code == 200
        assert client.post("/").status_code in (200, 405)
    assert Broken  # the plain class is unused on purpose: only BaseCache subclasses are caches
