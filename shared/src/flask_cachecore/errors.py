"""Exceptions raised by flask_cachecore."""

from __future__ import annotations


class CacheConfigError(ValueError):
    """A cache setting is wrong: raised at ``init_app`` time, naming the key and the value."""

    def __init__(self, key: str, value: object, reason: str) -> None:
        self.key = key
        self.value = value
        super().__init__(f"{key}={value!r}: {reason}")


class UnkeyableError(TypeError):
    """An argument has no stable identity to build a cache key from.

    Raised for objects whose only representation is a memory address. Give the class a
    ``__cache_key__(self)`` method returning something stable (an id, a tuple of fields).
    """


class EntryTooLargeError(ValueError):
    """A value's serialized form is over the per-entry limit (``*_MAX_ENTRY_BYTES``): it is
    not stored. :class:`~flask_cachecore.FailSafeCache` counts it (``too_large``) and gives a
    failed write, without counting it against the backend's health."""

    def __init__(self, size: int, limit: int) -> None:
        self.size = size
        self.limit = limit
        super().__init__(f"a value of {size} bytes is over the limit of {limit} bytes per entry")
