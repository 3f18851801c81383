"""flask_cachecore.compat: the one module that reads private names of Flask, Werkzeug and
cachelib, each with a public fallback."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from flask import Flask, session
from werkzeug.datastructures import Headers

from flask_cachecore import compat

ROOT = Path(__file__).resolve().parents[2]
# the monorepo's sources, or those of the package's sdist (its src/ at its root)
SOURCES = [ROOT / "shared" / "src", ROOT / "src", *sorted((ROOT / "packages").glob("*/src"))]
SOURCES = [path for path in SOURCES if path.is_dir()]
PRIVATE_NAMES = {
    "_cv_request",
    "_cv_app",
    "request_ctx",
    "_session",
    "_got_first_request",
    "_list",
    "_write_client",
    "_read_client",
    "_get_prefix",
}


def test_no_module_but_compat_reads_a_private_name_of_flask_werkzeug_or_cachelib() -> None:
    offenders = []
    for src in SOURCES:
        for path in src.rglob("*.py"):
            if path.name == "compat.py" and path.parent.name == "flask_cachecore":
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                name = None
                if isinstance(node, ast.Attribute):
                    name = node.attr
                elif isinstance(node, ast.alias):
                    name = node.name
                elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                    name = node.value
                if name in PRIVATE_NAMES:
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}: {name}")
    assert offenders == []


def test_request_context_and_app_are_found_and_none_outside() -> None:
    app = Flask(__name__)
    assert compat.current_request_context() is None
    assert compat.current_app_or_none() is None
    with app.test_request_context("/x?y=1"):
        ctx = compat.current_request_context()
        assert ctx is not None
        assert ctx.app is app
        assert ctx.request.path == "/x"
        assert compat.current_app_or_none() is app
    with app.app_context():
        assert compat.current_request_context() is None
        assert compat.current_app_or_none() is app


def test_public_fallback_of_the_request_context_gives_app_and_request() -> None:
    app = Flask(__name__)
    with app.test_request_context("/p"):
        ctx = compat._request_context_public()
        assert ctx is not None
        assert (ctx.app, ctx.request.path) == (app, "/p")
        # no private state: the session cannot be looked at without opening it
        assert compat.opened_session(ctx) is None
    assert compat._request_context_public() is None


def test_opened_session_looks_without_marking_the_session_accessed() -> None:
    app = Flask(__name__)
    app.secret_key = "k"
    with app.test_request_context("/"):
        ctx = compat.current_request_context()
        before = compat.opened_session(ctx)
        assert before is None or not before.accessed
        session.get("user")
        after = compat.opened_session(ctx)
        assert after is not None
        assert after.accessed


def test_header_fields_round_trip() -> None:
    fields = [("Content-Type", "text/plain"), ("X-A", "1")]
    headers = compat.headers_from_fields(list(fields))
    assert isinstance(headers, Headers)
    assert headers["x-a"] == "1"
    assert list(compat.header_fields(headers)) == fields


def test_has_handled_a_request() -> None:
    app = Flask(__name__)
    app.add_url_rule("/", "i", lambda: "ok")
    assert compat.has_handled_a_request(app) is False
    app.test_client().get("/")
    assert compat.has_handled_a_request(app) is True


def test_redis_names_fall_back_on_public_attributes() -> None:
    class NotCachelib:
        key_prefix = "p:"

    other = NotCachelib()
    assert compat.redis_write_client(other) is None
    assert compat.redis_read_client(other) is None
    assert compat.redis_key_prefix(other) == "p:"
    other.key_prefix = lambda: "q:"  # type: ignore[assignment,method-assign]
    assert compat.redis_key_prefix(other) == "q:"


def test_wall_time_reads_the_patched_cachelib_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("cachelib.simple.time", lambda: 42.0)
    assert compat.wall_time() == 42.0


def test_requests_keep_setup_open_puts_the_first_request_flag_back() -> None:
    app = Flask(__name__)
    app.add_url_rule("/", "index", lambda: "ok")
    with compat.requests_keep_setup_open(app):
        assert app.test_client().get("/").status_code == 200
    assert not compat.has_handled_a_request(app)
    app.add_url_rule("/later", "later", lambda: "later")  # set-up still open
    app.test_client().get("/")
    with compat.requests_keep_setup_open(app):
        app.test_client().get("/")
    assert compat.has_handled_a_request(app)  # a real first request is never forgotten
