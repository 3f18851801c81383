"""The one engine behind ``Cache.cached`` and ``Cache.memoize``.

Both decorators run a call the same way, so each rule of Flask-Caching is written here once:

1. no app or no backend: call the function; ``unless`` true: call it, counted as bypassed;
   an argument without a stable key (:class:`~flask_cachecore.UnkeyableError`): call it,
   with one warning per function;
2. read the entry and the versions it depends on in one backend round trip; it is a hit
   while it is ours, made under the current versions (and, for a view, the request's
   variant), ``forced_update`` is not true and ``is_stale`` does not call it stale;
3. a hit past its ``soft_timeout`` is refreshed by one caller, elected by
   :func:`flask_cachecore.claim_refresh` (a lease with a token: a slow refresher can never
   release the claim of the next one); the other callers get the stale entry at once;
4. a miss, with ``lock=`` (or ``CACHE_LOCK``): one caller computes, elected by
   :func:`flask_cachecore.claim_compute`, and the others wait; they get its answer only once
   it is stored, else each computes its own;
5. the result is stored unless it is ``None`` (without ``cache_none``) or ``response_filter``
   rejects it, under ``timeout`` (``f.cache_timeout``, which the app may change); then the
   lease is released.

A decorator configures the engine by subclassing it: how it makes keys (:meth:`Engine.locate`),
what an entry must look like (:meth:`Engine.accepts`), what a hit returns
(:meth:`Engine.answer`), how the function runs and how its result is stored
(:meth:`Engine.keep`). Coroutine functions take the same path but never wait on a lock
(it would block the event loop); they do refresh stale entries.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from blinker import Signal

from flask_cachecore import (
    MISSING,
    ComputeLease,
    UnkeyableError,
    claim_compute,
    claim_refresh,
    qualified_name,
)

from . import store as store_module
from .calls import Timeout, optional_callback, timeout_seconds
from .keys import source_digest, tag_version_key

if TYPE_CHECKING:
    from .extension import Cache
    from .store import FunctionStats, Store

logger = logging.getLogger(__name__)

#: where one call's entry is: ``(key, version keys, variant, whether making the key read the
#: session)``; the variant (a view's method, scheme and host) is recorded among the versions
Located = tuple[str, tuple[str, ...], tuple[str, ...], bool]

# the actions of :meth:`Engine.plan`
HIT, REFRESH, MISS = "hit", "refresh", "miss"


@dataclass(frozen=True)
class Rules:
    """The arguments both decorators take, in the order of Flask-Caching's ``memoize`` (and
    the three that flask-viewcache adds)."""

    unless: Callable[..., Any] | None = None
    forced_update: Callable[..., Any] | None = None
    is_stale: Callable[..., Any] | None = None
    response_filter: Callable[[Any], Any] | None = None
    hash_method: Callable[..., Any] | None = None
    cache_none: bool = False
    source_check: bool | None = None
    tags: tuple[str, ...] = ()
    lock: bool | None = None
    soft: float | None = None  # ``soft_timeout``

    def also(
        self, source_check: bool | None, tags: Iterable[str], lock: bool | None, soft: float | None
    ) -> Rules:
        return dataclasses.replace(
            self, source_check=source_check, tags=tuple(tags), lock=lock, soft=soft
        )


class Engine:
    """One decorated function: its settings, worked out once, and the path of every call."""

    #: the signals of a hit and a miss (they send ``signal_extra`` besides the key and the
    #: arguments)
    hit_signal: Signal
    miss_signal: Signal

    def __init__(self, cache: Cache, func: Callable[..., Any], rules: Rules) -> None:
        self.cache = cache
        self.func = func
        self.name = qualified_name(func)
        self.rules = rules
        self.unless = optional_callback(rules.unless)
        self.forced_update = optional_callback(rules.forced_update)
        self.is_stale = optional_callback(rules.is_stale, leading=1)
        self.response_filter = rules.response_filter
        self.hash_method = rules.hash_method
        self.cache_none = rules.cache_none
        self.source_check = rules.source_check
        self.tag_keys = tuple(tag_version_key(tag) for tag in rules.tags)
        self.lock = rules.lock
        self.soft_timeout = rules.soft
        self.signal_extra: dict[str, Any] = {}
        self._source: str | None = None
        self._warned_unkeyable = False
        #: the decorated function (set by :meth:`wrap`): it holds the writable ``cache_timeout``
        self.wrapper: Any = None

    # -- what each decorator configures ---------------------------------------------------------

    def locate(self, store: Store, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Located:
        """Where the entry of this call is."""
        raise NotImplementedError

    def accepts(self, payload: Any) -> bool:
        """Whether a valid entry's payload may be answered with (a view checks its shape)."""
        return True

    def seen(self, payload: Any) -> Any:
        """What ``is_stale`` is given of a payload."""
        return payload

    def answer(self, payload: Any) -> Any:
        """What a hit (or a waiter handed a stored payload) returns."""
        return payload

    def run(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        return self.func(*args, **kwargs)

    async def run_async(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        return await self.func(*args, **kwargs)

    def keep(
        self,
        store: Store,
        where: Located,
        current: tuple[Any, ...],
        value: Any,
        lease: ComputeLease | None,
    ) -> bool:
        """Store a fresh result if it may be stored, then release ``lease`` (handing the
        payload to its waiters only if it was stored); True when it was stored."""
        stored = self.may_store(value) and self.write(
            store, where, current, value, self.timeout(value)
        )
        if lease is not None:
            lease.release(value if stored else MISSING)
        return stored

    def finish(self, value: Any) -> Any:
        """What a call that ran the function returns of its result."""
        return value

    def mark(self, store: Store, status: str) -> None:
        """Say what the cache did in this call (a view's ``Cache-Status``)."""

    def may_claim(self) -> bool:
        """Whether this call may lead a computation or a refresh (a view's ``HEAD`` may not)."""
        return True

    # -- shared rules ---------------------------------------------------------------------------

    def source(self, hash_method: Callable[..., Any] | None) -> str:
        """The digest of the function's source (``source_check``), read once."""
        if self._source is None:
            self._source = source_digest(self.func, hash_method)
        return self._source

    def checks_source(self, store: Store) -> bool:
        return bool(
            self.source_check or (self.source_check is None and store.settings.source_check)
        )

    def filtered(self, value: Any) -> Any:
        """What ``response_filter`` is given of a result."""
        return value

    def may_store(self, value: Any) -> bool:
        """A result is stored unless it is ``None`` (without ``cache_none``) or
        ``response_filter`` rejects it."""
        if value is None and not self.cache_none:
            return False
        return self.response_filter is None or bool(self.response_filter(self.filtered(value)))

    def timeout(self, value: Any) -> int | None:
        """Seconds to store ``value`` for: the decorated function's ``cache_timeout``."""
        return timeout_seconds(self.wrapper.cache_timeout)

    def write(
        self,
        store: Store,
        where: Located,
        current: tuple[Any, ...],
        payload: Any,
        timeout: int | None,
    ) -> bool:
        try:
            return store.store_new(where[0], payload, where[1], current, timeout, self.soft_timeout)
        except Exception as exc:  # a backend without the fail-safe wrapper, or unpicklable
            store.errors += 1
            logger.warning("could not store the result of %s: %r", self.name, exc)
            return False

    def signal(self, hit: bool, key: str, args: tuple[Any, ...], kwargs: Any) -> None:
        (self.hit_signal if hit else self.miss_signal).send(
            cache=self.cache, cache_key=key, args=args, kwargs=kwargs, **self.signal_extra
        )

    def after_hit(self, store: Store, key: str, args: tuple[Any, ...], kwargs: Any) -> None:
        self.mark(store, "hit")
        if store.settings.signals:
            self.signal(True, key, args, kwargs)

    def count_miss(
        self, store: Store, stats: FunctionStats, key: str, args: tuple[Any, ...], kwargs: Any
    ) -> None:
        stats.misses += 1
        if self.cache_none and store.backend is not store.direct:
            store.backend.has(key)  # Flask-Caching asks a subclass's ``has`` on a miss here
        if store.settings.signals:
            self.signal(False, key, args, kwargs)

    def locking(self, store: Store) -> bool:
        return bool(self.lock or (self.lock is None and store.settings.lock))

    # -- reading --------------------------------------------------------------------------------

    def stored(self, store: Store, where: Located) -> tuple[Any, tuple[Any, ...], float]:
        """``(payload or MISSING, current versions, fresh until)`` of the entry as stored."""
        envelope, current = store.read(where[0], where[1])
        if where[2]:
            current += where[2]
        if not store.valid(envelope, current) or not self.accepts(envelope[1]):
            return MISSING, current, 0
        return envelope[1], current, envelope[3]

    def lookup(
        self, store: Store, where: Located, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> tuple[Any, tuple[Any, ...], bool]:
        """``(payload or MISSING, current versions, whether it is past its soft timeout)``,
        with ``forced_update`` and ``is_stale`` applied."""
        payload, current, fresh_until = self.stored(store, where)
        # ``forced_update`` is asked on every call, hit or miss, as in Flask-Caching
        if self.forced_update is not None and self.forced_update((), args, kwargs):
            return MISSING, current, False
        if payload is MISSING:
            return MISSING, current, False
        if self.is_stale is not None and self.is_stale((self.seen(payload),), args, kwargs):
            return MISSING, current, False
        return payload, current, bool(fresh_until and store_module.wall_clock() > fresh_until)

    def plan(
        self, store: Store, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> tuple[str, Located, tuple[Any, ...], Any, ComputeLease | None] | None:
        """What one call must do, for the sync and async paths alike: ``None`` to call the
        function uncached, else ``(action, where, current versions, hit payload, lease)``.
        Counters, marks and signals are done here."""
        stats = store.function_stats(self.name)
        if self.unless is not None and self.unless((self.func,), args, kwargs):
            stats.bypassed += 1
            self.mark(store, "fwd=bypass")
            return None
        try:
            where = self.locate(store, args, kwargs)
        except UnkeyableError as exc:
            if not self._warned_unkeyable:
                self._warned_unkeyable = True
                logger.warning("%s is called uncached: %s", self.name, exc)
            return None
        payload, current, stale = self.lookup(store, where, args, kwargs)
        if stale and self.may_claim():
            lease = claim_refresh(
                lock_key(where), lock_cache=store.backend, lock_timeout=store.settings.lock_timeout
            )
            if lease is not None:
                stats.stale += 1
                self.mark(store, "fwd=stale")
                return REFRESH, where, current, None, lease
        if payload is not MISSING:
            stats.hits += 1
            self.after_hit(store, where[0], args, kwargs)
            return HIT, where, current, payload, None
        self.count_miss(store, stats, where[0], args, kwargs)
        return MISS, where, current, None, None

    # -- calls ----------------------------------------------------------------------------------

    def call(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """One call of the decorated function (sync)."""
        store = self.cache.store_or_none()
        if store is None:
            return self.func(*args, **kwargs)
        plan = self.plan(store, args, kwargs)
        if plan is None:
            return self.func(*args, **kwargs)
        action, where, current, payload, lease = plan
        if action is HIT:
            return self.answer(payload)
        if action is MISS:
            return self.compute_miss(store, where, current, args, kwargs)
        return self.settle(store, where, current, self.run_leased(args, kwargs, lease), lease)

    def miss(
        self,
        store: Store,
        stats: FunctionStats,
        where: Located,
        current: tuple[Any, ...],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> Any:
        """A miss found by a decorator's own fast path: counted, then computed."""
        self.count_miss(store, stats, where[0], args, kwargs)
        return self.compute_miss(store, where, current, args, kwargs)

    def compute_miss(
        self,
        store: Store,
        where: Located,
        current: tuple[Any, ...],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> Any:
        """Run the function for a miss (counted already) and store its result. With a lock,
        one caller runs it (across threads and processes) while the others wait; they get
        its result only if it was stored, else each runs it itself: a result that is not
        stored may be one user's."""
        lease = None
        if self.locking(store) and self.may_claim():
            # the waiters of one computation must be of its variant: a result handed over to
            # them is never looked at again
            found, lease = claim_compute(
                lock_key(where),
                lambda: self.stored(store, where)[0],
                lock_cache=store.backend,
                lock_timeout=store.settings.lock_timeout,
                wait_timeout=store.settings.lock_wait,
            )
            if lease is None:
                self.mark(store, "fwd=uri-miss")
                return self.answer(found)
        value = self.run_leased(args, kwargs, lease)
        return self.settle(store, where, current, value, lease, marked=True)

    def run_leased(
        self, args: tuple[Any, ...], kwargs: dict[str, Any], lease: ComputeLease | None
    ) -> Any:
        try:
            return self.run(args, kwargs)
        except BaseException:
            if lease is not None:
                lease.release()  # its waiters run the function themselves
            raise

    def settle(
        self,
        store: Store,
        where: Located,
        current: tuple[Any, ...],
        value: Any,
        lease: ComputeLease | None,
        marked: bool = False,
    ) -> Any:
        """Store what the function returned, release the lease, and return the result."""
        stored = self.keep(store, where, current, value, lease)
        if marked:
            self.mark(store, "fwd=uri-miss; stored" if stored else "fwd=uri-miss")
        return self.finish(value)

    async def call_async(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """One call of the decorated coroutine function: the path of :meth:`call`, without
        waiting on a lock after a miss."""
        store = self.cache.store_or_none()
        if store is None:
            return await self.func(*args, **kwargs)
        plan = self.plan(store, args, kwargs)
        if plan is None:
            return await self.func(*args, **kwargs)
        action, where, current, payload, lease = plan
        if action is HIT:
            return self.answer(payload)
        try:
            value = await self.run_async(args, kwargs)
        except BaseException:
            if lease is not None:
                lease.release()
            raise
        return self.settle(store, where, current, value, lease, marked=action is MISS)

    # -- the decorated function -----------------------------------------------------------------

    def sync_wrapper(self) -> Callable[..., Any]:
        call = self.call

        @functools.wraps(self.func)
        def sync_wrapper(*args: Any, **kwargs: Any) -> Any:
            return call(args, kwargs)

        return sync_wrapper

    def wrap(self, timeout: Timeout) -> Any:
        """The decorated function, with Flask-Caching's attributes (``uncached``,
        ``cache_timeout``, ``make_cache_key``) and those the decorator adds
        (:meth:`decorate`)."""
        func = self.func
        if inspect.iscoroutinefunction(func):
            call_async = self.call_async

            @functools.wraps(func)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                return await call_async(args, kwargs)

            wrapper: Any = async_wrapper
        else:
            wrapper = self.sync_wrapper()
        wrapper.uncached = func
        wrapper.cache_timeout = timeout
        self.wrapper = wrapper
        self.decorate(wrapper)
        return wrapper

    def decorate(self, wrapper: Any) -> None:
        """Set the decorator's own attributes on ``wrapper``."""


def lock_key(where: Located) -> str:
    """The key the stampede model claims for one entry: of its variant too, so that the
    waiters of one computation are of the variant it is made for."""
    return "|".join((where[0], *where[2])) if where[2] else where[0]
