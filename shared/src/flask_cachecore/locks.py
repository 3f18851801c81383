"""The two mutexes of the stampede model (:mod:`flask_cachecore.stampede`), one per key:

- :class:`SingleFlight`: inside one process, the first caller for a key leads and the others
  wait for it to land.
- :class:`DistributedLock`: across processes and hosts, through the backend's atomic ``add``
  (``SET NX EX`` on Redis, ``add`` on memcached) of a random token, with a timeout, so a
  crashed holder cannot block the key for longer than that; it is released only while the
  key still holds its own token (:func:`compare_and_delete`), never another holder's.

:func:`~flask_cachecore.stampede.claim_compute`, :func:`~flask_cachecore.stampede.claim_refresh`
and :func:`~flask_cachecore.stampede.get_or_create` (importable from here too, as before)
combine them.
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


#: names that moved to :mod:`flask_cachecore.stampede`, still importable from here
_MOVED = frozenset(
    {"ComputeLease", "claim_compute", "claim_refresh", "compute_once", "get_or_create"}
)


def __getattr__(name: str) -> Any:
    if name in _MOVED:
        from . import stampede

        return getattr(stampede, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
