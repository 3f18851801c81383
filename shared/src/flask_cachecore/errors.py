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
