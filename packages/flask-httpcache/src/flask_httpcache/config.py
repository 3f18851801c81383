"""What a shared cache may do, in one object that the handlers and the middleware share."""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, fields
from typing import Any

from flask_cachecore import CacheConfigError

Runner = Callable[[Callable[[], None]], None]

_refresh_pool: ThreadPoolExecutor | None = None


def run_in_background(job: Callable[[], None]) -> None:
    """The default runner of background refreshes (stale-while-revalidate): a small pool."""
    global _refresh_pool
    if _refresh_pool is None:
        _refresh_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="httpcache-refresh")
    _refresh_pool.submit(job)


#: the longest a collapsed request may wait (a lease lives as long)
MAX_COLLAPSE_TIMEOUT = 300


@dataclass
class Config:
    """Settings of a cache (flask-webcache's names, plus the bounds of RFC 9111 §7).

    :param resource_exemptions: URL path prefixes that are never stored nor served from cache.
    :param master_salt: part of every key; changing it invalidates everything at once.
    :param request_controls_cache: honour the request's ``Cache-Control`` (``no-cache``,
        ``max-age``, ``only-if-cached`` ...). False is *not* RFC 9111 compliant: clients can then
        not force a refresh, which protects the views from reload storms.
    :param cache_name: the cache's name in ``Cache-Status`` (RFC 9211).
    :param max_variants: most variants (by ``Vary``) kept per URL; the oldest is dropped.
    :param max_body_size: bodies larger than this many bytes are not stored.
    :param max_entry_bytes: a stored response larger than this (its body and fields, as
        flask-cachecore's ``approximate_size`` counts them) is not stored, in any backend;
        counted in ``stats()["too_large"]``; 0 for no limit.
    :param max_bytes: the byte budget of the in-process store that ``HTTPCache`` and
        ``easy_setup`` create (least recently used responses go first); other backends have
        their own limits (Redis ``maxmemory``, Memcached ``-m``); 0 for no budget.
    :param max_query_variants: the most query strings stored per path (scheme, host and
        path); storing one more forgets the oldest, so clients cannot grow the store without
        bound by varying the query.
    :param heuristic_fraction: part of ``Date`` - ``Last-Modified`` used as heuristic lifetime
        (at most 0.1, RFC 9111 §4.2.2); 0 turns heuristic freshness off.
    :param heuristic_max_age: ceiling of a heuristic lifetime in seconds.
    :param stale_retention: seconds a response is kept after it turns stale, for validation,
        ``max-stale`` and ``stale-if-error``.
    :param auto_etag: add a strong ETag to non-streamed 200 responses that have none.
    :param targeted_fields: response fields that replace Cache-Control and Expires for this
        cache when present and valid (RFC 9213), first one wins; () to ignore them.
    :param hit_lane: let the request handler serve a fresh hit before Flask builds a request
        context when nothing else in the app would see the request (no other hook, teardown
        or signal receiver; see :mod:`flask_httpcache.lane`); False: always through the hook.
    :param trusted_hosts: the hosts whose requests are cached (names as in Flask's
        ``TRUSTED_HOSTS``: ``example.com``, ``.example.com`` for it and its subdomains); a
        request for any other host bypasses the cache. None: any valid host, up to
        ``max_hosts``.
    :param max_hosts: without ``trusted_hosts``, the most distinct ``Host`` values (with
        port) one process admits into keys; requests for further hosts bypass the cache.
    :param store_set_cookie: store responses that carry ``Set-Cookie`` (and replay the field)
        as RFC 9111 allows; False (the default) never stores them.
    :param ignored_query_parameters: query parameters left out of the key *and* removed from
        the query string the view sees (as Varnish strips them before the backend), so they
        can neither split the cache nor poison it: ``fnmatch`` patterns (``utm_*``,
        ``fbclid``) matched against the percent-decoded name, ASCII case-insensitively.
    :param sort_query: the view sees the query's pairs sorted by name (values of one name in
        their order), as the key always has them; False (the default): as the client sent them.
    :param emit_surrogate_key: keep the ``Surrogate-Key`` field of tagged responses for a CDN in
        front; False (the default): it is read for tags and removed before the client sees it.
    :param soft_purge_grace: seconds a soft-purged response may still be served stale while
        one refresh runs (see :meth:`~flask_httpcache.HTTPCache.purge`); 0: soft purges act
        as hard ones.
    :param collapse_requests: on a cold miss, one request per URL runs the view while the
        concurrent others wait for its stored answer (every view; per view with
        ``cache_for(..., collapse=True)`` or ``@collapse_requests()``).
    :param collapse_timeout: seconds a collapsed request waits for the one it waits on before
        it runs the view itself (and the lifetime of the lease across processes).
    :param clock: the wall clock (seconds since the epoch); tests pass a fake one.
    :param background: runs a stale-while-revalidate refresh; tests pass a synchronous one.
    """

    resource_exemptions: Collection[str] = ()
    master_salt: str = ""
    request_controls_cache: bool = True
    cache_name: str = "flask-httpcache"
    max_variants: int = 16
    max_body_size: int = 1024 * 1024
    max_entry_bytes: int = 1024 * 1024 + 64 * 1024
    max_bytes: int = 32 * 1024 * 1024
    max_query_variants: int = 256
    heuristic_fraction: float = 0.1
    heuristic_max_age: int = 24 * 3600
    stale_retention: int = 3600
    auto_etag: bool = True
    targeted_fields: tuple[str, ...] = ("CDN-Cache-Control",)
    hit_lane: bool = True
    trusted_hosts: Collection[str] | None = None
    max_hosts: int = 16
    store_set_cookie: bool = False
    ignored_query_parameters: Collection[str] = ()
    sort_query: bool = False
    emit_surrogate_key: bool = False
    soft_purge_grace: int = 60
    collapse_requests: bool = False
    collapse_timeout: float = 10.0
    clock: Callable[[], float] = field(default=time.time, metadata={"flask_config": False})
    background: Runner = field(default=run_in_background, metadata={"flask_config": False})

    def __post_init__(self) -> None:
        if isinstance(self.resource_exemptions, str):
            self.resource_exemptions = (self.resource_exemptions,)
        self.resource_exemptions = tuple(self.resource_exemptions)
        if isinstance(self.ignored_query_parameters, str):
            self.ignored_query_parameters = (self.ignored_query_parameters,)
        patterns = tuple(self.ignored_query_parameters)
        if not all(isinstance(p, str) and p and p.isascii() for p in patterns):
            raise CacheConfigError(
                "ignored_query_parameters", patterns, "must be a list of ASCII name patterns"
            )
        self.ignored_query_parameters = tuple(p.lower() for p in patterns)
        if isinstance(self.trusted_hosts, str):
            self.trusted_hosts = (self.trusted_hosts,)
        if self.trusted_hosts is not None:
            self.trusted_hosts = tuple(self.trusted_hosts)
            if not all(isinstance(host, str) and host for host in self.trusted_hosts):
                raise CacheConfigError(
                    "trusted_hosts", self.trusted_hosts, "must be a list of host names"
                )
        for name in (
            "max_variants",
            "max_body_size",
            "heuristic_max_age",
            "stale_retention",
            "max_hosts",
            "max_entry_bytes",
            "max_bytes",
            "max_query_variants",
            "soft_purge_grace",
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise CacheConfigError(name, value, "must be a non-negative integer")
        for name in (
            "max_variants",
            "max_hosts",
            "max_entry_bytes",
            "max_bytes",
            "max_query_variants",
        ):
            if getattr(self, name) < 1:
                raise CacheConfigError(name, getattr(self, name), "must be at least 1")
        timeout = self.collapse_timeout
        if (
            isinstance(timeout, bool)
            or not isinstance(timeout, int | float)
            or not 0 < timeout <= MAX_COLLAPSE_TIMEOUT
        ):
            raise CacheConfigError(
                "collapse_timeout",
                timeout,
                f"must be a number of seconds above 0, at most {MAX_COLLAPSE_TIMEOUT}",
            )
        if not 0 <= self.heuristic_fraction <= 0.1:
            raise CacheConfigError(
                "heuristic_fraction", self.heuristic_fraction, "must be between 0 and 0.1"
            )

    def is_exempt(self, path: str) -> bool:
        """Whether ``path`` starts with one of :attr:`resource_exemptions`."""
        return path.startswith(tuple(self.resource_exemptions))

    @classmethod
    def flask_config_keys(cls) -> dict[str, str]:
        """The ``HTTPCACHE_*`` key of every setting, by attribute: the dataclass fields,
        upper-cased (``max_variants`` is ``HTTPCACHE_MAX_VARIANTS``), but for the ones that
        are code, not configuration (``clock``, ``background``)."""
        return {
            item.name: "HTTPCACHE_" + item.name.upper()
            for item in fields(cls)
            if item.metadata.get("flask_config", True)
        }

    @classmethod
    def from_flask_config(cls, config: Mapping[str, Any]) -> Config:
        """A :class:`Config` from the ``HTTPCACHE_*`` keys (see :meth:`flask_config_keys`);
        a key that is absent or None keeps the default; a bad value names its key."""
        keys = cls.flask_config_keys()
        kwargs = {name: config[key] for name, key in keys.items() if config.get(key) is not None}
        try:
            return cls(**kwargs)
        except CacheConfigError as exc:
            reason = str(exc).split(": ", 1)[-1]
            raise CacheConfigError(keys.get(exc.key, exc.key), exc.value, reason) from None
