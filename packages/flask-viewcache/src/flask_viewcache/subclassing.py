"""Decorator traffic through the public methods of a ``Cache`` subclass.

Tracing and metrics libraries subclass ``Cache`` and wrap ``get``/``set``/...; Flask-Caching's
decorators call those methods, so the wrappers see every read and write the decorators make.
Ours read and write the backend directly (that is part of a hit costing one round trip). When
``init_app`` finds that a subclass overrides one of these methods, the decorators are given a
:class:`PublicMethodsBackend` instead of the backend: every operation then goes through the
subclass. A plain ``Cache`` never pays for this.
"""

from __future__ import annotations

import datetime as dt
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from cachelib import BaseCache

if TYPE_CHECKING:
    from .extension import Cache

#: the public methods whose overriding routes the decorators' traffic through them
STORAGE_METHODS = (
    "get",
    "get_many",
    "get_dict",
    "has",
    "set",
    "add",
    "set_many",
    "delete",
    "delete_many",
)

#: set while the decorators read through a subclass's ``get``/``get_many``: they need the
#: stored envelope, which ``Cache.get`` otherwise unwraps for the app
reading_envelopes: ContextVar[bool] = ContextVar("viewcache_reading_envelopes", default=False)


def overrides_storage_methods(cache_class: type[Cache], base: type[Cache]) -> bool:
    """Whether ``cache_class`` defines any of :data:`STORAGE_METHODS` anew."""
    return any(getattr(cache_class, name) is not getattr(base, name) for name in STORAGE_METHODS)


class PublicMethodsBackend(BaseCache):
    """The backend as the decorators of a ``Cache`` subclass see it: reads and writes call the
    subclass's public methods; ``inc``/``dec``/``clear`` and the atomic compare-and-delete of
    locks, which Flask-Caching's decorators never call, go to the backend itself."""

    def __init__(self, cache: Cache, backend: BaseCache) -> None:
        super().__init__(default_timeout=backend.default_timeout)
        self.cache = cache
        self.direct = backend

    def get(self, key: str) -> Any:
        token = reading_envelopes.set(True)
        try:
            return self.cache.get(key)
        finally:
            reading_envelopes.reset(token)

    def get_many(self, *keys: str) -> list[Any]:
        token = reading_envelopes.set(True)
        try:
            return list(self.cache.get_many(*keys))
        finally:
            reading_envelopes.reset(token)

    def has(self, key: str) -> bool:
        return self.cache.has(key)

    def set(self, key: str, value: Any, timeout: int | dt.timedelta | None = None) -> bool:
        return self.cache.set(key, value, timeout=_seconds(timeout))

    def add(self, key: str, value: Any, timeout: int | dt.timedelta | None = None) -> bool:
        return self.cache.add(key, value, timeout=_seconds(timeout))

    def set_many(
        self, mapping: dict[str, Any], timeout: int | dt.timedelta | None = None
    ) -> list[Any]:
        return self.cache.set_many(mapping, timeout=_seconds(timeout))

    def delete(self, key: str) -> bool:
        return self.cache.delete(key)

    def delete_many(self, *keys: str) -> list[Any]:
        return self.cache.delete_many(*keys)

    def inc(self, key: str, delta: int = 1) -> int | None:
        result = self.direct.inc(key, delta)
        return None if result is None else int(result)

    def dec(self, key: str, delta: int = 1) -> int | None:
        result = self.direct.dec(key, delta)
        return None if result is None else int(result)

    def clear(self) -> bool:
        return bool(self.direct.clear())

    def compare_and_delete(self, key: str, value: Any) -> bool:
        from flask_cachecore.locks import compare_and_delete

        return compare_and_delete(self.direct, key, value)


def _seconds(timeout: int | dt.timedelta | None) -> int | None:
    if isinstance(timeout, dt.timedelta):
        return int(timeout.total_seconds())
    return timeout
