"""Locks against cache stampedes.

When a popular entry expires, every request that misses would recompute it at once. Two
guards stop that:

- :class:`SingleFlight`: inside one process, the first caller for a key computes and the
  others wait for its result.
- :class:`DistributedLock`: across processes and hosts, through the backend's atomic ``add``
  (``SET NX EX`` on Redis, ``add`` on memcached) with a timeout, so a crashed holder cannot
  block the key for longer than that.

:func:`claim_compute` combines both for the usual "look up, else compute once and store",
and :func:`compute_once` wraps it for a caller whose result may go to every waiter.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any, Generic, TypeVar

from cachelib import BaseCache

logger = logging.getLogger(__name__)
T = TypeVar("T")

#: what a lookup returns when the cache has nothing for the key
MISSING: Any = object()


class _Flight(Generic[T]):
    __slots__ = ("done", "error", "value")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.value: Any = MISSING
        self.error: BaseException | None = None


class SingleFlight(Generic[T]):
    """Per-key single flight inside one process.

    >>> flight = SingleFlight[int]()
    >>> flight.run("k", lambda: 42)
    42
    """

    def __init__(self) -> None:
        self._flights: dict[str, _Flight[T]] = {}
        self._lock = threading.Lock()

    def join(self, key: str) -> tuple[_Flight[T], bool]:
        """The flight of ``key`` and whether this caller leads it (it then must :meth:`land`
        it, whatever happens)."""
        with self._lock:
            flight = self._flights.get(key)
            if flight is not None:
                return flight, False
            flight = self._flights[key] = _Flight()
            return flight, True

    def land(
        self, key: str, flight: _Flight[T], value: Any = MISSING, error: BaseException | None = None
    ) -> None:
        """End the flight of ``key``: its waiters wake up and get ``value`` or ``error``
        (:data:`MISSING` and no error: nothing is handed over)."""
        flight.value = value
        flight.error = error
        with self._lock:
            if self._flights.get(key) is flight:
                del self._flights[key]
        flight.done.set()

    def run(self, key: str, compute: Callable[[], T], wait_timeout: float | None = None) -> T:
        """``compute()`` once for all concurrent callers of ``key``; they all get its result
        (or its exception). A waiter that waited ``wait_timeout`` seconds computes by itself."""
        flight, leader = self.join(key)
        if not leader:
            if not flight.done.wait(wait_timeout) or flight.value is MISSING:
                return compute() if flight.error is None else _raise(flight.error)
            return flight.value  # type: ignore[no-any-return]
        try:
            value = compute()
        except BaseException as exc:
            self.land(key, flight, error=exc)
            raise
        self.land(key, flight, value)
        return value


def _raise(error: BaseException) -> Any:
    raise error


def compare_and_delete(cache: BaseCache, key: str, value: Any) -> bool:
    """Delete ``key`` if it still holds ``value``: atomic where the backend offers it (Redis,
    :class:`~flask_cachecore.memory.MemoryCache`), else a read then a delete."""
    native = getattr(cache, "compare_and_delete", None)
    if native is not None:
        return bool(native(key, value))
    lock = getattr(cache, "_lock", None)
    if lock is not None:
        with lock:
            return bool(cache.get(key) == value and cache.delete(key))
    return bool(cache.get(key) == value and cache.delete(key))


class DistributedLock:
    """A lock shared by every process that uses the same backend.

    It is acquired with the backend's atomic ``add`` and expires after ``timeout`` seconds even
    if its holder dies; it is released only by the holder (the key must still hold its token).

    >>> from flask_cachecore.memory import MemoryCache
    >>> with DistributedLock(MemoryCache(), "report") as held:
    ...     held
    True
    """

    def __init__(
        self,
        cache: BaseCache,
        key: str,
        timeout: float = 10.0,
        blocking_timeout: float = 0.0,
        poll_interval: float = 0.01,
    ) -> None:
        self.cache = cache
        self.key = f"lock:{key}"
        self.timeout = max(1, int(timeout + 0.999))
        self.blocking_timeout = blocking_timeout
        self.poll_interval = poll_interval
        self.token = secrets.token_hex(16)
        self.held = False

    def acquire(self, blocking_timeout: float | None = None) -> bool:
        """Try to take the lock; wait up to ``blocking_timeout`` seconds (0: one try)."""
        wait = self.blocking_timeout if blocking_timeout is None else blocking_timeout
        deadline = time.monotonic() + wait
        while True:
            if self.cache.add(self.key, self.token, timeout=self.timeout):
                self.held = True
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(self.poll_interval)

    def release(self) -> bool:
        """Give the lock up; False if it had expired and someone else holds it now."""
        if not self.held:
            return False
        self.held = False
        return compare_and_delete(self.cache, self.key, self.token)

    def locked(self) -> bool:
        """Whether anyone holds the lock now."""
        return bool(self.cache.has(self.key))

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


_process_flights: SingleFlight[Any] = SingleFlight()


def _unavailable(cache: BaseCache) -> bool:
    """Whether ``cache`` is known to be failing (a :class:`FailSafeCache` with an open breaker)."""
    breaker = getattr(cache, "breaker", None)
    return breaker is not None and breaker.state != "closed"


class ComputeLease:
    """The right to compute the value of one key, held by one caller until :meth:`release`.

    While it is held, the other callers of the key in this process wait, and those of other
    processes poll the cache. A lease that :func:`claim_compute` hands to a caller that is to
    compute alone (its wait timed out, or the leader had nothing to hand over) holds nothing.
    """

    __slots__ = ("flight", "key", "lock")

    def __init__(self, key: str, flight: _Flight[Any] | None) -> None:
        self.key = key
        self.flight = flight
        self.lock: DistributedLock | None = None

    def release(self, value: Any = MISSING, error: BaseException | None = None) -> None:
        """Give the key up. The waiters of this process get ``value`` (or ``error``) if one
        is given; with neither, they look the key up again and, if the cache has nothing,
        each computes by itself (the result was not stored: for all one knows it belongs to
        one caller only). Releasing twice does nothing."""
        lock, self.lock = self.lock, None
        if lock is not None:
            lock.release()
        flight, self.flight = self.flight, None
        if flight is not None:
            _process_flights.land(self.key, flight, value, error)


def claim_compute(
    key: str,
    lookup: Callable[[], Any],
    *,
    lock_cache: BaseCache | None = None,
    lock_timeout: float = 10.0,
    wait_timeout: float = 10.0,
    poll_interval: float = 0.01,
) -> tuple[Any, ComputeLease | None]:
    """``(value, None)`` when there is a value to use: what ``lookup()`` finds (it returns
    :data:`MISSING` for nothing), or what the caller that computed it handed over; else
    ``(MISSING, lease)``: this caller computes, stores, and then must ``lease.release()``.

    Inside a process, one caller per key computes while the others wait for its release.
    Across processes, that caller first takes a :class:`DistributedLock` on ``lock_cache``; a
    process that finds the lock taken polls ``lookup`` until the value appears, the lock goes
    away (it then tries again) or ``wait_timeout`` passes (it then computes by itself: a slow
    holder costs duplicate work, never a hung request).
    """
    flight, leader = _process_flights.join(key)
    if not leader:
        if not flight.done.wait(wait_timeout + lock_timeout):
            return MISSING, ComputeLease(key, None)
        if flight.error is not None:
            raise flight.error
        if flight.value is not MISSING:
            return flight.value, None
        found = lookup()
        return (found, None) if found is not MISSING else (MISSING, ComputeLease(key, None))
    lease = ComputeLease(key, flight)
    try:
        found = lookup()
        if found is MISSING and lock_cache is not None and not _unavailable(lock_cache):
            found = _take_lock(lease, lookup, lock_cache, lock_timeout, wait_timeout, poll_interval)
    except BaseException as exc:
        lease.release(error=exc)
        raise
    if found is not MISSING:
        lease.release(found)
        return found, None
    return MISSING, lease


def _take_lock(
    lease: ComputeLease,
    lookup: Callable[[], Any],
    lock_cache: BaseCache,
    lock_timeout: float,
    wait_timeout: float,
    poll_interval: float,
) -> Any:
    """What ``lookup`` finds while the distributed lock is taken by someone else, or
    :data:`MISSING` once ``lease`` holds the lock (or it is given up on)."""
    lock = DistributedLock(lock_cache, lease.key, timeout=lock_timeout, poll_interval=poll_interval)
    deadline = time.monotonic() + wait_timeout
    unheld = 0
    while True:
        if lock.acquire():
            found = lookup()  # filled while we waited for the lock?
            if found is not MISSING:
                lock.release()
                return found
            lease.lock = lock
            return MISSING
        found = lookup()
        if found is not MISSING:
            return found
        # The lock could not be taken, yet nobody holds it: the backend is failing. Twice in
        # a row rules out a holder that released just between the two calls.
        unheld = 0 if lock.locked() else unheld + 1
        if unheld >= 2 or _unavailable(lock_cache):
            return MISSING
        if time.monotonic() >= deadline:
            logger.info("gave up waiting for the lock on %s; computing it here", lease.key)
            return MISSING
        time.sleep(poll_interval)


def compute_once(
    key: str,
    lookup: Callable[[], Any],
    compute: Callable[[], T],
    *,
    lock_cache: BaseCache | None = None,
    lock_timeout: float = 10.0,
    wait_timeout: float = 10.0,
    poll_interval: float = 0.01,
) -> T:
    """Return what ``lookup()`` finds, else ``compute()`` it once across processes and threads.

    ``lookup`` returns :data:`MISSING` when the cache has nothing; ``compute`` must store what it
    returns, so that waiters in other processes find it. The waiters of this process get what
    it returned (or raised), stored or not: use :func:`claim_compute` where a result that is
    not stored must not reach anyone else.
    """
    found, lease = claim_compute(
        key,
        lookup,
        lock_cache=lock_cache,
        lock_timeout=lock_timeout,
        wait_timeout=wait_timeout,
        poll_interval=poll_interval,
    )
    if lease is None:
        return found  # type: ignore[no-any-return]
    try:
        value = compute()
    except BaseException as exc:
        lease.release(error=exc)
        raise
    lease.release(value)
    return value
