"""Path traversal: no spelling of a path outside the static folder is ever served, and none
gives a 5xx. Each path of the corpus is tried bare, under the current version and (digest mode)
against a digest-mode app, through the test client and through a real server's raw bytes."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
from flask import Flask

from flask_staticbust import get_state

from .helpers import make_app

SECRET = "TOP-SECRET-CONTENT"

CORPUS = [
    "../secret.txt",
    "../../secret.txt",
    "css/../../secret.txt",
    "%2e%2e/secret.txt",
    "%2e%2e%2fsecret.txt",
    "..%2fsecret.txt",
    "%2E%2E%2Fsecret.txt",
    "%252e%252e%252fsecret.txt",
    "%252e%252e/secret.txt",
    "..%252fsecret.txt",
    "..\\secret.txt",
    "..%5csecret.txt",
    "css\\..\\..\\secret.txt",
    "%5c..%5c..%5csecret.txt",
    "....//secret.txt",
    "..;/secret.txt",
    "%c0%ae%c0%ae/secret.txt",
    "%e0%80%ae%e0%80%ae/secret.txt",
    "/etc/passwd",
    "%2fetc%2fpasswd",
    "%2Fetc/passwd",
    "C:\\Windows\\win.ini",
    "css/app.css%00.txt",
    "css/app.css%00",
    "%00../secret.txt",
    "link_out/secret.txt",
    "file_link.txt",
    "css/%2e%2e/%2e%2e/secret.txt",
    "~/secret.txt",
    "%u002e%u002e/secret.txt",
]


def traversal_app(tmp_path: Path, **config: object) -> Flask:
    (tmp_path / "secret.txt").write_text(SECRET)
    (tmp_path / "app").mkdir(exist_ok=True)
    (tmp_path / "app" / "secret.txt").write_text(SECRET)
    app = make_app(tmp_path, {"css/app.css": "body {}"}, init=False, **config)
    static = Path(app.static_folder or "")
    (static / "link_out").symlink_to(tmp_path, target_is_directory=True)
    (static / "file_link.txt").symlink_to(tmp_path / "secret.txt")
    from flask_staticbust import StaticBust

    StaticBust(app)
    return app


def prefixes(app: Flask) -> list[str]:
    folder = get_state(app).folder("static")
    assert folder is not None
    version = folder.ensure().version
    return ["/static/"] + ([f"/static/{version}/"] if version else [])


@pytest.mark.parametrize("mode", ["route", "symlink", "digest"])
def test_corpus_is_404_through_the_test_client(tmp_path: Path, mode: str) -> None:
    app = traversal_app(tmp_path, STATICBUST_MODE=mode)
    client = app.test_client()
    for prefix in prefixes(app):
        for path in CORPUS:
            # Werkzeug's routing answers "//" with a 308 to the merged path: followed, still 404.
            response = client.get(prefix + path, follow_redirects=True)
            assert response.status_code == 404, (prefix + path, response.status_code)
            assert SECRET.encode() not in response.data


def test_outside_symlinks_are_not_part_of_the_version(tmp_path: Path) -> None:
    app = traversal_app(tmp_path)
    before = prefixes(app)[1]
    (tmp_path / "secret.txt").write_text(SECRET + " changed")
    again = make_app(tmp_path / "other", {"css/app.css": "body {}"})
    assert prefixes(again)[1].split("/")[2] == before.split("/")[2]


def raw_get(url: str, target: str) -> bytes:
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(
            f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode("latin-1")
        )
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


@pytest.mark.slow
def test_corpus_over_raw_http_never_serves_the_secret_nor_5xx(tmp_path: Path, gunicorn) -> None:  # type: ignore[no-untyped-def]
    app = traversal_app(tmp_path)
    version = prefixes(app)[1]
    server = gunicorn(
        f"""
        from flask import Flask
        from flask_staticbust import StaticBust
        app = Flask("served", root_path={str(tmp_path / "app")!r},
                    instance_path={str(tmp_path / "instance")!r})
        StaticBust(app)
        """
    )
    for prefix in ("/static/", version):
        for path in CORPUS:
            answer = raw_get(server.url, prefix + path)
            status = answer.split(b" ", 2)[1]
            assert status in (b"404", b"400", b"308"), (prefix + path, answer[:200])
            assert SECRET.encode() not in answer
    assert b" 200 " in raw_get(server.url, version + "css/app.css")[:20]
    assert os.path.exists(tmp_path / "secret.txt")
