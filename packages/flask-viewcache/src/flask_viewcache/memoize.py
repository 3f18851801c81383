"""``Cache.memoize``: caching a function's result by its arguments.

A hit is one backend read: the value's envelope and the versions it depends on (the
function's, the instance's for a method, one per tag) come back from one ``get_many``.
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from flask_cachecore import MISSING, UnkeyableError, compute_once, qualified_name

from . import store as store_module
from .calls import Timeout, join_generator, optional_callback, timeout_seconds
from .keys import (
    ArgumentBinder,
    function_version_key,
    hexdigest,
    instance_token,
    instance_version_key,
    memo_prefix,
    source_digest,
    tag_version_key,
)
from .signals import cache_memoize_hit, cache_memoize_miss

if TYPE_CHECKING:
    from .extension import Cache
    from .store import Store

logger = logging.getLogger(__name__)


# the actions of :meth:`Memoized._plan`
_UNCACHED, _HIT, _REFRESH, _MISS = "uncached", "hit", "refresh", "miss"


class Memoized:
    """What ``memoize`` knows of one decorated function, worked out once."""

    def __init__(
        self,
        cache: Cache,
        func: Callable[..., Any],
        *,
        make_name: Callable[[str], str] | None,
        unless: Callable[..., Any] | None,
        forced_update: Callable[..., Any] | None,
        is_stale: Callable[..., Any] | None,
        response_filter: Callable[[Any], Any] | None,
        hash_method: Callable[..., Any] | None,
        cache_none: bool,
        source_check: bool | None,
        args_to_ignore: Iterable[str] | None,
        tags: Iterable[str],
        lock: bool | None,
        soft_timeout: float | None,
    ) -> None:
        self.cache = cache
        self.func = func
        self.name = qualified_name(func)
        self.binder = ArgumentBinder(func, args_to_ignore or ())
        self.make_name = make_name
        self.unless = optional_callback(unless)
        self.forced_update = optional_callback(forced_update)
        self.is_stale = optional_callback(is_stale, leading=1)
        self.response_filter = response_filter
        self.hash_method = hash_method
        self.cache_none = cache_none
        self.source_check = source_check
        self.tags = tuple(tags)
        self.lock = lock
        self.soft_timeout = soft_timeout
        self.prefix = memo_prefix(self.name)
        self.function_version_key = function_version_key(self.name)
        self.tag_keys = tuple(tag_version_key(tag) for tag in self.tags)
        self.static_version_keys = (self.function_version_key, *self.tag_keys)
        self.by_instance = self.binder.first_is_self
        self._source: str | None = None
        self._warned_unkeyable = False
        self.wrapper: Any = None  # set by ``wrap``; holds the writable ``cache_timeout``

    # -- keys ----------------------------------------------------------------------------------

    def keys(
        self, store: Store, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> tuple[str, tuple[str, ...]]:
        """The value key of one call and the version keys its value depends on."""
        owner = None
        version_keys = self.static_version_keys
        if self.by_instance and args:
            owner = instance_token(args[0])
            version_keys = (
                self.function_version_key,
                instance_version_key(self.name, owner),
                *self.tag_keys,
            )
        text = (self.make_name(self.name) if self.make_name else self.name) + self.binder.token(
            args, kwargs, owner
        )
        settings = store.settings
        hash_method = self.hash_method or settings.hash_method
        if self.source_check or (self.source_check is None and settings.source_check):
            text += self.source(hash_method)
        return self.prefix + hexdigest(text, hash_method), version_keys

    def source(self, hash_method: Callable[..., Any] | None) -> str:
        if self._source is None:
            self._source = source_digest(self.func, hash_method)
        return self._source

    def make_cache_key(self, _func: Any = None, *args: Any, **kwargs: Any) -> str:
        """The value key of a call, as Flask-Caching's ``f.make_cache_key(f.uncached, *args)``."""
        return self.keys(self.cache.store(), args, kwargs)[0]

    def delete(self, bound_to: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        """``delete_memoized``: one call's value, or (no arguments) every value, of the
        function or, for a method reached through an instance, of that instance."""
        store = self.cache.store()
        is_instance = bound_to is not None and not isinstance(bound_to, type)
        if not args and not kwargs:
            if is_instance and self.by_instance:
                store.bump([instance_version_key(self.name, instance_token(bound_to))])
            else:
                store.bump([self.function_version_key])
            return
        store.backend.delete(self.keys(store, self.owner_args(bound_to, args), kwargs)[0])

    def owner_args(self, bound_to: Any, args: tuple[Any, ...]) -> tuple[Any, ...]:
        """The arguments of a ``delete_memoized`` call, with the ``self`` of a method reached
        through its instance put first (also when ``args_to_ignore`` names it), as in
        Flask-Caching 2.5.

        :raises ValueError: for a classmethod whose class is not the first argument, or a
            method reached through its class without an instance, as in Flask-Caching.
        """
        first = self.binder.positional[0] if self.binder.positional else None
        if first == "cls" and not (args and isinstance(args[0], type)):
            raise ValueError(
                f"delete_memoized of the classmethod {self.name} with arguments needs the class"
                " as the first argument: cache.delete_memoized(Cls.method, Cls, ...)"
            )
        if first != "self":
            return args
        if bound_to is not None and not isinstance(bound_to, type):
            return args if args and args[0] is bound_to else (bound_to, *args)
        if not args and "self" not in self.binder.ignored:
            raise ValueError(
                f"delete_memoized of the method {self.name} reached through its class needs"
                " the instance as the first argument: cache.delete_memoized(Cls.method, obj, ...)"
            )
        return args

    def drop_version(self, bound_to: Any) -> None:
        """``delete_memoized_verhash``: delete the version (of the instance, for a method
        reached through one); every value made under it becomes a miss, and the next call
        makes a new version."""
        store = self.cache.store()
        if bound_to is not None and not isinstance(bound_to, type) and self.by_instance:
            store.drop([instance_version_key(self.name, instance_token(bound_to))])
        else:
            store.drop([self.function_version_key])

    # -- calls ---------------------------------------------------------------------------------

    def _unkeyable(self, exc: UnkeyableError) -> None:
        if not self._warned_unkeyable:
            self._warned_unkeyable = True
            logger.warning("%s is called uncached: %s", self.name, exc)

    def _should_store(self, value: Any) -> bool:
        if value is None and not self.cache_none:
            return False
        return self.response_filter is None or bool(self.response_filter(value))

    def _store(
        self,
        store: Store,
        key: str,
        version_keys: tuple[str, ...],
        current: tuple[Any, ...],
        value: Any,
    ) -> None:
        if not self._should_store(value):
            return
        try:
            timeout = timeout_seconds(self.wrapper.cache_timeout)
            store.store_new(key, value, version_keys, current, timeout, self.soft_timeout)
        except Exception as exc:  # a backend without the fail-safe wrapper, or unpicklable
            store.errors += 1
            logger.warning("could not store the result of %s: %r", self.name, exc)

    def _signal(self, hit: bool, key: str, args: tuple[Any, ...], kwargs: Any) -> None:
        signal = cache_memoize_hit if hit else cache_memoize_miss
        signal.send(cache=self.cache, cache_key=key, f=self.func, args=args, kwargs=kwargs)

    def _lookup(self, store: Store, key: str, version_keys: tuple[str, ...]) -> Any:
        envelope, current = store.read(key, version_keys)
        return envelope[1] if store.valid(envelope, current) else MISSING

    def _plan(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...]:
        """What one call must do, shared by the sync and async paths:
        ``(action, store, key, version_keys, current, hit value)``, where the action is to run
        uncached, return a hit, refresh a stale entry (this caller was elected), or compute a
        miss. Counters and signals are done here."""
        store = self.cache.store_or_none()
        if store is None:
            return _UNCACHED, None, "", (), (), None
        if self.unless is not None and self.unless((self.func,), args, kwargs):
            store.function_stats(self.name).bypassed += 1
            return _UNCACHED, None, "", (), (), None
        try:
            key, version_keys = self.keys(store, args, kwargs)
        except UnkeyableError as exc:
            self._unkeyable(exc)
            return _UNCACHED, None, "", (), (), None
        envelope, current = store.read(key, version_keys)
        stats = store.function_stats(self.name)
        if (
            (self.forced_update is None or not self.forced_update((), args, kwargs))
            and store.valid(envelope, current)
            and (self.is_stale is None or not self.is_stale((envelope[1],), args, kwargs))
        ):
            fresh_until = envelope[3]
            if (
                fresh_until
                and store_module.wall_clock() > fresh_until
                and store.claim_refresh(key, store.settings.lock_timeout)
            ):
                stats.stale += 1
                return _REFRESH, store, key, version_keys, current, None
            stats.hits += 1
            if store.settings.signals:
                self._signal(True, key, args, kwargs)
            return _HIT, store, key, version_keys, current, envelope[1]
        stats.misses += 1
        if store.settings.signals:
            self._signal(False, key, args, kwargs)
        return _MISS, store, key, version_keys, current, None

    def call(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """One call of the memoized function (sync)."""
        action, store, key, version_keys, current, found = self._plan(args, kwargs)
        if action is _HIT:
            return found
        func = self.func
        if action is _UNCACHED:
            return func(*args, **kwargs)

        def compute() -> Any:
            value = func(*args, **kwargs)
            if inspect.isgenerator(value):
                value = join_generator(value)
            self._store(store, key, version_keys, current, value)
            return value

        if action is _REFRESH:
            try:
                return compute()
            finally:
                store.release_refresh(key)
        if self.lock or (self.lock is None and store.settings.lock):
            return compute_once(
                key,
                lambda: self._lookup(store, key, version_keys),
                compute,
                lock_cache=store.backend,
                lock_timeout=store.settings.lock_timeout,
                wait_timeout=store.settings.lock_wait,
            )
        return compute()

    async def call_async(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """One call of the memoized coroutine function. Stampede locks do not apply here:
        waiting on a lock would block the event loop."""
        action, store, key, version_keys, current, found = self._plan(args, kwargs)
        if action is _HIT:
            return found
        if action is _UNCACHED:
            return await self.func(*args, **kwargs)
        try:
            value = await self.func(*args, **kwargs)
            self._store(store, key, version_keys, current, value)
            return value
        finally:
            if action is _REFRESH:
                store.release_refresh(key)

    def wrap(self, timeout: Timeout) -> Any:
        """The decorated function, with Flask-Caching's attributes."""
        func = self.func
        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                return await self.call_async(args, kwargs)

            wrapper: Any = async_wrapper
        else:

            @functools.wraps(func)
            def sync_wrapper(*args: Any, **kwargs: Any) -> Any:
                return self.call(args, kwargs)

            wrapper = sync_wrapper
        wrapper.uncached = func
        wrapper.cache_timeout = timeout
        wrapper.make_cache_key = self.make_cache_key
        wrapper.delete_memoized = lambda: self.cache.delete_memoized(wrapper)
        wrapper._viewcache_memoized = self
        self.wrapper = wrapper
        return wrapper


def is_memoized(func: Any) -> bool:
    """Whether ``func`` is decorated with ``memoize`` (or a method bound from one)."""
    return isinstance(getattr(func, "_viewcache_memoized", None), Memoized)


def memoized_of(func: Any) -> Memoized:
    """The :class:`Memoized` behind a decorated function or a method bound from one."""
    if not callable(func):
        raise TypeError(
            f"delete_memoized takes the memoized function itself, not its name: got {func!r}"
        )
    memoized = getattr(func, "_viewcache_memoized", None)
    if not isinstance(memoized, Memoized):
        raise ValueError(f"{qualified_name(func)} is not decorated with Cache.memoize")
    return memoized
