"""Failure handling for any cachelib backend: operation timeout, circuit breaker, counters.

A cache is an optimisation. Behind :class:`FailSafeCache` a backend that is down, hung or
answering garbage costs a miss, never an exception: reads give ``None`` (a miss), writes give
``False``. After ``failure_threshold`` failures in a row, or at once after a timeout (a hung
server would make every caller wait for it), the breaker opens and the backend is skipped;
every ``recovery_timeout`` seconds (0.5 by default) one caller at a time probes it with its own
call, under the usual operation timeout, so caching resumes within a fraction of a second of
the backend's return. One log line says when the breaker opens and one when the backend has
recovered, instead of a traceback per request.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any, TypeVar

from cachelib import BaseCache

from .errors import EntryTooLargeError

logger = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass
class CacheCounters:
    """What a :class:`FailSafeCache` has seen since it was made."""

    calls: int = 0
    errors: int = 0
    skipped: int = 0
    timeouts: int = 0
    opened: int = 0
    #: values not stored because they were over the per-entry limit (not failures)
    too_large: int = 0

    def as_dict(self) -> dict[str, int]:
        return dataclasses.asdict(self)


#: seconds an open breaker skips the backend before one caller probes it again
DEFAULT_RECOVERY_TIMEOUT = 0.5


def is_timeout(exc: BaseException) -> bool:
    """Whether ``exc`` says the backend did not answer in time (the builtin ``TimeoutError``,
    ``socket.timeout``, or a driver's own, such as ``redis.exceptions.TimeoutError``)."""
    return isinstance(exc, TimeoutError) or "Timeout" in type(exc).__name__


class CircuitBreaker:
    """Closed → (``failure_threshold`` failures in a row, or one timeout) → open for
    ``recovery_timeout`` s → one probe call → closed on success, open again on failure."""

    def __init__(
        self,
        name: str,
        failure_threshold: int = 5,
        recovery_timeout: float = DEFAULT_RECOVERY_TIMEOUT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if failure_threshold < 1:
            raise ValueError("failure_threshold must be at least 1")
        if recovery_timeout < 0:
            raise ValueError("recovery_timeout must not be negative")
        self.name = name
        self.failure_threshold = failure_threshold
        self.recovery_timeout = recovery_timeout
        self.clock = clock
        self.failures = 0
        self.open_until = 0.0  # 0.0: closed
        self._probing = False
        self._lock = threading.Lock()

    @property
    def state(self) -> str:
        if not self.open_until:
            return "closed"
        return "half-open" if self.clock() >= self.open_until else "open"

    def allow(self) -> bool:
        """Whether a call may go to the backend now (always, when closed)."""
        if not self.open_until:
            return True
        if self.clock() < self.open_until:
            return False
        with self._lock:  # half-open: exactly one caller probes
            if self._probing:
                return False
            self._probing = True
            return True

    def record_success(self) -> None:
        if not self.failures and not self.open_until:
            return
        with self._lock:
            if self.open_until:
                logger.warning("cache backend %s has recovered; using it again", self.name)
            self.failures = 0
            self.open_until = 0.0
            self._probing = False

    def record_failure(self, exc: BaseException, at_once: bool = False) -> bool:
        """Count a failure; True when this failure opened the breaker. ``at_once``: open it
        whatever the count (a timeout)."""
        with self._lock:
            self.failures += 1
            was_open = bool(self.open_until)
            if was_open or at_once or self.failures >= self.failure_threshold:
                self.open_until = self.clock() + self.recovery_timeout
                self._probing = False
            if was_open or not (at_once or self.failures >= self.failure_threshold):
                return False
        logger.warning(
            "cache backend %s failed %d times in a row (last: %s: %s); skipping it for %gs",
            self.name,
            self.failures,
            type(exc).__name__,
            exc,
            self.recovery_timeout,
        )
        return True


class FailSafeCache(BaseCache):
    """Wraps a cachelib backend so that its failures become misses.

    :param backend: any cachelib ``BaseCache``.
    :param operation_timeout: if set, each call runs in a small worker pool and is abandoned
        after this many seconds. Network backends made by :func:`make_backend` get a socket
        timeout instead, which costs nothing per call; use this for backends without one.
    :param failure_threshold: failures in a row that open the breaker (one timeout opens it
        at once).
    :param recovery_timeout: seconds the backend is skipped once the breaker is open, and
        between two probes while it stays open.
    """

    def __init__(
        self,
        backend: BaseCache,
        *,
        name: str | None = None,
        operation_timeout: float | None = None,
        failure_threshold: int = 5,
        recovery_timeout: float = DEFAULT_RECOVERY_TIMEOUT,
    ) -> None:
        super().__init__(getattr(backend, "default_timeout", 300))
        self.backend = backend
        self.name = name or type(backend).__name__
        self.breaker = CircuitBreaker(self.name, failure_threshold, recovery_timeout)
        self.counters = CacheCounters()
        self.operation_timeout = operation_timeout
        self._pool = (
            ThreadPoolExecutor(max_workers=4, thread_name_prefix="cachecore-op")
            if operation_timeout
            else None
        )

    @classmethod
    def from_config(
        cls, backend: BaseCache, config: Mapping[str, Any], prefix: str = "CACHE_"
    ) -> FailSafeCache:
        """Wrap ``backend`` with ``{prefix}FAILURE_THRESHOLD`` (5) and
        ``{prefix}RECOVERY_TIMEOUT`` (0.5 s) from ``config``."""
        from .backends import config_number

        return cls(
            backend,
            failure_threshold=int(
                config_number(config, prefix + "FAILURE_THRESHOLD", 5, minimum=1)
            ),
            recovery_timeout=config_number(
                config, prefix + "RECOVERY_TIMEOUT", DEFAULT_RECOVERY_TIMEOUT
            ),
        )

    def __getattr__(self, name: str) -> Any:
        # driver-specific extras (``_write_client``, ``key_prefix`` ...) of the wrapped backend
        if name == "backend":  # not set yet (during unpickling): no endless recursion
            raise AttributeError(name)
        return getattr(self.backend, name)

    def stats(self) -> dict[str, Any]:
        return {"backend": self.name, "state": self.breaker.state, **self.counters.as_dict()}

    def call(self, fallback: T, operation: Callable[..., T], *args: Any) -> T:
        """Run ``operation(*args)`` against the backend; ``fallback`` if it fails or is skipped."""
        counters = self.counters
        counters.calls += 1
        breaker = self.breaker
        if breaker.open_until and not breaker.allow():
            counters.skipped += 1
            return fallback
        try:
            if self._pool is None:
                result = operation(*args)
            else:
                result = self._pool.submit(operation, *args).result(self.operation_timeout)
        except Exception as exc:
            return self._failed(exc, fallback)
        if breaker.failures or breaker.open_until:
            breaker.record_success()
        return result

    def _failed(self, exc: Exception, fallback: T) -> T:
        """Count and log a failed call (the breaker may open); ``fallback`` stands for its
        result. A value over the per-entry limit is counted apart: the backend is fine."""
        counters = self.counters
        if isinstance(exc, EntryTooLargeError):
            counters.too_large += 1
            logger.debug("cache backend %s: %s", self.name, exc)
            return fallback
        counters.errors += 1
        timed_out = is_timeout(exc)
        if timed_out:
            counters.timeouts += 1
            if isinstance(exc, FutureTimeout):
                exc = TimeoutError(f"no answer within {self.operation_timeout}s")
        if self.breaker.record_failure(exc, at_once=timed_out):
            counters.opened += 1
        else:
            logger.debug("cache backend %s failed: %r", self.name, exc)
        return fallback

    def get(self, key: str) -> Any:
        # the hot path of every cache hit: ``call`` inlined for a closed breaker, no pool
        breaker = self.breaker
        if self._pool is not None or breaker.open_until or breaker.failures:
            return self.call(None, self.backend.get, key)
        self.counters.calls += 1
        try:
            return self.backend.get(key)
        except Exception as exc:
            return self._failed(exc, None)

    def get_many(self, *keys: str) -> list[Any]:
        result = self.call(None, self.backend.get_many, *keys)
        if not isinstance(result, list) or len(result) != len(keys):
            return [None] * len(keys)
        return result

    def get_dict(self, *keys: str) -> dict[str, Any]:
        return dict(zip(keys, self.get_many(*keys), strict=True))

    def has(self, key: str) -> bool:
        return bool(self.call(False, self.backend.has, key))

    def set(self, key: str, value: Any, timeout: int | dt.timedelta | None = None) -> bool:
        return bool(self.call(None, self.backend.set, key, value, timeout))

    def add(self, key: str, value: Any, timeout: int | dt.timedelta | None = None) -> bool:
        return bool(self.call(None, self.backend.add, key, value, timeout))

    def set_many(
        self, mapping: dict[str, Any], timeout: int | dt.timedelta | None = None
    ) -> list[Any]:
        result: Any = self.call(None, self.backend.set_many, mapping, timeout)
        return list(result) if isinstance(result, list | tuple) else []

    def delete(self, key: str) -> bool:
        return bool(self.call(False, self.backend.delete, key))

    def delete_many(self, *keys: str) -> list[Any]:
        result: Any = self.call(None, self.backend.delete_many, *keys)
        return list(result) if isinstance(result, list | tuple) else []

    def clear(self) -> bool:
        return bool(self.call(False, self.backend.clear))

    def inc(self, key: str, delta: int = 1) -> int | None:
        return self.call(None, self.backend.inc, key, delta)

    def dec(self, key: str, delta: int = 1) -> int | None:
        return self.call(None, self.backend.dec, key, delta)

    def compare_and_delete(self, key: str, value: Any) -> bool:
        from .locks import compare_and_delete

        return bool(self.call(False, compare_and_delete, self.backend, key, value))
