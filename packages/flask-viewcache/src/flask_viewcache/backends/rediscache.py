"""The Redis backends of flask-cachecore under Flask-Caching's names (``redis`` is imported
when one is made).

What ``CACHE_TYPE`` builds is flask-cachecore's class and an instance of these. Built by hand,
they take Flask-Caching's defaults (``RedisSentinelCache()`` asks the Sentinel on
127.0.0.1:26379 for ``mymaster``) and read values as cachelib does: bytes that are not this
package's come back as bytes.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask_cachecore import RedisCache as CoreRedisCache
from flask_cachecore import RedisClusterCache as CoreRedisClusterCache
from flask_cachecore import RedisSentinelCache as CoreRedisSentinelCache
from flask_cachecore.serializers import Serializer

from ..serializers import ForeignBytesSerializer
from .base import PortedName


class RedisCache(CoreRedisCache, metaclass=PortedName):
    """flask-cachecore's :class:`~flask_cachecore.RedisCache`."""

    ported_from = CoreRedisCache

    def __init__(self, *args: Any, serializer: Serializer | None = None, **kwargs: Any) -> None:
        super().__init__(*args, serializer=serializer or ForeignBytesSerializer(), **kwargs)


class RedisSentinelCache(CoreRedisSentinelCache, metaclass=PortedName):
    """flask-cachecore's :class:`~flask_cachecore.RedisSentinelCache`."""

    ported_from = CoreRedisSentinelCache

    def __init__(
        self,
        sentinels: str | list[Any] | None = None,
        master: str | None = "mymaster",
        password: str | None = None,
        db: int = 0,
        default_timeout: int | dt.timedelta = 300,
        key_prefix: str | None = None,
        serializer: Serializer | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            sentinels or [("127.0.0.1", 26379)],
            master or "mymaster",
            password=password,
            db=db,
            default_timeout=default_timeout,
            key_prefix=key_prefix,
            serializer=serializer or ForeignBytesSerializer(),
            **kwargs,
        )


class RedisClusterCache(CoreRedisClusterCache, metaclass=PortedName):
    """flask-cachecore's :class:`~flask_cachecore.RedisClusterCache`."""

    ported_from = CoreRedisClusterCache


__all__ = ["RedisCache", "RedisClusterCache", "RedisSentinelCache"]
