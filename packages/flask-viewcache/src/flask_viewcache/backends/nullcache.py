"""``NullCache``: cachelib's cache that keeps nothing."""

from cachelib import NullCache

__all__ = ["NullCache"]
