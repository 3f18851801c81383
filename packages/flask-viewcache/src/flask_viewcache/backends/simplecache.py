"""``SimpleCache``: flask-cachecore's bounded in-process cache under Flask-Caching's name."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from flask_cachecore import MemoryCache, make_serializer
from flask_cachecore.serializers import Serializer

from .base import BaseCache, PortedName, resolve_ignore_errors


class SimpleCache(BaseCache, MemoryCache, metaclass=PortedName):
    """flask-cachecore's :class:`~flask_cachecore.MemoryCache` (never more than ``threshold``
    entries, expiry on a monotonic clock) with the constructor of Flask-Caching's
    ``SimpleCache``; what ``CACHE_TYPE = "SimpleCache"`` builds is an instance of it.

    :param ignore_errors: deprecated name of ``ignore_delete_many_errors``, as in
        Flask-Caching 2.5.
    """

    ported_from = MemoryCache

    def __init__(
        self,
        threshold: int = 500,
        default_timeout: int | dt.timedelta = 300,
        ignore_delete_many_errors: bool = False,
        ignore_errors: bool | None = None,
        serializer: Serializer | None = None,
    ) -> None:
        ignore_delete_many_errors = resolve_ignore_errors(
            "SimpleCache", ignore_delete_many_errors, ignore_errors
        )
        MemoryCache.__init__(self, threshold, default_timeout, serializer)
        self.ignore_delete_many_errors = ignore_delete_many_errors

    @classmethod
    def factory(
        cls,
        app: Any,
        config: Mapping[str, Any],
        args: list[Any],
        kwargs: dict[str, Any],
    ) -> SimpleCache:
        """A subclass named by ``CACHE_TYPE``, with ``CACHE_THRESHOLD`` and
        ``CACHE_SERIALIZER`` as the built-in ``SimpleCache`` reads them."""
        kwargs.setdefault("threshold", int(config.get("CACHE_THRESHOLD") or 500))
        kwargs.setdefault("serializer", make_serializer(config))
        return cls(*args, **kwargs)


__all__ = ["SimpleCache"]
