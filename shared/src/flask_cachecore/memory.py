"""An in-process cache with hard bounds on its number of entries and on its bytes."""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from typing import Any

from cachelib import BaseCache

from .compat import wall_time
from .serializers import PickleSerializer, Serializer, stored_size

#: what an entry costs besides its value: the key, the tuple, the dict slot (roughly)
ENTRY_OVERHEAD = 120


class MemoryCache(BaseCache):
    """A thread-safe in-process cache, the ``SimpleCache`` of this project.

    cachelib's ``SimpleCache`` prunes by sorting every entry and may hold ``threshold + 1``
    entries; this one evicts the least recently used entry in constant time and never holds more
    than ``threshold``. With ``max_bytes`` it also evicts until the values' bytes (their
    serialized size, plus a small cost per entry) fit the budget, and a value over
    ``max_entry_bytes`` is not stored at all (counted in :attr:`too_large`). Values are stored
    serialized (pickle by default), so a caller that mutates what it got back cannot change
    what the next caller gets.

    Expiry reads the wall clock where tests freeze it (``cachelib.simple.time``, freezegun,
    time-machine: see :func:`flask_cachecore.compat.wall_time`), as cachelib's ``SimpleCache``
    does, so suites written for Flask-Caching keep working.

    :param threshold: the most entries held at once (at least 1).
    :param default_timeout: seconds an entry lives when ``set`` is given no timeout; 0 is forever.
    :param max_bytes: the most bytes held at once; ``None`` for no byte bound.
    :param max_entry_bytes: the largest value stored; ``None`` for no bound but ``max_bytes``.
    """

    def __init__(
        self,
        threshold: int = 500,
        default_timeout: int | dt.timedelta = 300,
        serializer: Serializer | None = None,
        ignore_errors: bool = False,
        *,
        max_bytes: int | None = None,
        max_entry_bytes: int | None = None,
    ) -> None:
        super().__init__(default_timeout)
        if threshold < 1:
            raise ValueError(f"MemoryCache threshold must be at least 1, not {threshold}")
        for name, bound in (("max_bytes", max_bytes), ("max_entry_bytes", max_entry_bytes)):
            if bound is not None and bound < 1:
                raise ValueError(f"MemoryCache {name} must be at least 1 (or None), not {bound}")
        self.threshold = threshold
        self.max_bytes = max_bytes
        if max_bytes is not None and (max_entry_bytes is None or max_entry_bytes > max_bytes):
            max_entry_bytes = max_bytes - ENTRY_OVERHEAD if max_bytes > ENTRY_OVERHEAD else 1
        self.max_entry_bytes = max_entry_bytes
        self.serializer = serializer or PickleSerializer()
        self.ignore_errors = ignore_errors
        #: how many values were not stored because they were larger than ``max_entry_bytes``
        self.too_large = 0
        #: the bytes held now, as counted against ``max_bytes``
        self.total_bytes = 0
        # (expiry, bytes or an object an InProcessSerializer keeps, counted size)
        self._data: OrderedDict[str, tuple[float, Any, int]] = OrderedDict()
        self._lock = threading.RLock()

    def __len__(self) -> int:
        return len(self._data)

    def _expiry(self, timeout: int | dt.timedelta | None) -> float | None:
        """Wall-clock expiry time; 0.0 for never; None when the entry is already expired."""
        seconds = self._normalize_timeout(timeout)
        if seconds == 0:
            return 0.0
        if seconds < 0:
            return None
        return wall_time() + seconds

    def _live(self, key: str) -> Any:
        item = self._data.get(key)
        if item is None:
            return None
        expires, data, _ = item
        if expires and expires <= wall_time():
            with self._lock:
                if self._data.get(key) is item:
                    self._drop(key)
            return None
        try:  # noqa: SIM105 (hot path: contextlib.suppress costs more than the lookup)
            self._data.move_to_end(key)
        except KeyError:  # deleted by another thread since the read above: still a valid read
            pass
        return data

    def get(self, key: str) -> Any:
        data = self._live(key)
        return None if data is None else self.serializer.loads(data)

    def has(self, key: str) -> bool:
        return self._live(key) is not None

    def _drop(self, key: str) -> bool:
        # caller holds the lock
        item = self._data.pop(key, None)
        if item is None:
            return False
        self.total_bytes -= item[2]
        return True

    def _store(self, key: str, expires: float, data: Any) -> bool:
        """Store ``data`` under ``key``, evicting the least recently used entries until both
        bounds hold; False (and nothing stored under ``key``) when the value is too large."""
        # caller holds the lock
        size = stored_size(data)
        if self.max_entry_bytes is not None and size > self.max_entry_bytes:
            self.too_large += 1
            self._drop(key)  # an older value must not outlive a write that was refused
            return False
        size += ENTRY_OVERHEAD + len(key)
        self._drop(key)
        data_map = self._data
        while len(data_map) >= self.threshold:
            self.total_bytes -= data_map.popitem(last=False)[1][2]
        if self.max_bytes is not None:
            while data_map and self.total_bytes + size > self.max_bytes:
                self.total_bytes -= data_map.popitem(last=False)[1][2]
        data_map[key] = (expires, data, size)
        self.total_bytes += size
        return True

    def set(self, key: str, value: Any, timeout: int | dt.timedelta | None = None) -> bool:
        expires = self._expiry(timeout)
        data = self.serializer.dumps(value)
        with self._lock:
            if expires is None:
                self._drop(key)
                return True
            return self._store(key, expires, data)

    def add(self, key: str, value: Any, timeout: int | dt.timedelta | None = None) -> bool:
        expires = self._expiry(timeout)
        data = self.serializer.dumps(value)
        with self._lock:
            if self._live(key) is not None:
                return False
            if expires is not None:
                return self._store(key, expires, data)
            return True

    def delete(self, key: str) -> bool:
        with self._lock:
            return self._drop(key)

    def clear(self) -> bool:
        with self._lock:
            self._data.clear()
            self.total_bytes = 0
        return True

    def inc(self, key: str, delta: int = 1) -> int | None:
        with self._lock:
            value = (self.get(key) or 0) + delta
            item = self._data.get(key)
            expires = item[0] if item is not None else self._expiry(None)
            self._store(key, expires if expires is not None else 0.0, self.serializer.dumps(value))
            return int(value)

    def dec(self, key: str, delta: int = 1) -> int | None:
        return self.inc(key, -delta)
