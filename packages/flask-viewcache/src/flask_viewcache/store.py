"""How cached values sit in the backend: an envelope with the versions they were made under.

Flask-Caching puts a function's version inside the value's key, so every memoize hit first
reads the version (``MGET``) and then the value (``GET``): two round trips. Here the key holds
no version; the value is stored as an *envelope* ``(MARK, value, versions, fresh_until)``, and a
hit reads the value together with the current versions in one ``get_many`` (one ``MGET`` on
Redis; one slot on Redis Cluster, since the keys share a hash tag). A value is valid only while
every version it was made under is still current; ``delete_memoized`` and ``invalidate_tags``
write new random versions, so the change is seen by every process that shares the backend.

A version key that is missing (never written, evicted, flushed) makes every value that depends
on it a miss: versions are random and never reused, so a lost version can never bring an old
value back.
"""

from __future__ import annotations

import dataclasses
import logging
import secrets
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cachelib import BaseCache, NullCache
from cachelib import SimpleCache as CachelibSimpleCache

from flask_cachecore import (
    MemoryCache,
    RedisCache,
    RedisClusterCache,
)
from flask_cachecore.compat import redis_key_prefix, redis_write_client

logger = logging.getLogger(__name__)

#: first item of every envelope: tells our values from anything else stored under a key
MARK = "vc1"

#: the wall clock of soft timeouts (shared by processes, unlike ``monotonic``); a module
#: attribute so that tests can move time without sleeping
wall_clock: Callable[[], float] = time.time


def use_in_process_serializer(backend: BaseCache, config: Mapping[str, Any]) -> None:
    """Give an in-process ``MemoryCache`` the :class:`InProcessSerializer`, unless the app
    chose a serializer other than the default pickle."""
    raw = getattr(backend, "backend", backend)
    if isinstance(raw, MemoryCache) and config.get("CACHE_SERIALIZER") in (None, "", "pickle"):
        from .serializers import InProcessSimpleSerializer

        raw.serializer = InProcessSimpleSerializer()


def new_version() -> int:
    """A fresh random version: an int, so every serializer stores it as plain digits."""
    return secrets.randbits(62) + 1


def is_in_process(backend: BaseCache) -> bool:
    """Whether ``backend`` lives in this process only, so its versions may too."""
    raw = getattr(backend, "backend", backend)
    return isinstance(raw, MemoryCache | CachelibSimpleCache | NullCache)


@dataclass(slots=True)
class FunctionStats:
    """Counters of one decorated function (or fragment, or view)."""

    hits: int = 0
    misses: int = 0
    stale: int = 0
    bypassed: int = 0

    def as_dict(self) -> dict[str, int]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Settings:
    """The ``CACHE_*`` settings that the decorators read on every call."""

    lock: bool = False
    lock_timeout: float = 10.0
    lock_wait: float = 10.0
    signals: bool = False
    status_header: bool = False
    source_check: bool = False
    hash_method: Callable[..., Any] | None = None
    store_session_views: bool = False
    #: view keys hold the method and the host (``CACHE_VIEW_KEY_REQUEST_PARTS``); by default
    #: they are Flask-Caching's and the entry records its variant
    view_key_request_parts: bool = False


@dataclass
class Store:
    """The backend of one app and one :class:`~flask_viewcache.Cache`, with its versions.

    For an in-process backend (``SimpleCache``, ``NullCache``) versions live in a dict of this
    process, which costs no extra lookup; for any shared backend they are keys in the backend
    itself.
    """

    backend: BaseCache
    local_versions: dict[str, int | None] | None
    default_timeout: int
    settings: Settings = field(default_factory=Settings)
    key_prefix: str = ""
    #: what hits read through: the bare backend when it lives in this process (it cannot
    #: fail or hang, so the fail-safe wrapper would only cost time), else ``backend``
    reader: Any = None
    #: the backend itself, for ``Cache``'s proxies, when ``backend`` is a
    #: :class:`~flask_viewcache.subclassing.PublicMethodsBackend` (else ``backend``)
    direct: Any = None
    stats: dict[str, FunctionStats] = field(default_factory=dict)
    errors: int = 0
    _stats_lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        if self.direct is None:
            self.direct = self.backend
        if self.reader is None:
            raw = getattr(self.backend, "backend", self.backend)
            self.reader = raw if isinstance(raw, MemoryCache) else self.backend

    def function_stats(self, name: str) -> FunctionStats:
        found = self.stats.get(name)
        if found is not None:
            return found
        with self._stats_lock:
            return self.stats.setdefault(name, FunctionStats())

    # -- reading -------------------------------------------------------------------------------

    def read(self, key: str, version_keys: Sequence[str]) -> tuple[Any, tuple[Any, ...]]:
        """The raw envelope under ``key`` and the current versions, in one round trip."""
        reader: Any = self.reader
        if not version_keys:
            return reader.get(key), ()
        local = self.local_versions
        if local is not None:
            return reader.get(key), tuple([local.get(k, 0) for k in version_keys])
        found = reader.get_many(key, *version_keys)
        return found[0], tuple(found[1:])

    @staticmethod
    def valid(envelope: Any, current: tuple[Any, ...]) -> bool:
        """Whether ``envelope`` is ours, well formed, and was made under the ``current``
        versions. Anything else under the key is a miss; what is not even shaped like an
        envelope (junk written by someone else, a truncated value) is also logged, once."""
        if (
            type(envelope) in (tuple, list)
            and len(envelope) == 4
            and envelope[0] == MARK
            and type(envelope[2]) in (tuple, list)
            and type(envelope[3]) in (int, float)
        ):
            return None not in current and tuple(envelope[2]) == current
        if envelope is not None:
            logger.warning(
                "a cached value is not a flask-viewcache entry (%s): treated as a miss",
                type(envelope).__name__,
            )
        return False

    # -- writing -------------------------------------------------------------------------------

    def ensure_versions(
        self, version_keys: Sequence[str], current: tuple[Any, ...]
    ) -> tuple[Any, ...]:
        """The versions to store a new value under, creating the missing ones.

        A missing version is created with an atomic ``add``: if another process created it in
        between, its version is the one that counts (and ours, if the backend failed, makes
        the stored value a harmless miss).
        """
        if None not in current:
            return current
        local = self.local_versions
        if local is not None:  # a version dropped by ``drop``: made anew here
            versions = list(current)
            for index, version in enumerate(current):
                if version is None:
                    versions[index] = local[version_keys[index]] = new_version()
            return tuple(versions)
        result = list(current)
        for index, version in enumerate(current):
            if version is not None:
                continue
            key = version_keys[index]
            fresh = new_version()
            if self.backend.add(key, fresh, timeout=0):
                result[index] = fresh
            else:
                found = self.backend.get(key)
                result[index] = found if found is not None else fresh
        return tuple(result)

    def store(
        self,
        key: str,
        value: Any,
        versions: tuple[Any, ...],
        timeout: int | None,
        soft_timeout: float | None,
    ) -> bool:
        fresh_until = wall_clock() + soft_timeout if soft_timeout else 0
        return bool(self.backend.set(key, (MARK, value, versions, fresh_until), timeout=timeout))

    def store_new(
        self,
        key: str,
        value: Any,
        version_keys: Sequence[str],
        current: tuple[Any, ...],
        timeout: int | None,
        soft_timeout: float | None,
    ) -> bool:
        """Store a value computed after a miss, under the ``current`` versions, creating the
        ones that are missing: in one round trip on Redis, in two or more elsewhere."""
        if None in current and self._pipeline_client() is not None:
            return self._store_with_new_versions(
                key, value, version_keys, current, timeout, soft_timeout
            )
        versions = self.ensure_versions(version_keys, current)
        return self.store(key, value, versions, timeout, soft_timeout)

    def _pipeline_client(self) -> Any:
        """The Redis client to pipeline writes through, on a single Redis server only (a
        cluster splits keys of several slots into several round trips anyway)."""
        raw = getattr(self.backend, "backend", self.backend)
        if isinstance(raw, RedisCache) and not isinstance(raw, RedisClusterCache):
            return redis_write_client(raw)
        return None

    def _store_with_new_versions(
        self,
        key: str,
        value: Any,
        version_keys: Sequence[str],
        current: tuple[Any, ...],
        timeout: int | None,
        soft_timeout: float | None,
    ) -> bool:
        # ``SET NX`` of each missing version and ``SET`` of the value, pipelined: cachelib's
        # API has no "add these, then set that" in one round trip. If another process created
        # a version first, its ``SET NX`` wins and this value is stored under a version that
        # is not current: a miss, never a wrong hit.
        raw: Any = getattr(self.backend, "backend", self.backend)
        versions = tuple(new_version() if v is None else v for v in current)
        seconds = raw._normalize_timeout(timeout)
        if seconds < -1:  # already expired
            return False
        prefix = redis_key_prefix(raw)
        dumps = raw.serializer.dumps
        fresh_until = wall_clock() + soft_timeout if soft_timeout else 0

        def write() -> bool:
            client: Any = redis_write_client(raw)
            pipe = client.pipeline(transaction=False)
            for index, version in enumerate(current):
                if version is None:
                    pipe.set(prefix + version_keys[index], dumps(versions[index]), nx=True)
            pipe.set(
                prefix + key,
                dumps((MARK, value, versions, fresh_until)),
                ex=None if seconds == -1 else seconds,
            )
            return bool(pipe.execute()[-1])

        call = getattr(self.backend, "call", None)
        return bool(write() if call is None else call(False, write))

    def bump(self, version_keys: Sequence[str]) -> None:
        """Give each of ``version_keys`` a new version: every value made under the old one
        becomes a miss, in every process that shares the backend."""
        local = self.local_versions
        if local is not None:
            for key in version_keys:
                local[key] = new_version()
            return
        if version_keys:  # ``set_many`` even for one, as Flask-Caching (a subclass sees it)
            self.backend.set_many({key: new_version() for key in version_keys}, timeout=0)

    def drop(self, version_keys: Sequence[str]) -> None:
        """Delete ``version_keys`` (Flask-Caching's ``delete_memoized_verhash``): every value
        made under them is a miss until a new version is made by the next store."""
        local = self.local_versions
        if local is not None:
            for key in version_keys:
                local[key] = None  # missing, unlike a version never made (0)
            return
        self.backend.delete_many(*version_keys)

    def version(self, version_key: str) -> Any:
        """The current version under ``version_key`` (``None``: missing)."""
        local = self.local_versions
        if local is not None:
            return local.get(version_key, 0)
        return self.direct.get(version_key)
