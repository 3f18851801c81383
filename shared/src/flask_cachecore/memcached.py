"""A cachelib-API Memcached backend on pymemcache's ``HashClient``.

cachelib's own ``MemcachedCache`` speaks to python-memcached/pylibmc only; pymemcache, the
maintained pure-Python driver, has no cachelib backend. This one spreads keys over several
servers by rendezvous hashing (a server that drops out moves only its own keys), is
thread-safe through per-server connection pools, and fits every key to memcached's limits.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable, Sequence
from typing import Any

from cachelib import BaseCache

from .keys import MEMCACHED_KEY_LIMIT, fit_key
from .serializers import PickleSerializer, Serializer

#: memcached reads an expiry above 30 days as a Unix timestamp, not a number of seconds.
_RELATIVE_EXPIRY_LIMIT = 60 * 60 * 24 * 30


class _Serde:
    """pymemcache's serde protocol on top of one of our serializers."""

    def __init__(self, serializer: Serializer) -> None:
        self.serializer = serializer

    def serialize(self, key: str, value: Any) -> tuple[bytes, int]:
        return self.serializer.dumps(value), 0

    def deserialize(self, key: str, value: bytes, flags: int) -> Any:
        return self.serializer.loads(value)


def parse_servers(servers: str | Iterable[str | tuple[str, int]]) -> list[tuple[str, int]]:
    """``"h1:11211,h2:11212"`` or a list of ``"host:port"`` / ``(host, port)`` → ``[(host, port)]``.

    :raises ValueError: for an entry that is not ``host:port`` with a numeric port.
    """
    items: Iterable[str | tuple[str, int]]
    items = [s for s in servers.split(",") if s.strip()] if isinstance(servers, str) else servers
    parsed: list[tuple[str, int]] = []
    for item in items:
        if isinstance(item, tuple):
            host, port = item
        else:
            host, _, port_text = item.strip().rpartition(":")
            if not host or not port_text.isdigit():
                raise ValueError(f"{item!r} is not host:port")
            port = int(port_text)
        if not 0 < int(port) < 65536:
            raise ValueError(f"{item!r} has no valid port")
        parsed.append((str(host).strip("[]"), int(port)))
    if not parsed:
        raise ValueError("no memcached server given")
    return parsed


class PymemcacheCache(BaseCache):
    """Memcached through pymemcache, with cachelib's ``BaseCache`` API.

    :param servers: ``"host:port"`` entries (a list or one comma-separated string).
    :param key_prefix: put before every key (then the whole key is fitted to 250 bytes).
    :param timeout: seconds for one socket operation; ``connect_timeout`` likewise.
    :param serializer: how values become bytes; pickle by default.
    :param dead_timeout: seconds a server that failed is left out (its keys go to the others)
        before it is tried again; short, so that a restarted server is used within a second.

    Writes wait for the server's answer (no ``noreply``), so a failed write is reported.
    ``clear()`` flushes every server: never use it on a server shared with other apps.
    """

    def __init__(
        self,
        servers: str | Sequence[str | tuple[str, int]] = ("127.0.0.1:11211",),
        default_timeout: int | dt.timedelta = 300,
        key_prefix: str | None = None,
        timeout: float | None = 0.25,
        connect_timeout: float | None = 0.25,
        serializer: Serializer | None = None,
        dead_timeout: float = 0.5,
        **client_options: Any,
    ) -> None:
        super().__init__(default_timeout)
        from pymemcache.client.hash import HashClient

        self.key_prefix = key_prefix or ""
        self.serializer = serializer or PickleSerializer()
        self._client = HashClient(
            parse_servers(servers),
            serde=_Serde(self.serializer),
            timeout=timeout,
            connect_timeout=connect_timeout,
            use_pooling=True,
            dead_timeout=dead_timeout,
            retry_attempts=1,
            retry_timeout=0,
            ignore_exc=False,
            default_noreply=False,
            **client_options,
        )

    def _key(self, key: str) -> str:
        return fit_key(self.key_prefix + key, MEMCACHED_KEY_LIMIT)

    def _expire(self, timeout: int | dt.timedelta | None) -> int:
        seconds = self._normalize_timeout(timeout)
        if seconds > _RELATIVE_EXPIRY_LIMIT:
            return int(time.time()) + seconds
        return max(seconds, -1)

    def get(self, key: str) -> Any:
        return self._client.get(self._key(key))

    def get_many(self, *keys: str) -> list[Any]:
        mapped = [self._key(k) for k in keys]
        found = self._client.get_many(mapped)
        return [found.get(k) for k in mapped]

    def get_dict(self, *keys: str) -> dict[str, Any]:
        return dict(zip(keys, self.get_many(*keys), strict=True))

    def set(self, key: str, value: Any, timeout: int | dt.timedelta | None = None) -> bool:
        expire = self._expire(timeout)
        if expire < 0:
            self.delete(key)
            return True
        return bool(self._client.set(self._key(key), value, expire=expire, noreply=False))

    def add(self, key: str, value: Any, timeout: int | dt.timedelta | None = None) -> bool:
        expire = self._expire(timeout)
        return bool(self._client.add(self._key(key), value, expire=max(expire, 0), noreply=False))

    def set_many(
        self, mapping: dict[str, Any], timeout: int | dt.timedelta | None = None
    ) -> list[Any]:
        expire = self._expire(timeout)
        by_memcached_key = {self._key(k): k for k in mapping}
        failed = self._client.set_many(
            {mk: mapping[k] for mk, k in by_memcached_key.items()},
            expire=max(expire, 0),
            noreply=False,
        )
        failed_keys = {by_memcached_key[mk] for mk in failed}
        return [k for k in mapping if k not in failed_keys]

    def delete(self, key: str) -> bool:
        return bool(self._client.delete(self._key(key), noreply=False))

    def delete_many(self, *keys: str) -> list[Any]:
        return [k for k in keys if self.delete(k)]

    def has(self, key: str) -> bool:
        return self.get(key) is not None

    def clear(self) -> bool:
        self._client.flush_all(noreply=False)
        return True

    def inc(self, key: str, delta: int = 1) -> int | None:
        mkey = self._key(key)
        if delta < 0:
            return self.dec(key, -delta)
        value = self._client.incr(mkey, delta, noreply=False)
        if value is None:  # memcached cannot INCR a missing key: create it, or retry if raced
            if self._client.add(mkey, delta, expire=self._expire(None), noreply=False):
                return delta
            value = self._client.incr(mkey, delta, noreply=False)
        return None if value is None else int(value)

    def dec(self, key: str, delta: int = 1) -> int | None:
        if delta < 0:
            return self.inc(key, -delta)
        value = self._client.decr(self._key(key), delta, noreply=False)
        return None if value is None else int(value)
