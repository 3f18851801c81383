"""Poisoning and malformed requests over a raw socket to a real gunicorn (gthread workers):
what a test client cannot send (absolute-form targets, a ``SCRIPT_NAME`` field, which
gunicorn applies for the addresses it trusts, loopback by default; bytes beyond ASCII,
overlong fields, bad percent-encoding). An attacker's request first, then a victim's, which
must get the page the app gives its own request; and no malformed request gets a 5xx.
"""

from __future__ import annotations

import random
import socket
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.slow

APP_SOURCE = """
import os

from flask import Flask, request

from flask_httpcache import Config, HTTPCache, easy_setup

app = Flask(__name__)
HEADERS = {"Cache-Control": "max-age=600"}


@app.route("/item/<name>")
def item(name):
    return f"item {name!r} ref={request.args.get('ref')!r}", 200, HEADERS


@app.route("/page")
def page():
    return f"page of {request.host} by {request.scheme}", 200, HEADERS


@app.route("/shoe")
def shoe():
    return "the shoe route", 200, HEADERS


@app.route("/key")
def key():
    return f"key {request.headers.get('X-Api-Key')!r}", 200, {**HEADERS, "Vary": "X-Api-Key"}


mode = os.environ["HTTPCACHE_TEST_MODE"]
if mode == "extension-middleware":
    app.config["HTTPCACHE_MIDDLEWARE"] = True
    HTTPCache(app)
else:
    easy_setup(app, config=Config(hit_lane=mode == "handlers"))
"""
CONFIGS = ["handlers", "handlers-no-lane", "extension-middleware"]


def send(server: Any, head: bytes) -> tuple[int, bytes]:
    """Send one request (``head`` without the final blank line) and read the whole answer:
    its status (0 when the server closed without one) and body."""
    address = urlsplit(server.url)
    with socket.create_connection((address.hostname, address.port), timeout=10) as sock:
        sock.sendall(head + b"\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    if not data.startswith(b"HTTP/1."):
        return 0, data
    status = int(data.split(b" ", 2)[1])
    return status, data.partition(b"\r\n\r\n")[2]


def get(server: Any, target: str, host: str = "victim.example", *fields: str) -> bytes:
    head = f"GET {target} HTTP/1.1\r\nHost: {host}".encode()
    for line in fields:
        head += b"\r\n" + line.encode()
    status, body = send(server, head)
    assert status == 200, (target, status, body[:200])
    return body


@pytest.fixture(params=CONFIGS)
def server(request: pytest.FixtureRequest, gunicorn: Callable[..., Any]) -> Any:
    return gunicorn(APP_SOURCE, threads=2, env={"HTTPCACHE_TEST_MODE": request.param})


def test_s7_1_attackers_requests_never_reach_a_victims_page(server: Any) -> None:
    cases = [
        # absolute-form targets: the Host field is what the app and the key see
        (("GET", "http://other.example/page", "victim.example"), "/page", b"page of victim."),
        (("GET", "http://victim.example/page", "other.example"), "/page", b"page of victim."),
        # an encoded "?", an escaped "%", a NUL, ".." are path characters, not separators
        (("GET", "/item/shoe%3Fref=evil", "victim.example"), "/item/shoe?ref=evil", b"'evil'"),
        (("GET", "/item/a%253F", "victim.example"), "/item/a%3F", b"item 'a?'"),
        (("GET", "/item/shoe%00", "victim.example"), "/item/shoe", b"item 'shoe' ref=None"),
        (("GET", "/item/../shoe", "victim.example"), "/shoe", b"the shoe route"),
        # a Host with a path in it
        (("GET", "/shoe", "victim.example/item"), "/item/shoe", b"item 'shoe' ref=None"),
    ]
    for (method, target, host), victim, expected in cases:
        for _ in range(2):
            send(server, f"{method} {target} HTTP/1.1\r\nHost: {host}".encode())
        for _ in range(2):
            body = get(server, victim)
            assert expected in body, (target, host, victim, body)


def test_s7_1_a_script_name_field_keys_apart_from_the_path(server: Any) -> None:
    """gunicorn applies a ``SCRIPT_NAME`` request field from the addresses it trusts: the
    app then routes ``/shoe`` for ``GET /item/shoe``, which must not fill the key of
    ``/item/shoe`` as a root-mounted app sees it."""
    for _ in range(2):
        assert get(server, "/item/shoe", "victim.example", "SCRIPT_NAME: /item") == (
            b"the shoe route"
        )
    assert get(server, "/item/shoe") == b"item 'shoe' ref=None"


def test_s4_1_vary_over_a_real_server_keeps_case_and_duplicates(server: Any) -> None:
    for _ in range(2):
        assert get(server, "/key", "v.example", "X-Api-Key: SecretAlice") == b"key 'SecretAlice'"
    assert get(server, "/key", "v.example", "X-Api-Key: SECRETALICE") == b"key 'SECRETALICE'"
    joined = get(server, "/key", "v.example", "X-Api-Key: SecretAlice", "X-Api-Key: b")
    assert joined != b"key 'SecretAlice'"
    assert get(server, "/key", "v.example", "X-Api-Key: SecretAlice") == b"key 'SecretAlice'"


def test_s4_head_first_then_get_gets_the_whole_page(server: Any) -> None:
    for _ in range(2):
        status, body = send(server, b"HEAD /item/boot HTTP/1.1\r\nHost: victim.example")
        assert status == 200
        assert body == b""
    assert get(server, "/item/boot") == b"item 'boot' ref=None"


#: malformed requests that servers and clients are known to stumble on
MALFORMED = [
    b"GET /item/%ff%fe HTTP/1.1\r\nHost: v",
    b"GET /item/shoe?ref=%ff&%zz=%&=%C3%28 HTTP/1.1\r\nHost: v",
    b"GET /item/%zz%%/%0 HTTP/1.1\r\nHost: v",
    b"GET /item/%00%0d%0a HTTP/1.1\r\nHost: v",
    b"GET /key HTTP/1.1\r\nHost: v\r\nX-Api-Key: \xff\xfe\x80",
    b"GET /key HTTP/1.1\r\nHost: v\r\nAccept-Encoding: \xc3\x28, gzip",
    b"GET /page HTTP/1.1\r\nHost: \xff\xfe.example",
    b"GET /page HTTP/1.1\r\nHost: v:99999",
    b"GET /page HTTP/1.1\r\nHost: [::1",
    b"GET /page HTTP/1.1\r\nHost: v\r\nHost: w",
    b'GET /page HTTP/1.1\r\nHost: v\r\nCache-Control: max-age=\xff, "unterminated',
    b"GET /page HTTP/1.1\r\nHost: v\r\nIf-None-Match: \xff\r\nIf-Modified-Since: \xff",
    b"GET /page HTTP/1.1\r\nHost: v\r\nRange: bytes=\xff-",
    b"GET /page HTTP/1.1\r\nHost: v\r\nX-Long: " + b"a" * 8000,
    b"GET /" + b"a" * 5000 + b" HTTP/1.1\r\nHost: v",
    b"GET /item/\xff HTTP/1.1\r\nHost: v",
    b"GET http://\xff/page HTTP/1.1\r\nHost: v",
    b"GET * HTTP/1.1\r\nHost: v",
    b"GET page HTTP/1.1\r\nHost: v",
    b"GET /page HTTP/1.0",
]


def fuzzed_requests(count: int, seed: int = 8) -> list[bytes]:
    """Requests built from random bytes in the path, the query and one field (a fixed seed:
    the same requests on every run)."""
    rng = random.Random(seed)
    pieces = [b"%", b"%f", b"%ff", b"%3F", b"%2F", b"%00", b"..", b"/", b"?", b"#", b";", b"&"]
    pieces += [bytes([byte]) for byte in (0x80, 0xC3, 0xFF, 0x7F, 0x20, 0x09, 0x00)]

    def noise() -> bytes:
        return b"".join(rng.choice(pieces) + bytes([rng.randrange(0x21, 0x7F)]) for _ in range(6))

    fields = [b"X-Api-Key", b"Accept-Encoding", b"Cache-Control", b"If-None-Match", b"Host"]
    return [
        b"GET /item/"
        + noise()
        + b"?"
        + noise()
        + b" HTTP/1.1\r\nHost: v\r\n"
        + rng.choice(fields)
        + b": "
        + noise()
        for _ in range(count)
    ]


def test_s7_malformed_requests_never_get_a_5xx(server: Any) -> None:
    statuses: dict[int, int] = {}
    for head in MALFORMED + fuzzed_requests(80):
        for _ in range(2):  # the second may be a hit of the first
            status, body = send(server, head)
            assert not 500 <= status < 600, (head[:120], status, body[:300])
            statuses[status] = statuses.get(status, 0) + 1
        assert get(server, "/item/shoe?ref=ok") == b"item 'shoe' ref='ok'"
    assert "Traceback" not in server.log.read_text(errors="replace")
    assert statuses.get(200, 0) > 0  # some of them reached the app and its cache
