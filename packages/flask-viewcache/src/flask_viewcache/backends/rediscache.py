"""The Redis backends of flask-cachecore (``redis`` is imported when one is made)."""

from flask_cachecore import RedisCache, RedisClusterCache, RedisSentinelCache

__all__ = ["RedisCache", "RedisClusterCache", "RedisSentinelCache"]
