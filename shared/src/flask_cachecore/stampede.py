"""The one stampede model of the project, shaped like dogpile.cache's ``get_or_create``.

When a popular entry is missing or stale, every caller would recompute it at once. Here one
caller per key gets a **lease**, the right to compute the value, and every other caller
either waits for it (a miss) or keeps using the old value (a stale entry):

- the lease is held on two mutexes of :mod:`flask_cachecore.locks`, one per key: a
  :class:`~flask_cachecore.locks.SingleFlight` flight inside the process (its waiters sleep
  on an event, no polling) and, given a ``lock_cache``, a
  :class:`~flask_cachecore.locks.DistributedLock` shared by every process of the backend;
- the lease carries a **token** (:attr:`ComputeLease.token`, the random value of its
  distributed lock; in the process, the flight object itself): releasing it deletes the claim
  only while the claim is still its own, so a slow holder whose claim expired can never
  release the claim that a newer caller took meanwhile;
- a waiter gets the holder's answer only if the holder hands it over, which it does only
  after storing it (:meth:`ComputeLease.release` with a value): an answer that was not stored
  may be one user's, so without one each waiter looks the key up again and computes by
  itself. A holder that raises hands nothing over either.

Three entry points:

- :func:`claim_compute`: a miss. Blocks while another caller computes; ``(value, None)`` when
  there is a value to use, else ``(MISSING, lease)``.
- :func:`claim_refresh`: a stale entry (stale-while-revalidate). Never blocks: the lease
  when this caller is to refresh, else ``None`` (someone refreshes: serve the stale value).
- :func:`get_or_create`: both in one call, for a caller without special needs; ``create``
  returns the value and whether it was stored.

:func:`compute_once` is the older form of :func:`get_or_create` whose waiters get the
holder's result stored or not; use it only where every result may go to every caller.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

from cachelib import BaseCache

from .locks import MISSING, DistributedLock, SingleFlight, _Flight

logger = logging.getLogger(__name__)
T = TypeVar("T")

#: the flights of computations after a miss, and those of refreshes of a stale entry: kept
#: apart, so that a refresh never makes a miss wait (it would wait for nothing: a refresher
#: hands nothing over)
_process_flights: SingleFlight[Any] = SingleFlight()
_refresh_flights: SingleFlight[Any] = SingleFlight()


def _unavailable(cache: BaseCache) -> bool:
    """Whether ``cache`` is known to be failing (a :class:`FailSafeCache` with an open breaker)."""
    breaker = getattr(cache, "breaker", None)
    return breaker is not None and breaker.state != "closed"


class ComputeLease:
    """The right to compute the value of one key, held by one caller until :meth:`release`.

    While it is held, the other callers of the key in this process wait (or, for a refresh,
    use the stale value), and those of other processes poll the cache. A lease that
    :func:`claim_compute` hands to a caller that is to compute alone (its wait timed out, or
    the leader had nothing to hand over) holds nothing.
    """

    __slots__ = ("flight", "flights", "key", "lock")

    def __init__(
        self, key: str, flight: _Flight[Any] | None, flights: SingleFlight[Any] | None = None
    ) -> None:
        self.key = key
        self.flight = flight
        self.flights = _process_flights if flights is None else flights
        self.lock: DistributedLock | None = None

    @property
    def token(self) -> str | None:
        """The token of the distributed claim (``None``: no claim across processes)."""
        return None if self.lock is None else self.lock.token

    @property
    def held(self) -> bool:
        """Whether this lease still holds a claim (in the process or across processes)."""
        return self.flight is not None or self.lock is not None

    def release(self, value: Any = MISSING, error: BaseException | None = None) -> None:
        """Give the key up. The waiters of this process get ``value`` (or ``error``) if one
        is given: give a value only once it is stored. With neither, they look the key up
        again and, if the cache has nothing, each computes by itself (the result was not
        stored: for all one knows it belongs to one caller only). The distributed claim is
        deleted only if it still holds this lease's token. Releasing twice does nothing."""
        lock, self.lock = self.lock, None
        flight, self.flight = self.flight, None
        try:
            if lock is not None:
                lock.release()
        finally:
            if flight is not None:
                self.flights.land(self.key, flight, value, error)


def claim_compute(
    key: str,
    lookup: Callable[[], Any],
    *,
    lock_cache: BaseCache | None = None,
    lock_timeout: float = 10.0,
    wait_timeout: float = 10.0,
    poll_interval: float = 0.01,
    hand_over: bool = True,
) -> tuple[Any, ComputeLease | None]:
    """``(value, None)`` when there is a value to use: what ``lookup()`` finds (it returns
    :data:`MISSING` for nothing), or what the caller that computed it handed over; else
    ``(MISSING, lease)``: this caller computes, stores, and then must ``lease.release()``.

    ``hand_over=False``: what one caller's ``lookup()`` finds is never given to the waiters
    of this process; each runs its own ``lookup()`` once the flight lands (for a lookup
    whose answer depends on the caller, e.g. the request fields a ``Vary`` names).

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
        lease.release(found if hand_over else MISSING)
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


def claim_refresh(
    key: str, *, lock_cache: BaseCache | None = None, lock_timeout: float = 10.0
) -> ComputeLease | None:
    """The lease to refresh the stale entry of ``key``, or ``None`` when another caller (of
    this process, or of any process sharing ``lock_cache``) refreshes it: serve the stale
    value meanwhile. Never waits. The distributed claim is the lock ``refresh:<key>``; it
    expires after ``lock_timeout`` seconds, so a crashed refresher delays the next refresh by
    that much at most, and the lease releases it only while it still holds its token.

    >>> from flask_cachecore.memory import MemoryCache
    >>> cache = MemoryCache()
    >>> lease = claim_refresh("page", lock_cache=cache)
    >>> claim_refresh("page", lock_cache=cache) is None
    True
    >>> lease.release()
    """
    flight, leader = _refresh_flights.join(key)
    if not leader:
        return None
    lease = ComputeLease(key, flight, _refresh_flights)
    if lock_cache is None or _unavailable(lock_cache):
        return lease
    lock = DistributedLock(lock_cache, "refresh:" + key, timeout=lock_timeout)
    try:
        acquired = lock.acquire()
    except BaseException:
        lease.release()
        raise
    if not acquired:
        lease.release()
        return None
    lease.lock = lock
    return lease


def get_or_create(
    key: str,
    lookup: Callable[[], Any],
    create: Callable[[], tuple[T, bool]],
    *,
    is_stale: Callable[[Any], bool] | None = None,
    lock_cache: BaseCache | None = None,
    lock_timeout: float = 10.0,
    wait_timeout: float = 10.0,
    poll_interval: float = 0.01,
) -> T:
    """The value of ``key``: what ``lookup()`` finds (:data:`MISSING` for nothing), else what
    ``create()`` makes, once across threads and processes.

    ``create`` stores the value and returns ``(value, whether it was stored)``: the waiters
    get a value only if it was stored, else each creates its own. A found value for which
    ``is_stale(value)`` is true is refreshed by one caller while the others get it as it is.

    >>> from flask_cachecore.memory import MemoryCache
    >>> cache = MemoryCache()
    >>> def create():
    ...     return 42, cache.set("answer", 42)
    >>> get_or_create("answer", lambda: cache.get("answer") or MISSING, create)
    42
    """
    found = lookup()
    if found is not MISSING:
        if is_stale is None or not is_stale(found):
            return found  # type: ignore[no-any-return]
        lease = claim_refresh(key, lock_cache=lock_cache, lock_timeout=lock_timeout)
        if lease is None:
            return found  # type: ignore[no-any-return]
    else:
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
        value, stored = create()
    except BaseException:
        lease.release()
        raise
    lease.release(value if stored else MISSING)
    return value


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
    it returned, stored or not (if it raised, each computes by itself): use
    :func:`get_or_create` where a result that is not stored must not reach anyone else.
    """
    return get_or_create(
        key,
        lookup,
        lambda: (compute(), True),
        lock_cache=lock_cache,
        lock_timeout=lock_timeout,
        wait_timeout=wait_timeout,
        poll_interval=poll_interval,
    )
