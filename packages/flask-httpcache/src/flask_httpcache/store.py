"""Stored responses, their keys and their variants, over any flask_cachecore backend.

Layout in the backend (all keys under ``KeyNamespace("httpcache")``):

- ``httpcache:<salt>:GET <scheme>://<host><path>?<query>`` holds an :class:`Index`: the
  request fields the URL's responses vary on, a generation token, and either the one response
  (no ``Vary``) or the digests of its variants, oldest first.
- ``…|<generation>|<digest>`` holds the variant whose Vary'd request fields give that digest.

Deleting the index invalidates every variant of the URL at once (they can no longer be
reached, and expire on their own); this is the per-resource salt of flask-webcache.
"""

from __future__ import annotations

import logging
import secrets
import threading
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeGuard

from cachelib import BaseCache, NullCache

from flask_cachecore import (
    FailSafeCache,
    InProcessSerializer,
    KeyNamespace,
    request_key,
)
from flask_cachecore.keys import digest
from flask_cachecore.serializers import approximate_size

from . import rules
from .config import Config
from .query_rules import keyed_target
from .speedups import Memo
from .tag_versions import checked_tags, well_formed_tags, with_tag_versions
from .target import host_is_allowed, host_name, url_target

logger = logging.getLogger(__name__)

NAMESPACE = KeyNamespace("httpcache")
HeaderGetter = Callable[[str], "str | None"]
#: most URI keys remembered per store, so a hit does not rebuild its key
KEY_MEMO_SIZE = 4096
#: the backends that store nothing already reported in the log (each is reported once)
_REPORTED_NULL: weakref.WeakSet[BaseCache] = weakref.WeakSet()


def in_process_serializer() -> InProcessSerializer:
    """Keeps this package's own objects unpickled in an in-process backend: the store never
    changes an object it read (it copies an index before changing it)."""
    return InProcessSerializer(trusted=(StoredResponse, Index))


@dataclass(slots=True)
class StoredResponse:
    """One stored response, with what §4.2.3 needs to compute its age."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes
    request_time: float
    response_time: float
    date: float
    age: int
    lifetime: int
    directives: dict[str, str | None]
    vary: tuple[str, ...] = ()
    vary_values: tuple[str | None, ...] = ()
    #: the Cache-Status of caches further upstream, which ours is appended to (RFC 9211 §2)
    upstream_status: str | None = None
    tags: tuple[str, ...] = ()  #: surrogate keys, and the version of each (.tag_versions)
    tag_versions: tuple[str, ...] = ()

    def header(self, name: str) -> str | None:
        lower = name.lower()
        for key, value in self.headers:
            if key.lower() == lower:
                return value
        return None

    @property
    def etag(self) -> str | None:
        return self.header("ETag")

    @property
    def last_modified(self) -> float | None:
        return rules.http_timestamp(self.header("Last-Modified"))

    def current_age(self, now: float) -> float:
        """:func:`rules.current_age` of this response, computed here without the call (this
        runs on every hit): the largest of the apparent age, the corrected Age value and 0,
        plus the time since the response arrived."""
        response_time = self.response_time
        initial = max(response_time - self.date, self.age + response_time - self.request_time, 0.0)
        resident = now - response_time
        return initial + resident if resident > 0.0 else initial

    def seconds_to_live(self, now: float) -> float:
        """Freshness left: positive while fresh, negative once stale (RFC 9111 §4.2)."""
        return self.lifetime - self.current_age(now)

    def stale_allowance(self, name: str) -> int:
        """Seconds of ``stale-while-revalidate`` / ``stale-if-error`` the response grants."""
        return rules.delta_seconds(self.directives.get(name)) or 0


@dataclass(slots=True)
class Index:
    """What the backend holds under a URL's key."""

    generation: str
    vary: tuple[str, ...] | None
    entry: StoredResponse | None = None
    variants: list[str] = field(default_factory=list)


@dataclass
class StoreCounters:
    hits: int = 0
    misses: int = 0
    stores: int = 0
    invalidations: int = 0
    #: responses not stored for being larger than ``Config.max_entry_bytes``
    too_large: int = 0
    #: URLs forgotten to keep ``Config.max_query_variants`` query strings per path
    query_variants_dropped: int = 0
    #: requests that bypassed the cache because their host was not admitted
    hosts_refused: int = 0


class Store:
    """Looks up, stores and invalidates responses in a cachelib backend.

    A backend that fails is wrapped in :class:`~flask_cachecore.FailSafeCache`, so that a
    backend that is down costs a miss, never an error.
    """

    def __init__(self, cache: BaseCache, config: Config | None = None) -> None:
        #: the backend keeps nothing (cachelib's NullCache, what flask-cachecore's
        #: ``make_cache`` builds when no ``TYPE`` is set): nothing is stored, and the log says
        #: so once per backend
        self.stores_nothing = isinstance(cache, NullCache)
        if self.stores_nothing and cache not in _REPORTED_NULL:
            _REPORTED_NULL.add(cache)
            logger.warning(
                "flask-httpcache: the store's backend is a NullCache, which keeps nothing:"
                " every request goes to the view. Set HTTPCACHE_TYPE (HTTPCache and"
                " easy_setup default to the in-process cache) or give the handlers a cache."
            )
        if not isinstance(cache, FailSafeCache | NullCache):
            cache = FailSafeCache(cache)
        self.cache = cache
        self.config = config or Config()
        self.counters = StoreCounters()
        self._lock = threading.Lock()
        self._keys: Memo[tuple[str, str, str, str, str], str] = Memo(KEY_MEMO_SIZE)
        #: URI keys by the raw WSGI environ values they come from (see ``environ_uri_key``)
        self.environ_keys: Memo[tuple[str | None, ...], str] = Memo(KEY_MEMO_SIZE)
        #: the hosts (with port) this process admitted into keys, at most Config.max_hosts
        self._hosts: set[str] = set()

    # keys -----------------------------------------------------------------------------------

    def uri_key(self, scheme: str, host: str, path: str, query: str) -> str:
        """The key of a target URI from its parts as :mod:`flask_httpcache.target` encodes
        them (RFC 9111 §4, §7.1)."""
        memo = (scheme, host, path, query, self.config.master_salt)
        key = self._keys.get(memo)
        if key is None:
            key = NAMESPACE.key(
                self.config.master_salt, request_key("GET", scheme, host, path, query)
            )
            self._keys.remember(memo, key)
        return key

    def admits_host(self, host: str) -> bool:
        """Whether ``host`` (as :func:`~flask_httpcache.target.key_host` gives it) may enter a
        key: one of :attr:`Config.trusted_hosts` when that is set, else one of the first
        :attr:`Config.max_hosts` hosts this process saw (RFC 9111 §7: clients choose the
        ``Host``, and every value would create keys of its own). The others bypass the cache.
        """
        trusted = self.config.trusted_hosts
        if trusted:
            admitted = host_is_allowed(host_name(host), trusted)
        elif host in self._hosts:
            return True
        else:
            with self._lock:
                admitted = len(self._hosts) < self.config.max_hosts
                if admitted:
                    self._hosts.add(host)
        if not admitted:
            self.counters.hosts_refused += 1
        return admitted

    def url_key(self, url: str, script_root: str = "") -> str | None:
        """The key of an absolute URL (see :func:`~flask_httpcache.target.url_target`)."""
        target = url_target(url, script_root)
        return None if target is None else self.uri_key(*keyed_target(target, self.config))

    @staticmethod
    def variant_key(uri_key: str, generation: str, variant: str) -> str:
        return f"{uri_key}|{generation}|{variant}"

    @staticmethod
    def variant_digest(values: Iterable[str | None]) -> str:
        # absent (None) and empty ("") must differ: RFC 9111 §4.1
        return digest("\n".join("\x00" if v is None else "=" + v for v in values))

    # reading --------------------------------------------------------------------------------

    def lookup(self, uri_key: str, header: HeaderGetter) -> tuple[StoredResponse | None, str]:
        """The stored response selected for a request (RFC 9111 §4.1), and why if none:
        ``uri-miss`` or ``vary-miss`` (the ``fwd`` reasons of RFC 9211)."""
        index = self.cache.get(uri_key)
        if not well_formed_index(index) or index.vary is None:
            return None, "uri-miss"
        if not index.vary:
            if not well_formed_entry(index.entry):
                return None, "uri-miss"
            return checked_tags(self.cache, self.config, index.entry)
        values = tuple(rules.normalize_field_value(name, header(name)) for name in index.vary)
        entry = self.cache.get(
            self.variant_key(uri_key, index.generation, self.variant_digest(values))
        )
        if not well_formed_entry(entry) or entry.vary_values != values:
            return None, "vary-miss"
        return checked_tags(self.cache, self.config, entry)

    # writing --------------------------------------------------------------------------------

    def entry_timeout(self, entry: StoredResponse, now: float) -> int:
        """How long the backend keeps an entry: its freshness left, the stale time it allows,
        and :attr:`Config.stale_retention` for validation."""
        left = max(0.0, entry.seconds_to_live(now))
        stale = max(
            entry.stale_allowance("stale-while-revalidate"), entry.stale_allowance("stale-if-error")
        )
        return max(1, int(left) + stale + self.config.stale_retention)

    def save(
        self,
        uri_key: str,
        entry: StoredResponse,
        now: float,
        path_key: str | None = None,
    ) -> bool:
        """Store ``entry`` as the variant its ``vary_values`` select; the newest response wins
        over an older one with the same values, and the oldest variant goes beyond
        :attr:`Config.max_variants`. ``path_key``: the key of the URL without its query,
        when it has one, which keeps :attr:`Config.max_query_variants` per path. An entry
        over :attr:`Config.max_entry_bytes` is not stored."""
        if self.stores_nothing:
            return False
        limit = self.config.max_entry_bytes
        if limit and approximate_size(entry) > limit:
            self.counters.too_large += 1
            return False
        tagged = with_tag_versions(self.cache, self.config.master_salt, entry)
        if tagged is None:  # a tag purged while its view ran, or no version kept
            return False
        entry = tagged
        timeout = self.entry_timeout(entry, now)
        with self._lock:
            if path_key is not None:
                self.admit_query_variant(path_key, uri_key, timeout)
            index = self.cache.get(uri_key)
            if not well_formed_index(index) or index.vary != entry.vary:
                index = Index(secrets.token_hex(4), entry.vary)
            else:  # a copy: an in-process backend may hand out the stored object itself
                index = Index(index.generation, index.vary, index.entry, list(index.variants))
            if not entry.vary:
                index.entry = entry
                ok = self.cache.set(uri_key, index, timeout=timeout)
            else:
                variant = self.variant_digest(entry.vary_values)
                if variant in index.variants:
                    index.variants.remove(variant)
                index.variants.append(variant)
                while len(index.variants) > self.config.max_variants:
                    dropped = index.variants.pop(0)
                    self.cache.delete(self.variant_key(uri_key, index.generation, dropped))
                ok = self.cache.set(
                    self.variant_key(uri_key, index.generation, variant), entry, timeout=timeout
                ) and self.cache.set(uri_key, index, timeout=max(timeout, 3600))
        if ok:
            self.counters.stores += 1
        return bool(ok)

    def admit_query_variant(self, path_key: str, uri_key: str, timeout: int) -> None:
        """Count ``uri_key`` among the URLs with a query of its path, and forget the oldest
        beyond :attr:`Config.max_query_variants` (RFC 9111 §7: the client chooses the query).

        The list lives under ``<path key>|queries`` for at least a day, or as long as the
        entry just stored; several processes may race on it, which can let a few more URLs
        in for a while, never without bound."""
        family = path_key + "|queries"
        members = self.cache.get(family)
        members = list(members) if isinstance(members, list) else []
        if uri_key in members:
            return
        members.append(uri_key)
        while len(members) > self.config.max_query_variants:
            self.forget(members.pop(0))
            self.counters.query_variants_dropped += 1
        self.cache.set(family, members, timeout=max(timeout, 24 * 3600))

    def forget(self, uri_key: str) -> None:
        """Delete a URL's index and every variant it lists (not just make them unreachable,
        as :meth:`invalidate` does): for bounds, where the space must come back now."""
        index = self.cache.get(uri_key)
        if well_formed_index(index):
            for variant in index.variants:
                self.cache.delete(self.variant_key(uri_key, index.generation, variant))
        self.cache.delete(uri_key)

    def invalidate(self, uri_key: str) -> bool:
        """Forget every stored response of a URL (RFC 9111 §4.4)."""
        self.counters.invalidations += 1
        return bool(self.cache.delete(uri_key))

    def stats(self) -> dict[str, Any]:
        backend = self.cache.stats() if isinstance(self.cache, FailSafeCache) else {}
        ours = vars(self.counters)
        # refused by the store's own check, or by the backend's serializer (make_cache's
        # MAX_ENTRY_BYTES measures the serialized value)
        too_large = ours["too_large"] + backend.get("too_large", 0)
        return {**backend, **ours, "too_large": too_large}


def _malformed(what: str, value: Any) -> bool:
    logger.warning("a cached %s has the wrong shape (%s): treated as a miss", what, type(value))
    return False


def _strings(items: Any, allow_none: bool = False) -> bool:
    return type(items) is tuple and all(
        isinstance(item, str) or (allow_none and item is None) for item in items
    )


def well_formed_entry(entry: Any) -> TypeGuard[StoredResponse]:
    """Whether a value read back is a :class:`StoredResponse` whose fields have the types a
    response is made of: anything else (written by someone else, of an older layout, or
    garbage that unpickled) is a miss and one log line, never a 500."""
    if entry is None:
        return False
    if not isinstance(entry, StoredResponse):
        return _malformed("response", entry)
    try:
        ok = (
            type(entry.status) is int
            and 100 <= entry.status <= 599
            and type(entry.body) is bytes
            and type(entry.headers) is list
            and all(
                type(h) is tuple and len(h) == 2 and isinstance(h[0], str) and isinstance(h[1], str)
                for h in entry.headers
            )
            and all(
                type(n) in (int, float)
                for n in (entry.request_time, entry.response_time, entry.date)
            )
            and type(entry.age) is int
            and type(entry.lifetime) is int
            and type(entry.directives) is dict
            and _strings(entry.vary)
            and _strings(entry.vary_values, allow_none=True)
            and (entry.upstream_status is None or isinstance(entry.upstream_status, str))
            and well_formed_tags(entry)
        )
    except AttributeError:  # a slot never set
        ok = False
    return ok or _malformed("response", entry)


def well_formed_index(index: Any) -> TypeGuard[Index]:
    """Whether a value read back is an :class:`Index` of the right field types."""
    if index is None:
        return False
    if not isinstance(index, Index):
        return _malformed("index", index)
    try:
        ok = (
            isinstance(index.generation, str)
            and (index.vary is None or _strings(index.vary))
            and type(index.variants) is list
            and (index.entry is None or isinstance(index.entry, StoredResponse))
        )
    except AttributeError:
        ok = False
    return ok or _malformed("index", index)
