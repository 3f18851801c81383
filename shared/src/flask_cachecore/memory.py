"""An in-process cache with a hard bound on its number of entries."""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from time import monotonic
from typing import Any

from cachelib import BaseCache

from .serializers import PickleSerializer, Serializer


class MemoryCache(BaseCache):
    """A thread-safe in-process cache, the ``SimpleCache`` of this project.

    cachelib's ``SimpleCache`` prunes by sorting every entry and may hold ``threshold + 1``
    entries; this one evicts the least recently used entry in constant time and never holds more
    than ``threshold``. Values are stored serialized (pickle by default), so a caller that
    mutates what it got back cannot change what the next caller gets. Expiry uses a monotonic
    clock, so a wall-clock jump neither keeps nor drops entries.

    :param threshold: the most entries held at once (at least 1).
    :param default_timeout: seconds an entry lives when ``set`` is given no timeout; 0 is forever.
    """

    def __init__(
        self,
        threshold: int = 500,
        default_timeout: int | dt.timedelta = 300,
        serializer: Serializer | None = None,
        ignore_errors: bool = False,
    ) -> None:
        super().__init__(default_timeout)
        if threshold < 1:
            raise ValueError(f"MemoryCache threshold must be at least 1, not {threshold}")
        self.threshold = threshold
        self.serializer = serializer or PickleSerializer()
        self.ignore_errors = ignore_errors
        # bytes, or the objects an InProcessSerializer keeps as they are
        self._data: OrderedDict[str, tuple[float, Any]] = OrderedDict()
        self._lock = threading.RLock()

    def __len__(self) -> int:
        return len(self._data)

    def _expiry(self, timeout: int | dt.timedelta | None) -> float | None:
        """Monotonic expiry time; 0.0 for never; None when the entry is already expired."""
        seconds = self._normalize_timeout(timeout)
        if seconds == 0:
            return 0.0
        if seconds < 0:
            return None
        return monotonic() + seconds

    def _live(self, key: str) -> Any:
        item = self._data.get(key)
        if item is None:
            return None
        expires, data = item
        if expires and expires <= monotonic():
            with self._lock:
                if self._data.get(key) is item:
                    del self._data[key]
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

    def _store(self, key: str, expires: float, data: bytes) -> None:
        # caller holds the lock
        if key in self._data:
            self._data.move_to_end(key)
        else:
            while len(self._data) >= self.threshold:
                self._data.popitem(last=False)
        self._data[key] = (expires, data)

    def set(self, key: str, value: Any, timeout: int | dt.timedelta | None = None) -> bool:
        expires = self._expiry(timeout)
        data = self.serializer.dumps(value)
        with self._lock:
            if expires is None:
                self._data.pop(key, None)
            else:
                self._store(key, expires, data)
        return True

    def add(self, key: str, value: Any, timeout: int | dt.timedelta | None = None) -> bool:
        expires = self._expiry(timeout)
        data = self.serializer.dumps(value)
        with self._lock:
            if self._live(key) is not None:
                return False
            if expires is not None:
                self._store(key, expires, data)
            return True

    def delete(self, key: str) -> bool:
        with self._lock:
            return self._data.pop(key, None) is not None

    def clear(self) -> bool:
        with self._lock:
            self._data.clear()
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
