"""Redis backends: single server, Sentinel and Cluster, on cachelib's ``RedisCache``.

Each mends a gap of cachelib's version: ``add`` is one atomic ``SET NX EX`` (cachelib sends
``SETNX`` then ``EXPIRE``, so a crash in between leaves a key that never expires: fatal for a
lock); ``clear`` walks the prefix with ``SCAN`` instead of blocking the server with ``KEYS``;
``delete_many`` answers in one round trip; and the cluster variant splits multi-key operations
by slot, which plain ``MGET``/``DEL`` cannot do across a cluster.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from cachelib import BaseCache
from cachelib import RedisCache as _CachelibRedisCache

from .compat import redis_key_prefix, redis_read_client, redis_write_client, set_redis_read_client
from .serializers import PickleSerializer, Serializer

_COMPARE_AND_DELETE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""


class RedisCache(_CachelibRedisCache):
    """cachelib's ``RedisCache`` with atomic ``add``, ``SCAN``-based ``clear`` and a serializer
    chosen per instance.

    ``host`` is a host name or a ready ``redis.Redis`` client; other keyword arguments go to
    ``redis.Redis`` (``socket_timeout``, ``ssl`` ...).
    """

    def __init__(self, *args: Any, serializer: Serializer | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.serializer = serializer or PickleSerializer()  # type: ignore[assignment]

    @property
    def writer(self) -> Any:
        """The ``redis`` client this cache writes through."""
        return redis_write_client(self)

    @property
    def reader(self) -> Any:
        """The ``redis`` client this cache reads through (a replica behind Sentinel)."""
        return redis_read_client(self)

    def _full(self, key: str) -> str:
        return f"{redis_key_prefix(self)}{key}"

    def _seconds(self, timeout: int | dt.timedelta | None) -> int:
        # cachelib's Redis normalisation maps 0 to -1, which hides a negative timeout
        return int(BaseCache._normalize_timeout(self, timeout))

    def set(self, key: str, value: Any, timeout: int | dt.timedelta | None = None) -> bool:
        seconds = self._seconds(timeout)
        if seconds < 0:  # already expired
            self.writer.delete(self._full(key))
            return True
        return bool(
            self.writer.set(self._full(key), self.serializer.dumps(value), ex=seconds or None)
        )

    def add(self, key: str, value: Any, timeout: int | dt.timedelta | None = None) -> bool:
        seconds = self._seconds(timeout)
        if seconds < 0:
            return False
        return bool(
            self.writer.set(
                self._full(key), self.serializer.dumps(value), nx=True, ex=seconds or None
            )
        )

    def delete_many(self, *keys: str) -> list[Any]:
        if not keys:
            return []
        pipe = self.writer.pipeline(transaction=False)
        for key in keys:
            pipe.delete(self._full(key))
        pipe.execute()
        return list(keys)

    def _scan_prefix(self) -> Iterable[Any]:
        pattern = _glob_escape(redis_key_prefix(self)) + "*"
        keys: Iterable[Any] = self.reader.scan_iter(match=pattern, count=1000)
        return keys

    def clear(self) -> bool:
        """Delete the keys under this cache's prefix; with no prefix, ``FLUSHDB`` (as cachelib)."""
        if not self.key_prefix:
            return bool(self.writer.flushdb())
        batch: list[Any] = []
        for key in self._scan_prefix():
            batch.append(key)
            if len(batch) >= 500:
                self._delete_raw(batch)
                batch = []
        if batch:
            self._delete_raw(batch)
        return True

    def _delete_raw(self, raw_keys: list[Any]) -> None:
        self.writer.delete(*raw_keys)

    def compare_and_delete(self, key: str, value: Any) -> bool:
        """Delete ``key`` only if it still holds ``value`` (one atomic Lua script)."""
        script = self.writer.register_script(_COMPARE_AND_DELETE)
        return bool(script(keys=[self._full(key)], args=[self.serializer.dumps(value)]))


class RedisClusterCache(RedisCache):
    """Redis Cluster: ``MGET``/``DEL``/``SET`` of several keys are split by slot.

    :param cluster: ``"host:port,host:port"`` startup nodes, or a ready ``RedisCluster``.

    Keys that must be read in one command (one slot) share a hash tag; see
    :func:`flask_cachecore.keys.hash_tag`.
    """

    def __init__(
        self,
        cluster: str | Any = "",
        password: str | None = None,
        default_timeout: int | dt.timedelta = 300,
        key_prefix: str | None = None,
        serializer: Serializer | None = None,
        **kwargs: Any,
    ) -> None:
        if isinstance(cluster, str):
            from redis.cluster import ClusterNode, RedisCluster

            from .memcached import parse_servers

            nodes = [
                ClusterNode(host, port)  # type: ignore[no-untyped-call]
                for host, port in parse_servers(cluster)
            ]
            client = RedisCluster(startup_nodes=nodes, password=password, **kwargs)
        else:
            client = cluster
        super().__init__(
            host=client,
            default_timeout=default_timeout,
            key_prefix=key_prefix,
            serializer=serializer,
        )

    # Multi-key commands go one slot at a time, not through redis-py's cluster pipeline
    # (``mget_nonatomic``, ``pipeline()``): when a node does not answer, that pipeline resends
    # each of the node's commands on its own, each with its own socket timeout, so one read of
    # keys in 9 slots of a hung node waited 2.4 s. One command per slot stops at the first
    # timeout. Keys of one hash tag (viewcache's) are one slot: one ``MGET``, as before.

    def _by_slot(self, raw_keys: list[Any]) -> list[list[int]]:
        """The positions of ``raw_keys``, grouped by hash slot in order of first appearance."""
        slots: dict[int, list[int]] = {}
        keyslot = self.writer.keyslot
        for index, key in enumerate(raw_keys):
            slots.setdefault(keyslot(key), []).append(index)
        return list(slots.values())

    def get_many(self, *keys: str) -> list[Any]:
        if not keys:
            return []
        full = [self._full(k) for k in keys]
        raw: list[Any] = [None] * len(full)
        for positions in self._by_slot(full):
            values = self.reader.mget([full[i] for i in positions])
            for index, value in zip(positions, values, strict=True):
                raw[index] = value
        return [self.serializer.loads(v) for v in raw]

    def delete_many(self, *keys: str) -> list[Any]:
        if keys:
            self._delete_raw([self._full(k) for k in keys])
        return list(keys)

    def clear(self) -> bool:
        if not self.key_prefix:
            self.writer.flushdb(target_nodes="primaries")
            return True
        return super().clear()

    def _delete_raw(self, raw_keys: list[Any]) -> None:
        for positions in self._by_slot(raw_keys):
            self.writer.delete(*[raw_keys[i] for i in positions])

    def _scan_prefix(self) -> Iterable[Any]:
        pattern = _glob_escape(redis_key_prefix(self)) + "*"
        keys: Iterable[Any] = self.reader.scan_iter(
            match=pattern, count=1000, target_nodes="primaries"
        )
        return keys


class RedisSentinelCache(RedisCache):
    """Redis behind Sentinel: writes go to the master, reads to a replica.

    :param sentinels: ``[(host, port), ...]`` or ``"host:port,host:port"``.
    :param master: the name of the monitored master.
    """

    def __init__(
        self,
        sentinels: str | list[Any],
        master: str,
        password: str | None = None,
        sentinel_password: str | None = None,
        db: int = 0,
        default_timeout: int | dt.timedelta = 300,
        key_prefix: str | None = None,
        serializer: Serializer | None = None,
        **kwargs: Any,
    ) -> None:
        from redis.sentinel import Sentinel

        from .memcached import parse_servers

        nodes = (
            parse_servers(sentinels)
            if isinstance(sentinels, str)
            else [tuple(s) for s in sentinels]
        )
        # redis-py gives the sentinels the socket options of the servers only when no
        # ``sentinel_kwargs`` are passed at all; any dict (even empty) leaves them without a
        # timeout, so one hung Sentinel held every new connection forever
        sentinel_kwargs = {
            k: v for k, v in kwargs.items() if k.startswith("socket_") or k == "retry"
        }
        if sentinel_password:
            sentinel_kwargs["password"] = sentinel_password
        sentinel = Sentinel(  # type: ignore[no-untyped-call]
            nodes, sentinel_kwargs=sentinel_kwargs, password=password, db=db, **kwargs
        )
        super().__init__(
            host=sentinel.master_for(master),  # type: ignore[no-untyped-call]
            default_timeout=default_timeout,
            key_prefix=key_prefix,
            serializer=serializer,
        )
        set_redis_read_client(self, sentinel.slave_for(master))  # type: ignore[no-untyped-call]


def _glob_escape(text: str) -> str:
    """Escape the glob characters of Redis ``MATCH`` patterns."""
    return "".join("\\" + ch if ch in "*?[]\\" else ch for ch in text)
