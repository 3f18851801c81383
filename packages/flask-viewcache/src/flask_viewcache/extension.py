"""The ``Cache`` extension: Flask-Caching's API on flask_cachecore's backends."""

from __future__ import annotations

import dataclasses
import hashlib
import inspect
import logging
import warnings
from collections.abc import Callable, Iterable
from typing import Any, ParamSpec, TypeVar

from cachelib import BaseCache
from cachelib.serializers import BaseSerializer as CachelibSerializer
from flask import Flask, url_for
from markupsafe import Markup
from werkzeug.exceptions import HTTPException

from flask_cachecore import CacheConfigError, FailSafeCache, RedisClusterCache, make_cache
from flask_cachecore.backends import config_number
from flask_cachecore.compat import current_app_or_none, redis_key_prefix, redis_write_client

from .calls import Timeout, timeout_seconds
from .decorated import CachedFunction, MemoizedFunction
from .engine import Rules
from .keys import (
    FRAGMENT_PREFIX,
    MEMO_PREFIX,
    ArgumentBinder,
    function_version_key,
    memo_version_key,
    tag_version_key,
)
from .memoize import Memoized, is_memoized, memoized_of
from .storable import MalformedEntryError, thaw
from .store import MARK, Settings, Store, is_in_process, use_in_process_serializer
from .subclassing import PublicMethodsBackend, overrides_storage_methods, reading_envelopes
from .viewkeys import QueryArgs, is_variant
from .views import CachedView

logger = logging.getLogger(__name__)
P = ParamSpec("P")
R = TypeVar("R")

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
    "CACHE_HASH_METHOD": hashlib.sha256,
    "CACHE_SERIALIZER": "pickle",
    "CACHE_LOCK": False,
    "CACHE_LOCK_TIMEOUT": 10.0,
    "CACHE_LOCK_WAIT": 10.0,
    "CACHE_STATUS_HEADER": False,
    "CACHE_STORE_SESSION_VIEWS": False,
    "CACHE_MAX_BYTES": 32 * 1024 * 1024,
    "CACHE_MAX_ENTRY_BYTES": 1024 * 1024,
    "CACHE_VIEW_KEY_REQUEST_PARTS": False,
    "CACHE_FRAGMENT_KEY_DIGEST": False,
}


#: ``CACHE_TYPE`` names of Flask-Caching backends that this package builds itself (the rest are
#: flask-cachecore's)
_OWN_BACKENDS = {
    "SASLMemcachedCache": "flask_viewcache.backends.SASLMemcachedCache",
    "saslmemcached": "flask_viewcache.backends.SASLMemcachedCache",
    "SpreadSASLMemcachedCache": "flask_viewcache.backends.SpreadSASLMemcachedCache",
    "spreadsaslmemcached": "flask_viewcache.backends.SpreadSASLMemcachedCache",
    "UWSGICache": "flask_viewcache.backends.UWSGICache",
    "uwsgi": "flask_viewcache.backends.UWSGICache",
}


class Cache:
    """Caching of views, memoized functions and template fragments for Flask apps.

    The API of Flask-Caching 2.x: an app ports by changing its import. One ``Cache`` can serve
    several apps: inside an app context it uses the current app's backend; outside any (a
    background job, a CLI script, a test), the app it was last set up for (``cache.app``), as
    Flask-Caching does.

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
        #: the app last given to :meth:`init_app`, used outside an app context
        self.app: Flask | None = None
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
            view_key_request_parts=bool(merged["CACHE_VIEW_KEY_REQUEST_PARTS"]),
        )
        serializer = merged.get("CACHE_SERIALIZER")
        if isinstance(serializer, type) and issubclass(serializer, CachelibSerializer):
            try:
                merged["CACHE_SERIALIZER"] = serializer()
            except TypeError as exc:
                raise CacheConfigError(
                    "CACHE_SERIALIZER",
                    serializer,
                    f"Couldn't instantiate serializer with no arguments; pass an instance ({exc})",
                ) from None
        backend_name = merged.get("CACHE_TYPE")
        if isinstance(backend_name, str) and backend_name in _OWN_BACKENDS:
            merged["CACHE_TYPE"] = _OWN_BACKENDS[backend_name]
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
        self.app = app

    # -- the backend of the current app --------------------------------------------------------

    def _app(self) -> Flask | None:
        """The current app, else (outside an app context) the one this cache was set up for."""
        app = current_app_or_none()
        return self.app if app is None else app

    def store_or_none(self) -> Store | None:
        """The :class:`Store` of the current app (of :attr:`app` outside an app context);
        ``None`` before ``init_app`` (decorated functions then run uncached)."""
        app = self._app()
        if app is None:
            return None
        states = app.extensions.get("viewcache")
        return None if states is None else states.get(self)

    def store(self) -> Store:
        """The :class:`Store` of the current app (of :attr:`app` outside an app context).

        :raises RuntimeError: before ``init_app``, or in the context of an app that this
            cache is not set up for.
        """
        app = self._app()
        if app is None:
            raise RuntimeError(
                "this Cache is not set up for any app: call cache.init_app(app), or use it"
                " inside an application context (`with app.app_context():`)"
            )
        found: Store | None = app.extensions.get("viewcache", {}).get(self)
        if found is None:
            raise RuntimeError(
                "this Cache is not set up for the current app: call cache.init_app(app)"
            )
        return found

    @property
    def hash_method(self) -> Callable[..., Any]:
        """The hash constructor of keys (``CACHE_HASH_METHOD``) of the current app; assigning
        it changes the keys made from then on, as in Flask-Caching."""
        store = self.store_or_none()
        found = None if store is None else store.settings.hash_method
        return found or hashlib.sha256

    @hash_method.setter
    def hash_method(self, value: Callable[..., Any]) -> None:
        if not callable(value):
            raise CacheConfigError(
                "CACHE_HASH_METHOD", value, "must be a hash constructor like hashlib.sha256"
            )
        store = self.store()
        store.settings = dataclasses.replace(store.settings, hash_method=value)

    @property
    def cache(self) -> BaseCache:
        """The backend of the current app itself, as in Flask-Caching (an instance of the
        ``CACHE_TYPE`` class). The proxies (``cache.get`` ...) go through its fail-safe
        wrapper; calls made on this object directly do not."""
        direct = self.store().direct
        return getattr(direct, "backend", direct)  # type: ignore[no-any-return]

    @property
    def _safe(self) -> BaseCache:
        """The backend of the current app behind its fail-safe wrapper: what proxies use."""
        return self.store().direct  # type: ignore[no-any-return]

    # -- Flask-Caching's proxies ---------------------------------------------------------------

    def get(self, key: str) -> Any:
        """The value under ``key``; for the key of a ``cached`` view or a ``{% cache %}``
        fragment, what the view returned or the fragment's text, and for a memoized call's
        key (``f.make_cache_key(f.uncached, ...)``) its result while it is valid, as in
        Flask-Caching."""
        store = self.store()
        local = store.local_versions
        if local and key in local:  # a version kept in this process (in-process backends)
            return local[key]
        value = store.direct.get(key)
        if key.startswith(MEMO_PREFIX) and not reading_envelopes.get():
            return memoized_value(store, key, value)
        return public_value(key, value)

    def set(self, key: str, value: Any, timeout: Timeout = None) -> bool:
        return bool(self._safe.set(key, value, timeout=_plain_timeout(timeout)))

    def add(self, key: str, value: Any, timeout: Timeout = None) -> bool:
        return bool(self._safe.add(key, value, timeout=_plain_timeout(timeout)))

    def delete(self, key: str) -> bool:
        return bool(self._safe.delete(key))

    def has(self, key: str) -> bool:
        return bool(self._safe.has(key))

    def get_many(self, *keys: str) -> list[Any]:
        values = self._safe.get_many(*keys)
        return [public_value(key, value) for key, value in zip(keys, values, strict=False)]

    def get_dict(self, *keys: str) -> dict[str, Any]:
        found = self._safe.get_dict(*keys)
        return {key: public_value(key, value) for key, value in found.items()}

    def set_many(self, mapping: dict[str, Any], timeout: Timeout = None) -> list[Any]:
        return list(self._safe.set_many(mapping, timeout=_plain_timeout(timeout)))

    def delete_many(self, *keys: str) -> list[Any]:
        return list(self._safe.delete_many(*keys))

    def unlink(self, *keys: str) -> list[Any]:
        """``delete_many``; Redis reclaims the memory in the background (``UNLINK``)."""
        backend = self._safe
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
        result = self._safe.inc(key, delta)
        return None if result is None else int(result)

    def dec(self, key: str, delta: int = 1) -> int | None:
        result = self._safe.dec(key, delta)
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
    ) -> Callable[[Callable[P, R]], CachedFunction[P, R]]:
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

        def decorator(func: Callable[P, R]) -> CachedFunction[P, R]:
            rules = Rules(unless, forced_update, is_stale, response_filter, hash_method, cache_none)
            view = CachedView(
                self,
                func,
                rules.also(source_check, tags, lock, soft_timeout),
                key_prefix=key_prefix,
                query_string=query_string,
                make_cache_key=make_cache_key,
                response_hit_indication=response_hit_indication,
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
    ) -> Callable[[Callable[P, R]], MemoizedFunction[P, R]]:
        """Cache a function's result by its arguments (coroutine functions too).

        The parameters of Flask-Caching's ``memoize`` mean what they mean there; ``tags``,
        ``lock`` and ``soft_timeout`` as in :meth:`cached`. Arguments are keyed by content
        (:func:`flask_cachecore.stable_repr`); a call with an argument known only by its
        memory address runs uncached, with one warning per function.
        """

        def decorator(func: Callable[P, R]) -> MemoizedFunction[P, R]:
            rules = Rules(unless, forced_update, is_stale, response_filter, hash_method, cache_none)
            memoized = Memoized(
                self,
                func,
                rules.also(source_check, tags, lock, soft_timeout),
                make_name=make_name,
                args_to_ignore=args_to_ignore,
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
        class. A method reached through its instance supplies its ``self``; a classmethod
        with arguments needs its class first (``delete_memoized(Cls.method, Cls, 1)``).

        A function decorated with :meth:`cached` is treated as Flask-Caching treats it:
        with arguments, the key its ``make_cache_key`` gives for ``(f.uncached, *args)`` is
        deleted (for a constant ``key_prefix``, the entry itself); without, nothing happens.
        Use :meth:`delete_cached` for views.

        :raises ValueError: for a classmethod without its class, or a method reached through
            its class without an instance, as in Flask-Caching.
        """
        view = getattr(f, "_viewcache_view", None)
        if isinstance(view, CachedView):
            delete_cached_as_memoized(self, view, args, kwargs)
            return
        if not args and not kwargs and callable(f) and not is_memoized(f):
            # Flask-Caching resets a version nothing reads: no error, nothing deleted
            logger.warning("delete_memoized(%r): it is not memoized, nothing is deleted", f)
            return
        memoized = memoized_of(f)
        memoized.delete(getattr(f, "__self__", None), args, kwargs)

    def delete_memoized_verhash(self, f: Callable[..., Any], *args: Any) -> None:
        """Delete the version of a memoized function (of one instance, for a bound method):
        every result stored under it becomes a miss, and the next call makes a new one."""
        memoized_of(f).drop_version(getattr(f, "__self__", None))

    # -- Flask-Caching's private helpers that ported code and tests call ------------------------

    def _memvname(self, funcname: str) -> str:
        """The key of the version of the memoized function named ``funcname`` (as
        :func:`function_namespace` names it)."""
        return function_version_key(funcname)

    def _memoize_kwargs_to_args(
        self, f: Callable[..., Any], *args: Any, **kwargs: Any
    ) -> tuple[tuple[Any, ...], dict[str, Any]]:
        """A call's arguments in Flask-Caching's order: each positional parameter takes its
        keyword argument, else the next positional one, else its default (``None`` when it
        has none or is in ``args_to_ignore``); the other keyword arguments sorted by name."""
        ignored = kwargs.pop("args_to_ignore", None) or ()
        binder = ArgumentBinder(f)
        values: list[Any] = []
        remaining = list(args)
        for name, default in zip(binder.positional, binder.positional_defaults, strict=True):
            if name in ignored:
                value = None
                if remaining:
                    remaining.pop(0)
            elif name in kwargs:
                value = kwargs[name]
            elif remaining:
                value = remaining.pop(0)
            else:
                value = None if default is inspect.Parameter.empty else default
            values.append(value)
        values.extend(args[len(binder.positional) :])
        named = set(binder.positional) | set(ignored)
        others = {k: v for k, v in kwargs.items() if k not in named}
        return tuple(values), dict(sorted(others.items()))

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
    envelope (a tagged view's stays in it; memoized calls: :func:`memoized_value`). The
    decorators of a ``Cache`` subclass read through its ``get`` and need the envelope itself."""
    if type(value) not in (tuple, list) or len(value) != 4 or value[0] != MARK:
        return value
    if value[2] and not all(is_variant(version) for version in value[2]):
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


def memoized_value(store: Store, key: str, value: Any) -> Any:
    """What ``cache.get`` gives for a memoized call's key: the result while the version of
    its function is current (``None`` after ``delete_memoized``). A value that depends on
    more versions (a method's instance, tags) is given in its envelope: those versions are
    kept under keys that the value's key does not name."""
    if not (type(value) in (tuple, list) and len(value) == 4 and value[0] == MARK):
        return value
    versions = value[2]
    if len(versions) != 1:
        return value
    current = store.version(memo_version_key(key))
    return value[1] if current is not None and versions[0] == current else None


def delete_cached_as_memoized(
    cache: Cache, view: CachedView, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> None:
    """``delete_memoized`` of a ``cached`` function, as Flask-Caching 2.5 does it: without
    arguments nothing; with arguments, the key made for ``(f.uncached, *args)``, where the
    view's parameters are filled in order (so the first one takes ``f.uncached``) and a
    per-path key takes ``url_for`` of the view with them."""
    if not args and not kwargs:
        logger.debug("delete_memoized(%s) of a cached function deletes nothing", view.name)
        return
    values = {**dict(zip(view.parameter_names(), (view.func, *args), strict=False)), **kwargs}
    try:
        path = url_for(view.func.__name__, _external=False, **values) if view.per_request else None
        key = view.key_for(cache.store(), path=path)
    except Exception as exc:  # no such endpoint, or its URL cannot be built from these values
        logger.warning("delete_memoized(%s, ...) found no key to delete: %r", view.name, exc)
        return
    cache.delete(key)


def _plain_timeout(timeout: Timeout) -> int | None:
    return timeout_seconds(timeout)
