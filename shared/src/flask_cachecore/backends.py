"""Backends from Flask config, by the ``CACHE_*`` keys of Flask-Caching 2.x.

``make_backend(app.config)`` reads ``CACHE_TYPE`` and the keys that type needs, and returns a
cachelib-API backend. Another prefix (``prefix="HTTPCACHE_"``) reads the same keys under that
prefix, so each extension can have a store of its own. Every mistake is reported at once, as a
:class:`~flask_cachecore.errors.CacheConfigError` naming the key and its value.
"""

from __future__ import annotations

import importlib
import inspect
import logging
import warnings
from collections.abc import Callable, Mapping
from typing import Any, cast

from cachelib import BaseCache, NullCache
from cachelib.serializers import BaseSerializer as CachelibSerializer

from .errors import CacheConfigError
from .filesystem import FileSystemCache
from .memcached import PymemcacheCache, parse_servers
from .memory import MemoryCache
from .serializers import Serializer, limit_entry_size, serializer_by_name

logger = logging.getLogger(__name__)

#: default seconds for one network operation (socket timeout of Redis and memcached clients)
DEFAULT_OPERATION_TIMEOUT = 0.25

Factory = Callable[[Mapping[str, Any], str, list[Any], dict[str, Any], Serializer], BaseCache]


class _Settings:
    """Reads ``prefix + name`` from the config, and reports bad values naming the full key."""

    def __init__(self, config: Mapping[str, Any], prefix: str) -> None:
        self.config = config
        self.prefix = prefix

    def get(self, name: str, default: Any = None) -> Any:
        return self.config.get(self.prefix + name, default)

    def fail(self, name: str, reason: str) -> CacheConfigError:
        return CacheConfigError(self.prefix + name, self.get(name), reason)

    def number(self, name: str, default: float, minimum: float = 0) -> float:
        return config_number(self.config, self.prefix + name, default, minimum=minimum)


def config_number(config: Mapping[str, Any], key: str, default: float, minimum: float = 0) -> float:
    """``config[key]`` as a number of at least ``minimum``; a clear error otherwise."""
    value = config.get(key, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float):
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise CacheConfigError(key, config.get(key), "must be a number") from None
    if value < minimum:
        raise CacheConfigError(key, value, f"must be at least {minimum}")
    return float(value)


def _need(settings: _Settings, module: str, extra: str) -> None:
    try:
        importlib.import_module(module)
    except ImportError:
        raise settings.fail(
            "TYPE",
            f"needs the {module!r} package, which is not installed:"
            f" pip install 'flask-cachecore[{extra}]'",
        ) from None


def _socket_options(settings: _Settings, kwargs: dict[str, Any]) -> None:
    timeout = settings.number("OPERATION_TIMEOUT", DEFAULT_OPERATION_TIMEOUT)
    kwargs.setdefault("socket_timeout", timeout or None)
    kwargs.setdefault("socket_connect_timeout", timeout or None)
    # redis-py 6+ retries a timed-out command (10 times with backoff in redis-py 8): a hung
    # server then holds a request for seconds instead of one operation timeout. The circuit
    # breaker is the retry policy here: one try, then a miss.
    kwargs.setdefault("retry", _no_retry())


def _no_retry() -> Any:
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    return Retry(NoBackoff(), 0)


def _null(s: _Settings, args: list[Any], kwargs: dict[str, Any], ser: Serializer) -> BaseCache:
    return NullCache(*args, **kwargs)


def _simple(s: _Settings, args: list[Any], kwargs: dict[str, Any], ser: Serializer) -> BaseCache:
    kwargs.setdefault("threshold", int(s.number("THRESHOLD", 500, minimum=1)))
    kwargs.setdefault("ignore_errors", bool(s.get("IGNORE_ERRORS", False)))
    kwargs.setdefault("max_bytes", _byte_bound(s, "MAX_BYTES"))
    kwargs.setdefault("max_entry_bytes", _byte_bound(s, "MAX_ENTRY_BYTES"))
    kwargs["serializer"] = ser
    return MemoryCache(*args, **kwargs)


def _byte_bound(s: _Settings, name: str) -> int | None:
    """A byte bound: ``None`` (and 0) for none."""
    return int(s.number(name, 0)) or None


def _filesystem(
    s: _Settings, args: list[Any], kwargs: dict[str, Any], ser: Serializer
) -> BaseCache:
    directory = s.get("DIR")
    if not args and not directory:
        raise s.fail("DIR", "FileSystemCache needs a directory")
    kwargs.setdefault("threshold", int(s.number("THRESHOLD", 500)))
    file_hash = s.get("FILE_HASH_METHOD")
    if file_hash is not None:
        if not callable(file_hash):
            raise s.fail("FILE_HASH_METHOD", "must be a hash constructor like hashlib.sha256")
        kwargs.setdefault("hash_method", file_hash)  # names the files; cachelib's default: sha256
    cache = FileSystemCache(*(args or [directory]), **kwargs)
    cache.serializer = ser
    return cache


def _redis_kwargs(s: _Settings, kwargs: dict[str, Any]) -> None:
    _need(s, "redis", "redis")
    kwargs.setdefault("key_prefix", s.get("KEY_PREFIX"))
    _socket_options(s, kwargs)


def _redis(s: _Settings, args: list[Any], kwargs: dict[str, Any], ser: Serializer) -> BaseCache:
    from .redis_backends import RedisCache

    _redis_kwargs(s, kwargs)
    url = s.get("REDIS_URL")
    if url:
        import redis

        try:
            client = redis.Redis.from_url(
                url,
                socket_timeout=kwargs.pop("socket_timeout"),
                socket_connect_timeout=kwargs.pop("socket_connect_timeout"),
                retry=kwargs.pop("retry"),
                **({"db": s.get("REDIS_DB")} if s.get("REDIS_DB") is not None else {}),
            )
        except (ValueError, TypeError) as exc:
            raise s.fail("REDIS_URL", f"is not a valid Redis URL ({exc})") from None
        return RedisCache(client, *args, serializer=ser, **kwargs)
    port = s.get("REDIS_PORT", 6379)
    try:
        port = int(port)
    except (TypeError, ValueError):
        raise s.fail("REDIS_PORT", "must be a port number") from None
    kwargs.setdefault("host", s.get("REDIS_HOST", "localhost"))
    kwargs.setdefault("port", port)
    kwargs.setdefault("password", s.get("REDIS_PASSWORD"))
    kwargs.setdefault("db", s.get("REDIS_DB", 0) or 0)
    return RedisCache(*args, serializer=ser, **kwargs)


def _redis_sentinel(
    s: _Settings, args: list[Any], kwargs: dict[str, Any], ser: Serializer
) -> BaseCache:
    from .redis_backends import RedisSentinelCache

    _redis_kwargs(s, kwargs)
    sentinels = s.get("REDIS_SENTINELS") or [("127.0.0.1", 26379)]
    try:
        nodes = parse_servers(sentinels) if isinstance(sentinels, str) else sentinels
    except ValueError as exc:
        raise s.fail("REDIS_SENTINELS", str(exc)) from None
    kwargs.update(
        password=s.get("REDIS_PASSWORD"),
        sentinel_password=s.get("REDIS_SENTINEL_PASSWORD"),
        db=s.get("REDIS_DB", 0) or 0,
        serializer=ser,
    )
    return RedisSentinelCache(nodes, s.get("REDIS_SENTINEL_MASTER") or "mymaster", *args, **kwargs)


def _redis_cluster(
    s: _Settings, args: list[Any], kwargs: dict[str, Any], ser: Serializer
) -> BaseCache:
    from .redis_backends import RedisClusterCache

    _redis_kwargs(s, kwargs)
    cluster = s.get("REDIS_CLUSTER")
    if not cluster:
        raise s.fail(
            "REDIS_CLUSTER", "RedisClusterCache needs its startup nodes, 'host:port,host:port'"
        )
    try:
        parse_servers(cluster)
    except ValueError as exc:
        raise s.fail("REDIS_CLUSTER", str(exc)) from None
    kwargs.update(password=s.get("REDIS_PASSWORD"), serializer=ser)
    return RedisClusterCache(cluster, *args, **kwargs)


def _memcached(s: _Settings, args: list[Any], kwargs: dict[str, Any], ser: Serializer) -> BaseCache:
    _need(s, "pymemcache", "memcached")
    servers = args.pop(0) if args else s.get("MEMCACHED_SERVERS") or ["127.0.0.1:11211"]
    try:
        parse_servers(servers)
    except ValueError as exc:
        raise s.fail("MEMCACHED_SERVERS", str(exc)) from None
    timeout = s.number("OPERATION_TIMEOUT", DEFAULT_OPERATION_TIMEOUT) or None
    kwargs.setdefault("timeout", timeout)
    kwargs.setdefault("connect_timeout", timeout)
    kwargs.setdefault("key_prefix", s.get("KEY_PREFIX"))
    kwargs["serializer"] = ser
    return PymemcacheCache(servers, *args, **kwargs)


#: ``CACHE_TYPE`` names, as Flask-Caching 2.x spells them, and their old lower-case aliases.
BACKENDS: dict[str, Callable[[_Settings, list[Any], dict[str, Any], Serializer], BaseCache]] = {
    "NullCache": _null,
    "SimpleCache": _simple,
    "FileSystemCache": _filesystem,
    "RedisCache": _redis,
    "RedisSentinelCache": _redis_sentinel,
    "RedisClusterCache": _redis_cluster,
    "MemcachedCache": _memcached,
}
_ALIASES = {
    "null": "NullCache",
    "simple": "SimpleCache",
    "filesystem": "FileSystemCache",
    "redis": "RedisCache",
    "redissentinel": "RedisSentinelCache",
    "rediscluster": "RedisClusterCache",
    "memcached": "MemcachedCache",
    "pymemcache": "MemcachedCache",
    "MemoryCache": "SimpleCache",
}
_UNSUPPORTED = {
    "SASLMemcachedCache",
    "SpreadSASLMemcachedCache",
    "UWSGICache",
    "saslmemcached",
    "uwsgi",
}


#: import paths of Flask-Caching's backends and of flask-viewcache's names for them: a
#: ``CACHE_TYPE`` under these builds the backend of that name from the ``CACHE_*`` keys
_PORTED_PATHS = ("flask_caching.", "flask_viewcache.")


def make_serializer(config: Mapping[str, Any], prefix: str = "CACHE_") -> Serializer:
    """The serializer named by ``{prefix}SERIALIZER``: ``pickle`` (default), ``json``,
    ``signed-pickle`` (keyed by ``SECRET_KEY``, with ``SECRET_KEY_FALLBACKS``), a
    :class:`~flask_cachecore.serializers.Serializer` or a dotted path to one, or, as in
    Flask-Caching 2.5, a cachelib ``BaseSerializer`` instance (used as it is) or class (made
    with no arguments)."""
    key = prefix + "SERIALIZER"
    value = config.get(key) or "pickle"
    if isinstance(value, Serializer | CachelibSerializer):
        return cast(Serializer, value)  # cachelib's has the same dumps/loads
    if isinstance(value, type):
        return _serializer_from_class(key, value)
    if not isinstance(value, str):
        raise CacheConfigError(key, value, _SERIALIZER_CHOICES)
    if "." in value:
        obj = _import(key, value)
        return _serializer_from_class(key, obj) if isinstance(obj, type) else obj
    try:
        return serializer_by_name(
            value, config.get("SECRET_KEY"), config.get("SECRET_KEY_FALLBACKS") or ()
        )
    except ValueError as exc:
        raise CacheConfigError(key, value, str(exc)) from None


_SERIALIZER_CHOICES = (
    "must be 'pickle', 'json', 'signed-pickle', a flask-cachecore Serializer"
    " or a cachelib BaseSerializer (an instance or a class)"
)


def _serializer_from_class(key: str, cls: type) -> Serializer:
    if not issubclass(cls, Serializer | CachelibSerializer):
        raise CacheConfigError(key, cls, _SERIALIZER_CHOICES)
    try:
        return cast(Serializer, cls())
    except TypeError as exc:
        raise CacheConfigError(
            key, cls, f"could not be made with no arguments; pass an instance ({exc})"
        ) from None


def _import(key: str, path: str) -> Any:
    module_name, _, attribute = path.rpartition(".")
    try:
        return getattr(importlib.import_module(module_name), attribute)
    except ImportError as exc:
        raise CacheConfigError(key, path, f"cannot import {module_name!r} ({exc})") from None
    except AttributeError:
        raise CacheConfigError(key, path, f"{module_name!r} has no {attribute!r}") from None


def make_backend(
    config: Mapping[str, Any],
    prefix: str = "CACHE_",
    *,
    app: Any = None,
    serializer: Serializer | None = None,
) -> BaseCache:
    """Build the backend that ``{prefix}TYPE`` names, from the other ``{prefix}*`` keys.

    ``{prefix}TYPE`` is one of :data:`BACKENDS` (or an old lower-case alias such as ``redis``), a
    Flask-Caching path such as ``flask_caching.backends.RedisCache`` or its port
    ``flask_viewcache.backends.RedisCache`` (mapped to ours, read from the same keys), a cachelib
    class (``cachelib.MongoDbCache``) or the dotted path of a factory. A factory is a callable
    ``factory(app, config, args, kwargs)``, or a ``BaseCache`` subclass with such a ``factory``
    classmethod, as in Flask-Caching; a plain ``BaseCache`` subclass is called with
    ``*{prefix}ARGS, **{prefix}OPTIONS``.

    Common keys: ``DEFAULT_TIMEOUT`` (300), ``KEY_PREFIX``, ``ARGS``, ``OPTIONS``,
    ``SERIALIZER``, ``OPERATION_TIMEOUT`` (0.25 s: the socket timeout of network backends) and
    ``MAX_ENTRY_BYTES`` (none: a value whose serialized form is larger is not stored, on every
    backend); ``SimpleCache`` also reads ``MAX_BYTES`` (none: its byte budget).
    """
    settings = _Settings(config, prefix)
    name = settings.get("TYPE") or "NullCache"
    if not isinstance(name, str):
        raise settings.fail("TYPE", "must be a backend name or a dotted import path")
    args = list(settings.get("ARGS") or [])
    options = settings.get("OPTIONS") or {}
    if not isinstance(options, Mapping):
        raise settings.fail("OPTIONS", "must be a mapping of keyword arguments")
    kwargs: dict[str, Any] = {"default_timeout": int(settings.number("DEFAULT_TIMEOUT", 300))}
    kwargs.update(options)
    ser = serializer or make_serializer(config, prefix)

    if name.startswith(_PORTED_PATHS) and name.rsplit(".", 1)[-1] in BACKENDS:
        name = name.rsplit(".", 1)[-1]  # a ported Flask-Caching config: the same backend, ours
    name = _ALIASES.get(name, name)
    if name in _UNSUPPORTED:
        raise settings.fail("TYPE", f"is not supported; use one of {', '.join(BACKENDS)}")
    factory = BACKENDS.get(name)
    if factory is _null and settings.get("SERIALIZER") not in _DEFAULT_SERIALIZER:
        _give_serializer(settings, NullCache(), ser)
    entry_limit = _byte_bound(settings, "MAX_ENTRY_BYTES")
    if entry_limit and factory is not _simple:  # MemoryCache measures its entries itself
        ser = limit_entry_size(ser, entry_limit)
    if factory is not None:
        try:
            return factory(settings, args, kwargs, ser)
        except CacheConfigError:
            raise
        except (TypeError, ValueError) as exc:
            raise settings.fail(
                "TYPE", f"could not be built from the {prefix}* settings: {exc}"
            ) from None
    if "." not in name:
        raise settings.fail(
            "TYPE",
            f"is not a known backend; use one of {', '.join(BACKENDS)} or a dotted import path",
        )
    backend = _from_import(settings, name, app, args, kwargs)
    if settings.get("SERIALIZER") not in _DEFAULT_SERIALIZER:
        _give_serializer(settings, backend, ser)
    return backend


#: ``SERIALIZER`` values that mean "no choice made": an imported backend keeps its own
_DEFAULT_SERIALIZER = (None, "", "pickle")


def _give_serializer(settings: _Settings, backend: BaseCache, ser: Serializer) -> None:
    """Put the configured serializer in a backend built from an import path, as Flask-Caching
    2.5 does; a backend that keeps no ``serializer`` cannot take one, which is worth a warning."""
    if hasattr(backend, "serializer"):
        backend.serializer = ser
    else:
        warnings.warn(
            f"{settings.prefix}SERIALIZER is ignored: {type(backend).__name__} has no serializer",
            stacklevel=4,
        )


def _from_import(
    settings: _Settings, path: str, app: Any, args: list[Any], kwargs: dict[str, Any]
) -> BaseCache:
    target = _import(settings.prefix + "TYPE", path)
    if isinstance(target, type) and issubclass(target, BaseCache):
        factory = getattr(target, "factory", None)
        backend = (
            factory(app, settings.config, args, kwargs) if factory else target(*args, **kwargs)
        )
    elif callable(target) and not inspect.isclass(target):
        backend = target(app, settings.config, args, kwargs)
    else:
        raise settings.fail(
            "TYPE", "is neither a cachelib BaseCache subclass nor a factory function"
        )
    if not all(callable(getattr(backend, m, None)) for m in ("get", "set", "delete")):
        raise settings.fail(
            "TYPE", f"made {type(backend).__name__}, which is not a cache (no get/set/delete)"
        )
    return backend


def make_cache(
    config: Mapping[str, Any],
    prefix: str = "CACHE_",
    *,
    app: Any = None,
    serializer: Serializer | None = None,
) -> BaseCache:
    """:func:`make_backend` wrapped in a :class:`~flask_cachecore.failsafe.FailSafeCache`,
    unless ``{prefix}FAILSAFE`` is False or the backend is a ``NullCache``."""
    from .failsafe import FailSafeCache

    backend = make_backend(config, prefix, app=app, serializer=serializer)
    if isinstance(backend, NullCache) or config.get(prefix + "FAILSAFE", True) is False:
        return backend
    return FailSafeCache.from_config(backend, config, prefix)
