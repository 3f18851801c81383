"""``UWSGICache``: cachelib's cache in uWSGI's cache framework, under Flask-Caching's name.

It works only inside a uWSGI process with ``cache2`` enabled; elsewhere it raises a
``RuntimeError`` that says so.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from cachelib import UWSGICache as CachelibUWSGICache

from .base import BaseCache


class UWSGICache(BaseCache, CachelibUWSGICache):
    """uWSGI's cache (``CACHE_UWSGI_NAME`` names the cache instance, default the first)."""

    def __init__(
        self,
        default_timeout: int = 300,
        cache: str = "",
        ignore_delete_many_errors: bool = False,
    ) -> None:
        try:
            importlib.import_module("uwsgi")  # only importable inside a uWSGI process
        except ImportError as exc:
            raise RuntimeError(
                "UWSGICache works only in a uWSGI process (uwsgi could not be imported);"
                " use CACHE_TYPE = 'SimpleCache' or 'RedisCache' elsewhere"
            ) from exc
        CachelibUWSGICache.__init__(
            self,
            default_timeout=default_timeout,
            cache=cache,
            ignore_delete_many_errors=ignore_delete_many_errors,
        )

    @classmethod
    def factory(
        cls,
        app: Any,
        config: Mapping[str, Any],
        args: list[Any],
        kwargs: dict[str, Any],
    ) -> UWSGICache:
        kwargs.update(cache=config.get("CACHE_UWSGI_NAME", ""))
        return cls(*args, **kwargs)


__all__ = ["UWSGICache"]
