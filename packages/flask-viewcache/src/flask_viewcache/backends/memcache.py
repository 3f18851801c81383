"""``MemcachedCache``: flask-cachecore's Memcached backend (on pymemcache) under
Flask-Caching's name."""

from __future__ import annotations

from flask_cachecore import PymemcacheCache

from .base import PortedName


class MemcachedCache(PymemcacheCache, metaclass=PortedName):
    """flask-cachecore's :class:`~flask_cachecore.PymemcacheCache`; what
    ``CACHE_TYPE = "MemcachedCache"`` builds is an instance of it."""

    ported_from = PymemcacheCache


__all__ = ["MemcachedCache"]
