"""The same cachelib contract on every backend, against real Redis, Redis Cluster and Memcached."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cachelib import BaseCache

from flask_cachecore import (
    DistributedLock,
    MemoryCache,
    PymemcacheCache,
    RedisCache,
    RedisClusterCache,
    hash_tag,
    make_backend,
)

BACKENDS = [
    "SimpleCache",
    "FileSystemCache",
    "RedisCache",
    "RedisSentinelCache",
    "RedisClusterCache",
    "MemcachedCache",
]


@pytest.fixture(params=BACKENDS)
def make(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[str], BaseCache]:
    """Builds the parametrised backend with a given key prefix."""
    name = request.param
    config: dict[str, Any] = {"CACHE_TYPE": name}
    if name == "FileSystemCache":
        config["CACHE_DIR"] = str(tmp_path)
    elif name == "RedisCache":
        config["CACHE_REDIS_URL"] = request.getfixturevalue("redis_url")
    elif name == "RedisSentinelCache":
        config["CACHE_REDIS_SENTINELS"] = request.getfixturevalue("redis_sentinel")
        config["CACHE_REDIS_SENTINEL_MASTER"] = "cachecore"
    elif name == "RedisClusterCache":
        config["CACHE_REDIS_CLUSTER"] = request.getfixturevalue("redis_cluster_nodes")
    elif name == "MemcachedCache":
        config["CACHE_MEMCACHED_SERVERS"] = request.getfixturevalue("memcached_servers")

    def build(prefix: str) -> BaseCache:
        if name == "FileSystemCache":
            config["CACHE_DIR"] = str(tmp_path / (prefix.strip(":") or "root"))
        return make_backend({**config, "CACHE_KEY_PREFIX": prefix})

    return build


@pytest.fixture
def backend(make: Callable[[str], BaseCache], unique_prefix: str) -> BaseCache:
    return make(unique_prefix)


def test_set_get_delete(backend: BaseCache) -> None:
    assert backend.get("missing") is None
    assert backend.set("k", {"nested": [1, "two"]}) is True
    assert backend.get("k") == {"nested": [1, "two"]}
    assert backend.has("k") is True
    assert backend.delete("k") is True
    assert backend.get("k") is None


def test_add_is_only_once(backend: BaseCache) -> None:
    assert backend.add("once", 1) is True
    assert backend.add("once", 2) is False
    assert backend.get("once") == 1


def test_many_keys_in_one_call(backend: BaseCache) -> None:
    # keys chosen to land on different cluster slots and memcached servers
    mapping = {f"key-{i}": i * 10 for i in range(30)}
    assert sorted(backend.set_many(mapping)) == sorted(mapping)
    assert backend.get_many(*mapping, "absent") == [*mapping.values(), None]
    assert backend.get_dict("key-1", "key-2") == {"key-1": 10, "key-2": 20}
    backend.delete_many(*mapping)
    assert backend.get_many(*mapping) == [None] * 30


def test_inc_and_dec(backend: BaseCache) -> None:
    if isinstance(backend, MemoryCache | RedisCache | PymemcacheCache):
        assert backend.inc("counter") == 1
    else:
        backend.set("counter", 1)
    assert backend.inc("counter", 4) == 5
    assert backend.dec("counter", 2) == 3
    assert backend.get("counter") == 3


def test_long_and_odd_keys(backend: BaseCache) -> None:
    key = "ключ with spaces " + "x" * 400
    backend.set(key, "value")
    assert backend.get(key) == "value"


def test_clear_removes_only_this_prefix(
    make: Callable[[str], BaseCache], unique_prefix: str
) -> None:
    mine, neighbour = make(unique_prefix), make(unique_prefix.rstrip(":") + "-neighbour:")
    if isinstance(mine, PymemcacheCache):  # memcached cannot list keys: clear() flushes it all
        mine.set("mine", 1)
        assert mine.clear() is True
        assert mine.get("mine") is None
        return
    mine.set_many({f"mine-{i}": i for i in range(600)})  # more than one delete batch
    neighbour.set("theirs", 1)
    assert mine.clear() is True
    assert mine.get_many("mine-0", "mine-599") == [None, None]
    assert neighbour.get("theirs") == 1


def test_distributed_lock_excludes_and_releases(backend: BaseCache) -> None:
    first = DistributedLock(backend, "job", timeout=5)
    second = DistributedLock(backend, "job", timeout=5)
    assert first.acquire() is True
    assert second.acquire() is False
    assert first.release() is True
    assert second.acquire() is True
    assert first.release() is False  # not the holder any more: must not free second's lock
    assert second.locked() is True
    second.release()


def test_timeouts_are_honoured(backend: BaseCache) -> None:
    backend.set("gone", 1, timeout=-1)
    assert backend.get("gone") is None
    backend.set("forever", 1, timeout=0)
    assert backend.get("forever") == 1


@pytest.mark.redis_cluster
def test_cluster_hash_tag_keeps_keys_in_one_slot(
    redis_cluster_nodes: str, unique_prefix: str
) -> None:
    backend = make_backend(
        {
            "CACHE_TYPE": "RedisClusterCache",
            "CACHE_REDIS_CLUSTER": redis_cluster_nodes,
            "CACHE_KEY_PREFIX": unique_prefix,
        }
    )
    assert isinstance(backend, RedisClusterCache)
    client = backend._write_client
    tagged = [f"{hash_tag('fn')}:{i}" for i in range(5)]
    assert len({client.keyslot(unique_prefix + k) for k in tagged}) == 1
    backend.set_many({k: i for i, k in enumerate(tagged)})
    # a plain atomic MGET across the tagged keys works: they share a slot
    raw = client.mget([unique_prefix + k for k in tagged])
    assert [backend.serializer.loads(v) for v in raw] == [0, 1, 2, 3, 4]
