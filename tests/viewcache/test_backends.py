"""Real backends: one Redis command per memoize hit, invalidation seen by every process
that shares the backend, Redis Cluster slots, Memcached, files, the threshold bound."""

from __future__ import annotations

import itertools
import pickle
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from flask_viewcache import Cache


def commands(url: str) -> dict[str, int]:
    import redis

    client = redis.Redis.from_url(url)
    try:
        stats = client.info("commandstats")
    finally:
        client.close()
    return {
        name.removeprefix("cmdstat_"): int(value["calls"])
        for name, value in stats.items()
        # the INFO/CONFIG/CLIENT/HELLO commands of this test's own connections do not count
        if name.removeprefix("cmdstat_").split("|")[0] not in ("info", "config", "client", "hello")
    }


def reset_commands(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    client.config_resetstat()
    client.close()


def memoized_app(config: dict[str, Any]) -> tuple[Flask, Cache, Any]:
    app = Flask(__name__)
    app.config.update(config)
    cache = Cache(app)
    numbers = itertools.count(1)

    @cache.memoize(tags=["numbers"])
    def number(n: int) -> tuple[int, int]:
        return n, next(numbers)

    return app, cache, number


@pytest.mark.redis
def test_a_memoize_hit_is_one_redis_command(own_redis: Any) -> None:
    app, _, number = memoized_app(
        {"CACHE_TYPE": "RedisCache", "CACHE_REDIS_URL": own_redis.url, "CACHE_KEY_PREFIX": "p:"}
    )
    with app.app_context():
        reset_commands(own_redis.url)
        number(1)  # the first miss also creates the versions, pipelined with the value
        assert commands(own_redis.url) == {"mget": 1, "set": 3}
        reset_commands(own_redis.url)
        number(1)
        assert commands(own_redis.url) == {"mget": 1}
        reset_commands(own_redis.url)
        for _ in range(10):
            number(1)
        assert commands(own_redis.url) == {"mget": 10}
        reset_commands(own_redis.url)
        number(2)  # a miss once the versions exist: one read, one write
        assert commands(own_redis.url) == {"mget": 1, "set": 1}


@pytest.mark.redis
def test_round_trips_per_hit_and_miss(own_redis: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from redis.connection import Connection

    sent: list[int] = []
    original = Connection.send_packed_command

    def counting(self: Connection, command: Any, check_health: bool = True) -> None:
        sent.append(1)  # one call per round trip: a pipeline sends all its commands at once
        original(self, command, check_health)

    app, _, number = memoized_app(
        {"CACHE_TYPE": "RedisCache", "CACHE_REDIS_URL": own_redis.url, "CACHE_KEY_PREFIX": "p:"}
    )
    with app.app_context():
        number(0)  # connect outside the count (the handshake is not a cache operation)
        monkeypatch.setattr(Connection, "send_packed_command", counting)
        number(1)
        number(1)
        assert len(sent) == 2 + 1  # the first miss (versions created too), then a hit
        number._viewcache_memoized.cache.delete_memoized(number)
        sent.clear()
        number(1)
        assert len(sent) == 2  # a miss: the read, then the pipelined write


@pytest.mark.redis
def test_invalidation_is_seen_by_every_process_sharing_redis(
    redis_config: dict[str, Any],
) -> None:
    # two apps with their own Cache and connections: two processes, as far as state goes
    app_a, cache_a, number_a = memoized_app(redis_config)
    app_b, cache_b, number_b = memoized_app(redis_config)
    with app_a.app_context():
        first = number_a(1)
    with app_b.app_context():
        assert number_b(1) == first  # b reads what a stored
        cache_b.delete_memoized(number_b)
    with app_a.app_context():
        second = number_a(1)
        assert second != first
    with app_b.app_context():
        assert number_b(1) == second
        cache_b.invalidate_tags("numbers")
    with app_a.app_context():
        assert number_a(1) != second
        cache_a.set_many({"a": 1, "b": 2})
        cache_a.unlink("a", "b")
        assert cache_a.get_many("a", "b") == [None, None]
        cache_a.clear()


@pytest.mark.redis_cluster
def test_redis_cluster(redis_cluster_nodes: str, unique_prefix: str) -> None:
    from redis.cluster import RedisCluster

    app, cache, number = memoized_app(
        {
            "CACHE_TYPE": "RedisClusterCache",
            "CACHE_REDIS_CLUSTER": redis_cluster_nodes,
            "CACHE_KEY_PREFIX": unique_prefix,
        }
    )
    with app.app_context():
        first = number(1)
        assert number(1) == first
        memoized = number._viewcache_memoized
        key, version_keys = memoized.keys(cache.store(), (1,), {})
        client: RedisCluster = cache.cache._read_client
        # the value and its function's version share a slot: one MGET
        assert client.keyslot(unique_prefix + key) == client.keyslot(
            unique_prefix + version_keys[0]
        )
        cache.delete_memoized(number)
        second = number(1)
        assert second != first
        cache.invalidate_tags("numbers")
        assert number(1) != second
        cache.set_many({"a": 1, "b": 2, "c": 3})
        cache.unlink("a", "b", "c")
        assert cache.get_many("a", "b", "c") == [None, None, None]
        cache.clear()


@pytest.mark.memcached
def test_memcached(memcached_servers: list[str], unique_prefix: str) -> None:
    app, cache, number = memoized_app(
        {
            "CACHE_TYPE": "MemcachedCache",
            "CACHE_MEMCACHED_SERVERS": memcached_servers,
            "CACHE_KEY_PREFIX": unique_prefix,
        }
    )

    @app.route("/v/<path:rest>")
    @cache.cached(timeout=60)
    def view(rest: str) -> str:
        return f"{rest} {next(counter)}"

    counter = itertools.count(1)
    client = app.test_client()
    long_path = "/v/" + "x" * 400 + " é"  # longer than memcached's key limit, not ASCII
    assert client.get(long_path).data == client.get(long_path).data
    with app.app_context():
        first = number(1)
        assert number(1) == first
        cache.delete_memoized(number, 1)
        second = number(1)
        assert second != first
        cache.delete_memoized(number)
        assert number(1) != second


def test_filesystem_cache_shares_versions_through_files(tmp_path: Path) -> None:
    config = {"CACHE_TYPE": "FileSystemCache", "CACHE_DIR": str(tmp_path)}
    app_a, cache_a, number_a = memoized_app(config)
    app_b, cache_b, number_b = memoized_app(config)
    with app_a.app_context():
        assert cache_a.store().local_versions is None
        first = number_a(1)
    with app_b.app_context():
        assert number_b(1) == first
        cache_b.delete_memoized(number_b)
    with app_a.app_context():
        assert number_a(1) != first


def test_the_in_process_cache_never_holds_more_than_its_threshold() -> None:
    app, cache, number = memoized_app({"CACHE_TYPE": "SimpleCache", "CACHE_THRESHOLD": 10})
    with app.app_context():
        backend = cache.cache
        for n in range(100):
            number(n)
            cache.set(f"plain{n}", n)
            assert len(backend) <= 10
        assert len(backend) == 10


@pytest.mark.redis
def test_signed_serializer_refuses_a_forged_value(redis_config: dict[str, Any]) -> None:
    import redis

    app, cache, number = memoized_app(
        {**redis_config, "CACHE_SERIALIZER": "signed-pickle", "SECRET_KEY": "s3cret"}
    )
    with app.app_context():
        first = number(1)
        assert number(1) == first
        key, _ = number._viewcache_memoized.keys(cache.store(), (1,), {})
        raw = redis.Redis.from_url(redis_config["CACHE_REDIS_URL"])
        full_key = redis_config["CACHE_KEY_PREFIX"] + key
        assert raw.get(full_key)[:1] == b"~"  # signed
        # whoever can write to the server writes a plain pickle: never unpickled
        raw.set(full_key, b"!" + pickle.dumps(("vc1", "forged", (), 0)))
        assert number(1) != "forged"
        raw.close()
        cache.clear()


_SHARED_MODULE = """
import itertools
import os

from flask import Flask

from flask_viewcache import Cache

app = Flask("shared")
app.config.update(
    CACHE_TYPE="RedisCache",
    CACHE_REDIS_URL=os.environ["VIEWCACHE_TEST_REDIS_URL"],
    CACHE_KEY_PREFIX=os.environ["VIEWCACHE_TEST_PREFIX"],
)
cache = Cache(app)
numbers = itertools.count(int(os.environ.get("VIEWCACHE_TEST_START", "1")))


@cache.memoize(tags=["shared"])
def number(n):
    return (n, next(numbers))
"""

_OTHER_PROCESS = """
import sys

import viewcache_shared as shared

with shared.app.app_context():
    print(shared.number(1))
    if sys.argv[1] == "delete":
        shared.cache.delete_memoized(shared.number)
    elif sys.argv[1] == "tag":
        shared.cache.invalidate_tags("shared")
"""


@pytest.mark.redis
def test_another_process_sees_and_makes_invalidations(
    tmp_path: Path, redis_url: str, unique_prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib
    import os
    import subprocess
    import sys

    (tmp_path / "viewcache_shared.py").write_text(_SHARED_MODULE)
    env = {
        **os.environ,
        "VIEWCACHE_TEST_REDIS_URL": redis_url,
        "VIEWCACHE_TEST_PREFIX": unique_prefix,
        "VIEWCACHE_TEST_START": "1000",  # the other process counts from 1000
        "PYTHONPATH": str(tmp_path),
    }
    for name, value in env.items():
        if name.startswith("VIEWCACHE_TEST_") and name != "VIEWCACHE_TEST_START":
            monkeypatch.setenv(name, value)
    monkeypatch.syspath_prepend(str(tmp_path))
    shared = importlib.import_module("viewcache_shared")

    def other(action: str) -> str:
        done = subprocess.run(
            [sys.executable, "-c", _OTHER_PROCESS, action],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        return done.stdout.strip()

    try:
        with shared.app.app_context():
            assert shared.number(1) == (1, 1)
            assert other("read") == "(1, 1)"  # the other process hits what this one stored
            other("delete")  # ... and forgets it for everyone
            assert shared.number(1) == (1, 2)
            other("tag")
            assert shared.number(1) == (1, 3)
            shared.cache.clear()
    finally:
        sys.modules.pop("viewcache_shared", None)


@pytest.mark.redis_cluster
def test_a_memoize_hit_on_redis_cluster_is_one_round_trip(
    redis_cluster_nodes: str, unique_prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from redis.connection import Connection

    app = Flask(__name__)
    app.config.update(
        CACHE_TYPE="RedisClusterCache",
        CACHE_REDIS_CLUSTER=redis_cluster_nodes,
        CACHE_KEY_PREFIX=unique_prefix,
    )
    cache = Cache(app)

    @cache.memoize()
    def double(n: int) -> int:
        return 2 * n

    sent: list[int] = []
    original = Connection.send_packed_command

    def counting(self: Connection, command: Any, check_health: bool = True) -> None:
        sent.append(1)
        original(self, command, check_health)

    with app.app_context():
        assert double(2) == 4
        monkeypatch.setattr(Connection, "send_packed_command", counting)
        assert double(2) == 4
        assert len(sent) == 1  # value and version share a slot: one MGET to one node
        monkeypatch.undo()
        cache.clear()
