"""The ``Cache`` extension: Flask-Caching's API on flask_cachecore's backends."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from cachelib import BaseCache
from flask import Flask
from markupsafe import Markup
from werkzeug.exceptions import HTTPException

from flask_cachecore import CacheConfigError, FailSafeCache, RedisClusterCache, make_cache
from flask_cachecore.backends import config_number
from flask_cachecore.compat import current_app_or_none, redis_key_prefix, redis_write_client

from .calls import Timeout, timeout_seconds
from .keys import FRAGMENT_PREFIX, tag_version_key
from .memoize import Memoized, memoized_of
from .storable import MalformedEntryError, thaw
from .store import MARK, Settings, Store, is_in_process, use_in_process_serializer
from .subclassing import PublicMethodsBackend, overrides_storage_methods, reading_envelopes
from .views import CachedView, QueryArgs

logger = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])

#: defaults of the ``CACHE_*`` keys this extension reads (Flask-Caching's, plus ours)
DEFAULTS: dict[str, Any] = {
    "CACHE_TYPE": "NullCache",
    "CACHE_NO_NULL_WARNING": False,
    "CACHE_DEFAULT_TIMEOUT": 300,
    "CACHE_KEY_PREFIX": "flask_cache_",
    "CACHE_THRESHOLD": 500,
    "CACHE_IGNORE_ERRORS": False,
    "CACHE_SOURCE_CHECK": False,
    "CACHE_ENABLE_SIGNALS": False,
    "CACHE_HASH_METHOD": None,
    "CACHE_SERIALIZER": "pickle",
    "CACHE_LOCK": False,
    "CACHE_LOCK_TIMEOUT": 10.0,
    "CACHE_LOCK_WAIT": 10.0,
    "CACHE_STATUS_HEADER": False,
    "CACHE_STORE_SESSION_VIEWS": False,
    "CACHE_MAX_BYTES": 32 * 1024 * 1024,
    "CACHE_MAX_ENTRY_BYTES": 1024 * 1024,
}


class Cache:
    """Caching of views, memoized functions and template fragments for Flask apps.

    The API of Flask-Caching 2.x: an app ports by changing its import. One ``Cache`` can serve
    several apps; it keeps no app of its own, and finds the current app's backend through
    ``current_app``.

    :param app: the app to set up now (else call :meth:`init_app`).
    :param with_jinja2_ext: install the ``{% cache %}`` template tag.
    :param config: ``CACHE_*`` settings that take precedence over the app's config.
    """

    def __init__(
        self,
        app: Flask | None = None,
        with_jinja2_ext: bool = True,
        config: dict[str, Any] | None = None,
    ) -> None:
        if not (config is None or isinstance(config, dict)):
            raise ValueError("`config` must be a dict or None")
        self.with_jinja2_ext = with_jinja2_ext
        self.config = config
        if app is not None:
            self.init_app(app, config)

    def init_app(self, app: Flask, config: dict[str, Any] | None = None) -> None:
        """Set the cache up for ``app``.

        Settings come from ``config``, else the ``config`` given to the constructor, else
        ``app.config``; these keys are read:

        - ``CACHE_TYPE``: ``NullCache`` (default), ``SimpleCache``, ``FileSystemCache``,
          ``RedisCache``, ``RedisSentinelCache``, ``RedisClusterCache``, ``MemcachedCache``
          or a dotted path; with the backend's own keys (``CACHE_REDIS_URL``,
          ``CACHE_MEMCACHED_SERVERS``, ``CACHE_DIR``, ``CACHE_FILE_HASH_METHOD``,
          ``CACHE_THRESHOLD``, ``CACHE_ARGS``, ``CACHE_OPTIONS`` ...), read by
          :func:`flask_cachecore.make_backend`.
        - ``CACHE_DEFAULT_TIMEOUT`` (300), ``CACHE_KEY_PREFIX`` (``flask_cache_``),
          ``CACHE_SERIALIZER`` (``pickle``; ``signed-pickle`` for a shared server; ``json``;
          or a cachelib serializer class or instance).
        - ``CACHE_SOURCE_CHECK``, ``CACHE_ENABLE_SIGNALS``, ``CACHE_HASH_METHOD``,
          ``CACHE_NO_NULL_WARNING``: as in Flask-Caching.
        - ``CACHE_LOCK`` (False): stampede protection by default for every decorator;
          ``CACHE_LOCK_TIMEOUT`` (10 s) and ``CACHE_LOCK_WAIT`` (10 s) bound it.
        - ``CACHE_STATUS_HEADER`` (False): add ``Cache-Status`` to cached views' responses.
        - ``CACHE_STORE_SESSION_VIEWS`` (False): store a view's result even when the view read
          the session (Flask-Caching's behaviour); by default such a result is not stored.
        - ``CACHE_OPERATION_TIMEOUT`` (0.25 s), ``CACHE_FAILURE_THRESHOLD`` (5),
          ``CACHE_RECOVERY_TIMEOUT`` (0.5 s), ``CACHE_FAILSAFE`` (True): failure handling.
        - ``CACHE_MAX_ENTRY_BYTES`` (1 MiB): a value whose serialized form is larger is not
          stored, on every backend (0: no limit); ``CACHE_MAX_BYTES`` (32 MiB): the byte
          budget of ``SimpleCache``, which evicts the least recently used entries to fit it.

        :raises RuntimeError: if this cache is already set up for ``app``.
        :raises flask_cachecore.CacheConfigError: naming the key of a bad setting.
        """
        if not (config is None or isinstance(config, dict)):
            raise ValueError("`config` must be a dict or None")
        states: dict[Cache, Store] = app.extensions.setdefault("viewcache", {})
        if self in states:
            raise RuntimeError(
                "this Cache is already set up for this app; call init_app once per app"
            )
        for key, value in DEFAULTS.items():
            app.config.setdefault(key, value)
        merged = dict(app.config)
        merged.update(self.config or {})
        merged.update(config or {})

        if merged["CACHE_TYPE"] in ("NullCache", "null") and not merged["CACHE_NO_NULL_WARNING"]:
            warnings.warn(
                "flask-viewcache: CACHE_TYPE is NullCache, so nothing is cached",
                stacklevel=2,
            )
        hash_method = merged["CACHE_HASH_METHOD"]
        if hash_method is not None and not callable(hash_method):
            raise CacheConfigError(
                "CACHE_HASH_METHOD", hash_method, "must be a hash constructor like hashlib.sha256"
            )
        settings = Settings(
            lock=bool(merged["CACHE_LOCK"]),
            lock_timeout=config_number(merged, "CACHE_LOCK_TIMEOUT", 10.0),
            lock_wait=config_number(merged, "CACHE_LOCK_WAIT", 10.0),
            signals=bool(merged["CACHE_ENABLE_SIGNALS"]),
            status_header=bool(merged["CACHE_STATUS_HEADER"]),
            source_check=bool(merged["CACHE_SOURCE_CHECK"]),
            hash_method=hash_method,
            store_session_views=bool(merged["CACHE_STORE_SESSION_VIEWS"]),
        )
        backend = make_cache(merged, app=app)
        use_in_process_serializer(backend, merged)
        # a subclass that overrides get/set/... sees the decorators' traffic, versions included
        through_public = overrides_storage_methods(type(self), Cache)
        states[self] = Store(
            backend=PublicMethodsBackend(self, backend) if through_public else backend,
            direct=backend,
            local_versions={} if is_in_process(backend) and not through_public else None,
            default_timeout=int(config_number(merged, "CACHE_DEFAULT_TIMEOUT", 300)),
            settings=settings,
            key_prefix=str(merged.get("CACHE_KEY_PREFIX") or ""),
        )
        # Flask-Caching's layout: apps that read the backend from here (its class, its
        # serializer, its client) keep working, so it is the backend itself, unwrapped
        raw = backend.backend if isinstance(backend, FailSafeCache) else backend
        app.extensions.setdefault("cache", {})[self] = raw

        if self.with_jinja2_ext:
            from .jinja import JINJA_CACHE_ATTR_NAME, CacheExtension

            setattr(app.jinja_env, JINJA_CACHE_ATTR_NAME, self)
            app.jinja_env.add_extension(CacheExtension)
        if len(states) == 1:
            from .cli import viewcache_cli

            app.cli.add_command(viewcache_cli)

    # -- the backend of the current app --------------------------------------------------------

    def store_or_none(self) -> Store | None:
        """The :class:`Store` of the current app; ``None`` outside an app context or before
        ``init_app`` (decorated functions then run uncached)."""
        app = current_app_or_none()
        if app is None:
            return None
        states = app.extensions.get("viewcache")
        return None if states is None else states.get(self)

    def store(self) -> Store:
        """The :class:`Store` of the current app.

        :raises RuntimeError: outside an app context, or before ``init_app``.
        """
        app = current_app_or_none()
        if app is None:
            raise RuntimeError(
                "flask-viewcache needs an application context: use `with app.app_context():`"
                " outside requests"
            )
        found: Store | None = app.extensions.get("viewcache", {}).get(self)
        if found is None:
            raise RuntimeError(
                "this Cache is not set up for the current app: call cache.init_app(app)"
            )
        return found

    @property
    def cache(self) -> BaseCache:
        """The backend of the current app (behind its fail-safe wrapper)."""
        return self.store().direct  # type: ignore[no-any-return]

    # -- Flask-Caching's proxies ---------------------------------------------------------------

    def get(self, key: str) -> Any:
        """The value under ``key``; for the key of a ``cached`` view or a ``{% cache %}``
        fragment, what the view returned or the fragment's text, as in Flask-Caching."""
        return public_value(key, self.cache.get(key))

    def set(self, key: str, value: Any, timeout: Timeout = None) -> bool:
        return bool(self.cache.set(key, value, timeout=_plain_timeout(timeout)))

    def add(self, key: str, value: Any, timeout: Timeout = None) -> bool:
        return bool(self.cache.add(key, value, timeout=_plain_timeout(timeout)))

    def delete(self, key: str) -> bool:
        return bool(self.cache.delete(key))

    def has(self, key: str) -> bool:
        return bool(self.cache.has(key))

    def get_many(self, *keys: str) -> list[Any]:
        values = self.cache.get_many(*keys)
        return [public_value(key, value) for key, value in zip(keys, values, strict=False)]

    def get_dict(self, *keys: str) -> dict[str, Any]:
        found = self.cache.get_dict(*keys)
        return {key: public_value(key, value) for key, value in found.items()}

    def set_many(self, mapping: dict[str, Any], timeout: Timeout = None) -> list[Any]:
        return list(self.cache.set_many(mapping, timeout=_plain_timeout(timeout)))

    def delete_many(self, *keys: str) -> list[Any]:
        return list(self.cache.delete_many(*keys))

    def unlink(self, *keys: str) -> list[Any]:
        """``delete_many``; Redis reclaims the memory in the background (``UNLINK``)."""
        backend = self.cache
        raw: Any = getattr(backend, "backend", backend)
        client = redis_write_client(raw)
        if client is None or not keys:
            return self.delete_many(*keys)
        # a cluster refuses one UNLINK of keys in several slots: delete them one by one there
        if isinstance(raw, RedisClusterCache):
            return self.delete_many(*keys)
        prefix = redis_key_prefix(raw)
        full = [prefix + key for key in keys]
        call = getattr(backend, "call", None)
        if call is None:
            client.unlink(*full)
        else:
            call(None, client.unlink, *full)
        return list(keys)

    def inc(self, key: str, delta: int = 1) -> int | None:
        result = self.cache.inc(key, delta)
        return None if result is None else int(result)

    def dec(self, key: str, delta: int = 1) -> int | None:
        result = self.cache.dec(key, delta)
        return None if result is None else int(result)

    def clear(self) -> bool:
        """Delete every entry: under ``CACHE_KEY_PREFIX`` on Redis; every key of the servers
        on Memcached, which cannot delete by prefix."""
        store = self.store()
        if store.local_versions is not None:
            store.local_versions.clear()
        return bool(store.direct.clear())

    # -- decorators ----------------------------------------------------------------------------

    def cached(
        self,
        timeout: Timeout = None,
        key_prefix: str | Callable[[], str] = "view/%s",
        unless: Callable[..., Any] | None = None,
        forced_update: Callable[..., Any] | None = None,
        is_stale: Callable[..., Any] | None = None,
        response_filter: Callable[[Any], Any] | None = None,
        query_string: bool = False,
        hash_method: Callable[..., Any] | None = None,
        cache_none: bool = False,
        make_cache_key: Callable[..., str] | None = None,
        source_check: bool | None = None,
        response_hit_indication: bool | None = False,
        *,
        tags: Iterable[str] = (),
        lock: bool | None = None,
        soft_timeout: float | None = None,
    ) -> Callable[[F], F]:
        """Cache what a view (or any function) returns, per request path, method and host.

        The parameters of Flask-Caching's ``cached`` mean what they mean there. Added:

        :param tags: names for :meth:`invalidate_tags`.
        :param lock: stampede protection: on a miss, one caller (across threads and every
            process that shares the backend) runs the view, the others wait for its result.
            ``None``: ``CACHE_LOCK``.
        :param soft_timeout: seconds after which an entry is stale: the first caller past it
            runs the view again, the others get the stale entry at once
            (stale-while-revalidate). ``timeout`` must be longer.
        """

        def decorator(func: F) -> F:
            view = CachedView(
                self,
                func,
                key_prefix=key_prefix,
                unless=unless,
                forced_update=forced_update,
                is_stale=is_stale,
                response_filter=response_filter,
                query_string=query_string,
                hash_method=hash_method,
                cache_none=cache_none,
                make_cache_key=make_cache_key,
                source_check=source_check,
                response_hit_indication=response_hit_indication,
                tags=tags,
                lock=lock,
                soft_timeout=soft_timeout,
            )
            return view.wrap(timeout)  # type: ignore[no-any-return]

        return decorator

    def memoize(
        self,
        timeout: Timeout = None,
        make_name: Callable[[str], str] | None = None,
        unless: Callable[..., Any] | None = None,
        forced_update: Callable[..., Any] | None = None,
        is_stale: Callable[..., Any] | None = None,
        response_filter: Callable[[Any], Any] | None = None,
        hash_method: Callable[..., Any] | None = None,
        cache_none: bool = False,
        source_check: bool | None = None,
        args_to_ignore: Iterable[str] | None = None,
        *,
        tags: Iterable[str] = (),
        lock: bool | None = None,
        soft_timeout: float | None = None,
    ) -> Callable[[F], F]:
        """Cache a function's result by its arguments (coroutine functions too).

        The parameters of Flask-Caching's ``memoize`` mean what they mean there; ``tags``,
        ``lock`` and ``soft_timeout`` as in :meth:`cached`. Arguments are keyed by content
        (:func:`flask_cachecore.stable_repr`); a call with an argument known only by its
        memory address runs uncached, with one warning per function.
        """

        def decorator(func: F) -> F:
            memoized = Memoized(
                self,
                func,
                make_name=make_name,
                unless=unless,
                forced_update=forced_update,
                is_stale=is_stale,
                response_filter=response_filter,
                hash_method=hash_method,
                cache_none=cache_none,
                source_check=source_check,
                args_to_ignore=args_to_ignore,
                tags=tags,
                lock=lock,
                soft_timeout=soft_timeout,
            )
            return memoized.wrap(timeout)  # type: ignore[no-any-return]

        return decorator

    # -- invalidation --------------------------------------------------------------------------

    def delete_cached(
        self,
        f: Callable[..., Any],
        path: str | None = None,
        query_args: QueryArgs | None = None,
        **kwargs: Any,
    ) -> bool:
        """Delete what a ``cached`` function stored for ``path`` (default: the current
        request's, or ``url_for`` the view with ``kwargs``), ``query_args``, ``method`` and
        ``host`` (keyword arguments; default: the current request's)."""
        view = getattr(f, "_viewcache_view", None)
        if not isinstance(view, CachedView):
            raise ValueError(f"{f!r} is not decorated with Cache.cached")
        return self.delete(view.make_key(path=path, query_args=query_args, **kwargs))

    def delete_memoized(self, f: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """Forget memoized results, in every process that shares the backend.

        With arguments, the result of that one call. Without, every result of the function;
        of one instance only when ``f`` is a method reached through that instance
        (``cache.delete_memoized(obj.method)``); of every instance when reached through the
        class. A bound method supplies its own ``self``/``cls``.
        """
        memoized = memoized_of(f)
        memoized.delete(getattr(f, "__self__", None), args, kwargs)

    def delete_memoized_verhash(self, f: Callable[..., Any], *args: Any) -> None:
        """Drop the version of a memoized function (of one instance, for a bound method):
        every result stored under it becomes a miss, as with :meth:`delete_memoized`."""
        memoized_of(f).delete(getattr(f, "__self__", None), (), {})

    def invalidate_tags(self, *tags: str) -> None:
        """Make every value stored with any of ``tags`` a miss, in every process that shares
        the backend."""
        self.store().bump([tag_version_key(tag) for tag in tags])

    # -- observability -------------------------------------------------------------------------

    def stats(self) -> dict[str, Any]:
        """Hits, misses and errors of the current app in this process, per decorated function
        and in total, with the backend's failure counters."""
        store = self.store()
        functions = {name: counters.as_dict() for name, counters in sorted(store.stats.items())}
        totals = {
            field: sum(counters[field] for counters in functions.values())
            for field in ("hits", "misses", "stale", "bypassed")
        }
        backend_stats = getattr(store.direct, "stats", None)
        backend: dict[str, Any] = backend_stats() if callable(backend_stats) else {}
        errors = int(backend.get("errors", 0)) + int(backend.get("skipped", 0)) + store.errors
        return {**totals, "errors": errors, "backend": backend, "functions": functions}


def public_value(key: str, value: Any) -> Any:
    """What Flask-Caching's ``cache.get`` gives for ``key``: the value a ``cached`` view
    returned (a stored abort is returned, not raised) or a fragment's text, taken out of its
    envelope. A memoized value stays in its envelope: whether it is still valid depends on
    versions stored under other keys (see the README's porting notes). The decorators of a
    ``Cache`` subclass read through its ``get`` and need the envelope itself."""
    if type(value) not in (tuple, list) or len(value) != 4 or value[0] != MARK or value[2]:
        return value
    if reading_envelopes.get():
        return value
    payload = value[1]
    if key.startswith(FRAGMENT_PREFIX) and type(payload) in (list, tuple) and len(payload) == 2:
        text, is_markup = payload
        return Markup(text) if is_markup else text
    try:
        return thaw(payload)
    except HTTPException as exc:
        return exc
    except MalformedEntryError:
        return None


def _plain_timeout(timeout: Timeout) -> int | None:
    return timeout_seconds(timeout)
