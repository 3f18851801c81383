"""The backend classes under Flask-Caching's import paths (``flask_viewcache.backends``).

``CACHE_TYPE`` names build flask-cachecore's backends; these are the same classes, so an app
that imports a backend class, checks ``isinstance`` against one or subclasses one for a custom
``CACHE_TYPE`` keeps working after it changes ``flask_caching`` to ``flask_viewcache``.
"""

from .base import BaseCache
from .filesystemcache import FileSystemCache
from .memcache import MemcachedCache
from .nullcache import NullCache
from .rediscache import RedisCache, RedisClusterCache, RedisSentinelCache
from .sasl import SASLMemcachedCache, SpreadSASLMemcachedCache
from .simplecache import SimpleCache
from .uwsgicache import UWSGICache

__all__ = [
    "BaseCache",
    "FileSystemCache",
    "MemcachedCache",
    "NullCache",
    "RedisCache",
    "RedisClusterCache",
    "RedisSentinelCache",
    "SASLMemcachedCache",
    "SimpleCache",
    "SpreadSASLMemcachedCache",
    "UWSGICache",
]
