"""A stored value that fails to decode or to validate is a miss and one log line, for every
serializer, on a real Redis and in a FileSystemCache directory: never a 500, never code run
in signed mode.

The junk is written straight into the backend, under the keys the app itself wrote (so no key
format is assumed here): the view's and the memoized function's value and version keys, and
httpcache's index.
"""

from __future__ import annotations

import logging
import pickle
import struct
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from flask_cachecore import make_backend, make_serializer

# these tests go through the extensions, which flask-cachecore's sdist does not install
pytest.importorskip("flask_httpcache")
pytest.importorskip("flask_viewcache")

from flask_httpcache import Store, StoredResponse
from flask_httpcache.store import Index
from flask_viewcache import Cache

SERIALIZERS = ["pickle", "json", "signed-pickle"]
SECRET = "corruption-test-secret"


class CreatesFile:
    """A pickle that, once unpickled, has created a file: what an attacker who can write to
    the cache server would store."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self) -> tuple[Any, tuple[str, str]]:
        return (open, (self.path, "w"))


def junk_values(serializer: str, original: bytes, evil_path: Path) -> list[tuple[str, bytes]]:
    """``(name, raw bytes)`` to write over a stored value made by ``serializer``."""
    signed = make_serializer({"CACHE_SERIALIZER": "signed-pickle", "SECRET_KEY": SECRET})
    values = [
        ("empty", b""),
        ("garbage", b"garbage\xff\xfe\x00"),
        ("truncated", original[: max(1, len(original) // 2)]),
        ("broken-pickle", b"!\x80\x05garbage"),
        ("forged-signature", b"~" + b"0" * 32 + pickle.dumps("x")),
        ("broken-json", b'["vc1", [1, 2'),
        ("json-scalar", b'{"a": 1}'),
        ("json-versions-not-a-list", b'["vc1", "page", 5, 0]'),
        ("json-status-999", b'["vc1", ["__vc_response__", 999, [], "x"], [], 0]'),
        ("json-headers-not-pairs", b'["vc1", ["__vc_response__", 200, "h", "x"], [], 0]'),
        ("json-bad-abort", b'["vc1", ["__vc_abort__", "x", 1, 2], [], 0]'),
        ("json-fresh-until-text", b'["vc1", "page", [], "soon"]'),
        ("huge-int", b"9" * 5000),
        (
            "pickle-status-999",
            b"!" + pickle.dumps(("vc1", ("__vc_response__", 999, (), "x"), (), 0)),
        ),
        ("signed-wrong-types", signed.dumps(("vc1", ("__vc_response__", 200, None, 5), (), 0))),
        ("signed-index-wrong-types", signed.dumps(Index(generation=5, vary="x", variants=3))),  # type: ignore[arg-type]
    ]
    if serializer != "pickle":  # unsigned pickle runs code by design (see its docstring)
        evil = pickle.dumps(CreatesFile(str(evil_path)))
        values += [
            ("file-creating-pickle", b"!" + evil),
            ("file-creating-forged", b"~" + b"1" * 32 + evil),
        ]
    return values


class RawBackend:
    """Reads and writes the raw bytes behind a backend's keys."""

    def __init__(self, items: Callable[[], dict[Any, bytes]], write: Callable[[Any, bytes], None]):
        self.items = items
        self.write = write

    def overwrite_all(self, raw: bytes) -> None:
        for name in self.items():
            self.write(name, raw)

    def one_value(self) -> bytes:
        return max(self.items().values(), key=len)


def redis_raw(url: str, prefix: str) -> RawBackend:
    import redis

    client = redis.Redis.from_url(url)

    def items() -> dict[Any, bytes]:
        return {key: client.get(key) or b"" for key in client.scan_iter(match=prefix + "*")}

    return RawBackend(items, lambda key, raw: client.set(key, raw))


def filesystem_raw(directory: Path) -> RawBackend:
    header = struct.pack("I", 0)  # cachelib's expiry field: never expires

    def items() -> dict[Any, bytes]:
        return {
            path: path.read_bytes()[4:]
            for path in directory.iterdir()
            if path.is_file() and not path.name.startswith("__wz_cache")
        }

    return RawBackend(items, lambda path, raw: path.write_bytes(header + raw))


@pytest.fixture(params=["redis", "filesystem"])
def backend(
    request: pytest.FixtureRequest, tmp_path: Path, unique_prefix: str
) -> Iterator[tuple[dict[str, Any], RawBackend]]:
    if request.param == "redis":
        url = request.getfixturevalue("redis_url")
        config = {
            "CACHE_TYPE": "RedisCache",
            "CACHE_REDIS_URL": url,
            "CACHE_KEY_PREFIX": unique_prefix,
        }
        raw = redis_raw(url, unique_prefix)
        yield config, raw
        import redis

        client = redis.Redis.from_url(url)
        for key in client.scan_iter(match=unique_prefix + "*"):
            client.delete(key)
    else:
        directory = tmp_path / "cache"
        directory.mkdir()
        yield (
            {"CACHE_TYPE": "FileSystemCache", "CACHE_DIR": str(directory)},
            filesystem_raw(directory),
        )


def corrupted_app(config: dict[str, Any]) -> tuple[Flask, list[str]]:
    app = Flask(__name__)
    app.config.update(SECRET_KEY=SECRET, **config)
    cache = Cache(app)
    runs: list[str] = []

    @cache.memoize(timeout=60)
    def square(n: int) -> str:
        runs.append("memo")
        return f"square {n * n}"

    @app.get("/page")
    @cache.cached(timeout=60)
    def page() -> str:
        runs.append("page")
        return "fresh page"

    @app.get("/memo")
    def memo() -> str:
        return square(3)

    return app, runs


def our_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name.startswith("flask_")]


@pytest.mark.parametrize("serializer", SERIALIZERS)
def test_junk_in_the_backend_is_a_miss_and_one_log_line(
    backend: tuple[dict[str, Any], RawBackend],
    serializer: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    config, raw = backend
    app, runs = corrupted_app({**config, "CACHE_SERIALIZER": serializer})
    client = app.test_client()
    assert client.get("/page").data == b"fresh page"
    assert client.get("/memo").data == b"square 9"
    original = raw.one_value()
    evil_path = tmp_path / "created-by-the-cache"
    for name, junk in junk_values(serializer, original, evil_path):
        raw.overwrite_all(junk)
        runs.clear()
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            page, memo = client.get("/page"), client.get("/memo")
        assert (page.status_code, page.data) == (200, b"fresh page"), name
        assert (memo.status_code, memo.data) == (200, b"square 9"), name
        assert sorted(runs) == ["memo", "page"], name  # a miss: both ran again
        records = our_records(caplog)
        # one line per bad value read, without a traceback: on Redis the reads are the page's
        # key and the memo's value and version keys (cachelib's FileSystemCache reads the
        # files again when it writes, so the count there is its own)
        if "CACHE_REDIS_URL" in config:
            assert len(records) <= 3, (name, [r.getMessage() for r in records])
        assert not any(r.exc_info or "\n" in r.getMessage() for r in records), name
        assert not evil_path.exists(), name


@pytest.mark.parametrize("serializer", SERIALIZERS)
def test_junk_under_an_httpcache_key_is_a_miss(
    backend: tuple[dict[str, Any], RawBackend],
    serializer: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    config, raw = backend
    prefixed = {"HTTPCACHE_" + k[len("CACHE_") :]: v for k, v in config.items()}
    prefixed.update(HTTPCACHE_SERIALIZER=serializer, SECRET_KEY=SECRET)
    store = Store(make_backend(prefixed, prefix="HTTPCACHE_"))
    uri_key = store.uri_key("http", "example.com", "/item", "")
    entry = StoredResponse(
        status=200,
        headers=[("Content-Type", "text/plain")],
        body=b"item",
        request_time=0.0,
        response_time=0.0,
        date=0.0,
        age=0,
        lifetime=60,
        directives={},
    )
    if serializer != "json":  # JSON cannot hold a stored response: nothing is ever stored
        assert store.save(uri_key, entry, 0.0)
        assert store.lookup(uri_key, lambda name: None)[0] == entry
    else:
        store.cache.set(uri_key, ["an", "index"])
    evil_path = tmp_path / "created-by-the-cache"
    for name, junk in junk_values(serializer, raw.one_value(), evil_path):
        raw.overwrite_all(junk)
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            assert store.lookup(uri_key, lambda name: None) == (None, "uri-miss"), name
        records = our_records(caplog)
        assert len(records) <= 1, (name, [r.getMessage() for r in records])
        assert not evil_path.exists(), name


def test_a_pickled_response_of_the_wrong_field_types_is_a_miss() -> None:
    store = Store(make_backend({"CACHE_TYPE": "SimpleCache"}))
    uri_key = store.uri_key("http", "example.com", "/item", "")
    broken = StoredResponse(
        status="200",
        headers=None,
        body="item",
        request_time=0.0,  # type: ignore[arg-type]
        response_time=0.0,
        date=0.0,
        age=0,
        lifetime=60,
        directives={},
    )
    store.cache.set(uri_key, Index("g", (), broken))
    assert store.lookup(uri_key, lambda name: None) == (None, "uri-miss")
