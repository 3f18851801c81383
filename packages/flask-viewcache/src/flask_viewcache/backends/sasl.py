"""Flask-Caching's SASL-authenticated Memcached backends, on pylibmc.

flask-cachecore talks to Memcached through pymemcache, which has no SASL; these two classes
keep Flask-Caching's names and settings (``CACHE_MEMCACHED_USERNAME``,
``CACHE_MEMCACHED_PASSWORD``) for the apps that use them, and need ``pylibmc`` installed.
Without it they raise a ``RuntimeError`` that says what to install.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable, Mapping
from typing import Any

from cachelib import MemcachedCache as CachelibMemcachedCache

from .base import BaseCache


def _pylibmc() -> Any:
    try:
        import pylibmc  # type: ignore[import-not-found]
    except ImportError as exc:
        raise RuntimeError(
            "SASLMemcachedCache needs the pylibmc package (pip install pylibmc); for Memcached"
            " without SASL use CACHE_TYPE = 'MemcachedCache'"
        ) from exc
    return pylibmc


class _ReservingClient:
    """A pylibmc client pool used as one client: each call reserves a client of the pool
    (pylibmc clients are not thread-safe), so cachelib can take it as its ``servers``."""

    def __init__(self, pool: Any, block: bool) -> None:
        self._pool = pool
        self._block = block

    def __getattr__(self, name: str) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            with self._pool.reserve(block=self._block) as client:
                return getattr(client, name)(*args, **kwargs)

        return call


class SASLMemcachedCache(BaseCache, CachelibMemcachedCache):
    """Memcached with SASL authentication (pylibmc, binary protocol), as in Flask-Caching."""

    def __init__(
        self,
        servers: Any = None,
        default_timeout: int = 300,
        key_prefix: str | None = None,
        username: str | None = None,
        password: str | None = None,
        pool_size: int = 1,
        pool_blocking: bool = True,
        ignore_delete_many_errors: bool = False,
        **kwargs: Any,
    ) -> None:
        pylibmc = _pylibmc()
        client = pylibmc.Client(
            servers or ["127.0.0.1:11211"],
            username=username,
            password=password,
            binary=True,
            **kwargs,
        )
        CachelibMemcachedCache.__init__(
            self,
            _ReservingClient(pylibmc.ClientPool(client, pool_size), pool_blocking),
            default_timeout=default_timeout,
            key_prefix=key_prefix,
            ignore_delete_many_errors=ignore_delete_many_errors,
        )

    @classmethod
    def factory(
        cls,
        app: Any,
        config: Mapping[str, Any],
        args: list[Any],
        kwargs: dict[str, Any],
    ) -> SASLMemcachedCache:
        args.append(config.get("CACHE_MEMCACHED_SERVERS"))
        kwargs.update(
            username=config.get("CACHE_MEMCACHED_USERNAME"),
            password=config.get("CACHE_MEMCACHED_PASSWORD"),
            key_prefix=config.get("CACHE_KEY_PREFIX"),
        )
        return cls(*args, **kwargs)


class SpreadSASLMemcachedCache(SASLMemcachedCache):
    """:class:`SASLMemcachedCache` that splits a value too large for one Memcached item
    (1 MB) over several keys (``key.0``, ``key.1`` ...), pickled, as in Flask-Caching.

    :param chunksize: bytes of one part (1048448).
    :param maxchunk: most parts of one value (32); a larger value raises ``ValueError``.
    """

    def __init__(self, *args: Any, chunksize: int = 1048448, maxchunk: int = 32, **kwargs: Any):
        self.chunksize = chunksize
        self.maxchunk = maxchunk
        super().__init__(*args, **kwargs)

    def _part_keys(self, key: str) -> list[str]:
        return [f"{key}.{index}" for index in range(self.maxchunk)]

    def set(self, key: str, value: Any, timeout: Any = None, chunk: bool = True) -> Any:
        if not chunk:
            return super().set(key, value, timeout=timeout)
        data = pickle.dumps(value, 2)
        starts = range(0, len(data), self.chunksize)
        if len(starts) > self.maxchunk:
            raise ValueError(f"Cannot store value in less than {self.maxchunk} keys")
        parts = {f"{key}.{i // self.chunksize}": data[i : i + self.chunksize] for i in starts}
        super().set_many(parts, timeout)
        return None

    def get(self, key: str, chunk: bool = True) -> Any:
        if not chunk:
            return super().get(key)
        found = super().get_dict(*self._part_keys(key))
        parts = [found.get(name) for name in self._part_keys(key)]
        data = b"".join(part for part in parts if part is not None)
        if not data:
            return None
        try:
            return pickle.loads(data)
        except Exception:
            return None

    def delete(self, key: str) -> bool:
        for name in self._part_keys(key):
            super().delete(name)
        return True


__all__ = ["SASLMemcachedCache", "SpreadSASLMemcachedCache"]
