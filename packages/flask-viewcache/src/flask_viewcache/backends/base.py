"""``BaseCache``: what a custom backend subclasses, as in Flask-Caching."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import cachelib


class BaseCache(cachelib.BaseCache):
    """The base of a custom backend named by a dotted ``CACHE_TYPE``.

    The backend is made by the ``factory`` classmethod, called as
    ``factory(app, config, args, kwargs)``: ``config`` holds the ``CACHE_*`` settings,
    ``args`` is ``CACHE_ARGS`` and ``kwargs`` holds ``default_timeout`` and ``CACHE_OPTIONS``.
    A subclass overrides it to read the settings it needs; this one takes none.
    """

    @classmethod
    def factory(
        cls,
        app: Any,
        config: Mapping[str, Any],
        args: list[Any],
        kwargs: dict[str, Any],
    ) -> BaseCache:
        return cls()


class PortedName(type):
    """Metaclass of a class that gives a flask-cachecore backend Flask-Caching's name.

    ``CACHE_TYPE = "SimpleCache"`` builds flask-cachecore's ``MemoryCache``; with this, that
    backend is also an instance of ``flask_viewcache.backends.SimpleCache``, so checks written
    against Flask-Caching's class hold. A subclass that the app writes is checked as usual.
    """

    def __instancecheck__(cls, instance: Any) -> bool:
        ported: type | None = cls.__dict__.get("ported_from")
        if ported is not None and isinstance(instance, ported):
            return True
        return super().__instancecheck__(instance)


def resolve_ignore_errors(
    backend: str, ignore_delete_many_errors: bool, ignore_errors: bool | None
) -> bool:
    """The ``ignore_delete_many_errors`` of a backend given Flask-Caching 2.5's deprecated
    ``ignore_errors`` as well (which wins, with a ``DeprecationWarning``)."""
    if ignore_errors is None:
        return ignore_delete_many_errors
    warnings.warn(
        f"{backend}(ignore_errors=...) is deprecated, as in Flask-Caching 2.5:"
        " use ignore_delete_many_errors",
        DeprecationWarning,
        stacklevel=3,
    )
    return ignore_errors
