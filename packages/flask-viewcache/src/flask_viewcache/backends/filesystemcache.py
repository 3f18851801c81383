"""``FileSystemCache``: cachelib's cache in a directory, with Flask-Caching's constructor."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from typing import Any

from cachelib import FileSystemCache as CachelibFileSystemCache

from .base import BaseCache, PortedName, resolve_ignore_errors


class FileSystemCache(BaseCache, CachelibFileSystemCache, metaclass=PortedName):
    """cachelib's ``FileSystemCache``; what ``CACHE_TYPE = "FileSystemCache"`` builds is an
    instance of it.

    :param ignore_errors: deprecated name of ``ignore_delete_many_errors``, as in
        Flask-Caching 2.5.
    """

    ported_from = CachelibFileSystemCache

    def __init__(
        self,
        cache_dir: str,
        threshold: int = 500,
        default_timeout: int = 300,
        mode: int = 0o600,
        hash_method: Callable[..., Any] = hashlib.sha256,
        ignore_delete_many_errors: bool = False,
        ignore_errors: bool | None = None,
    ) -> None:
        ignore_delete_many_errors = resolve_ignore_errors(
            "FileSystemCache", ignore_delete_many_errors, ignore_errors
        )
        CachelibFileSystemCache.__init__(
            self,
            cache_dir,
            threshold=threshold,
            default_timeout=default_timeout,
            mode=mode,
            hash_method=hash_method,
            ignore_delete_many_errors=ignore_delete_many_errors,
        )

    @classmethod
    def factory(
        cls,
        app: Any,
        config: Mapping[str, Any],
        args: list[Any],
        kwargs: dict[str, Any],
    ) -> FileSystemCache:
        """A subclass named by ``CACHE_TYPE``, with ``CACHE_DIR``, ``CACHE_THRESHOLD`` and
        ``CACHE_FILE_HASH_METHOD``."""
        args.insert(0, config.get("CACHE_DIR"))
        kwargs.setdefault("threshold", int(config.get("CACHE_THRESHOLD") or 500))
        kwargs.setdefault("hash_method", config.get("CACHE_FILE_HASH_METHOD") or hashlib.sha256)
        return cls(*args, **kwargs)


__all__ = ["FileSystemCache"]
