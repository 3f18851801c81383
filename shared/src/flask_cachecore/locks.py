"""Locks against cache stampedes.

When a popular entry expires, every request that misses would recompute it at once. Two
guards stop that:

- :class:`SingleFlight`: inside one process, the first caller for a key computes and the
  others wait for its result.
- :class:`DistributedLock`: across processes and hosts, through the backend's atomic ``add``
  (``SET NX EX`` on Redis, ``add`` on memcached) with a timeout, so a crashed holder cannot
  block the key for longer than that.

:func:`compute_once` combines both for the usual "look up, else compute once and store".
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
        self.value: T | None = None
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

    def run(self, key: str, compute: Callable[[], T], wait_timeout: float | None = None) -> T:
        """``compute()`` once for all concurrent callers of ``key``; they all get its result
        (or its exception). A waiter that waited ``wait_timeout`` seconds computes by itself."""
        with self._lock:
            flight = self._flights.get(key)
            leader = flight is None
            if flight is None:
                flight = self._flights[key] = _Flight()
        if not leader:
            if not flight.done.wait(wait_timeout):
                return compute()
            if flight.error is not None:
                raise flight.error
            return flight.value  # type: ignore[return-value]
        try:
            flight.value = compute()
            return flight.value
        except BaseException as exc:
            flight.error = exc
            raise
        finally:
            with self._lock:
                self._flights.pop(key, None)
            flight.done.set()


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
    returns, so that waiters find it. Inside a process, callers share one flight. Across
    processes, the flight's leader takes a :class:`DistributedLock` on ``lock_cache``; a process
    that finds the lock taken polls ``lookup`` until the value appears, the lock goes away (it
    then tries again) or ``wait_timeout`` passes (it then computes by itself: a slow holder
    costs duplicate work, never a hung request).
    """

    def leader() -> Any:
        found = lookup()
        if found is not MISSING:
            return found
        if lock_cache is None:
            return compute()
        if _unavailable(lock_cache):
            return compute()
        lock = DistributedLock(lock_cache, key, timeout=lock_timeout, poll_interval=poll_interval)
        deadline = time.monotonic() + wait_timeout
        unheld = 0
        while True:
            if lock.acquire():
                try:
                    found = lookup()  # filled while we waited for the lock?
                    return compute() if found is MISSING else found
                finally:
                    lock.release()
            found = lookup()
            if found is not MISSING:
                return found
            # The lock could not be taken, yet nobody holds it: the backend is failing. Twice in
            # a row rules out a holder that released just between the two calls.
            unheld = 0 if lock.locked() else unheld + 1
            if unheld >= 2 or _unavailable(lock_cache):
                return compute()
            if time.monotonic() >= deadline:
                logger.info("gave up waiting for the lock on %s; computing it here", key)
                return compute()
            time.sleep(poll_interval)

    return _process_flights.run(key, leader, wait_timeout=wait_timeout + lock_timeout)  # type: ignore[no-any-return]
