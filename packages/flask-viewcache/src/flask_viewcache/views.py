"""``Cache.cached``: caching what a view (or any function) returns, by request.

The default key is ``key_prefix % request.path`` followed by the method and the host, and,
with ``query_string=True``, a digest of the canonical query string. A ``HEAD`` request reads
the entry of ``GET`` (Werkzeug drops the body) but never stores one, so a ``GET`` is never
answered with what a view made for ``HEAD``.

Responses are stored as plain data (status, headers, body), not pickled ``Response`` objects,
so any serializer can hold them and each hit gets a response of its own to modify.
"""

from __future__ import annotations

import functools
import inspect
import logging
import weakref
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from flask import (
    Response,
    after_this_request,
    current_app,
    g,
    has_request_context,
    request,
    url_for,
)
from werkzeug.exceptions import HTTPException

from flask_cachecore import MISSING, ComputeLease, canonical_query, claim_compute, qualified_name
from flask_cachecore.compat import current_request_context

from . import store as store_module
from .calls import Timeout, join_generator, optional_callback, timeout_seconds
from .keys import hexdigest, source_digest, tag_version_key
from .response import CachedResponse
from .signals import cache_view_hit, cache_view_miss
from .storable import (
    complete_status,
    expected_status,
    freeze,
    request_session,
    session_accessed,
    sets_cookie,
    thaw,
    well_formed,
)
from .viewkeys import query_digest, query_pairs, request_variant, source_hexdigest

if TYPE_CHECKING:
    from .extension import Cache
    from .store import FunctionStats, Store

logger = logging.getLogger(__name__)

#: ``g`` attribute that tells the response handler what the cache did in this request
STATUS_ATTR = "_viewcache_status"

QueryArgs = str | bytes | Mapping[str, Any] | Iterable[tuple[str, Any]]


# the actions of :meth:`CachedView._plan`
_UNCACHED, _HIT, _REFRESH, _MISS = "uncached", "hit", "refresh", "miss"

_warned_session_views: set[str] = set()
#: ``g`` attribute: the leases of this request whose store waits for the final response
PENDING_ATTR = "_viewcache_pending"


def _query_text(query_args: QueryArgs | None) -> str:
    if query_args is None:
        return canonical_query(request.query_string)
    if isinstance(query_args, str | bytes):
        return canonical_query(query_args)
    pairs = query_args.items() if isinstance(query_args, Mapping) else query_args
    return canonical_query(urlencode([(str(k), str(v)) for k, v in pairs]))


class CachedView:
    """What ``cached`` knows of one decorated function, worked out once."""

    def __init__(
        self,
        cache: Cache,
        func: Callable[..., Any],
        *,
        key_prefix: str | Callable[[], str],
        unless: Callable[..., Any] | None,
        forced_update: Callable[..., Any] | None,
        is_stale: Callable[..., Any] | None,
        response_filter: Callable[[Any], Any] | None,
        query_string: bool,
        hash_method: Callable[..., Any] | None,
        cache_none: bool,
        make_cache_key: Callable[..., str] | None,
        source_check: bool | None,
        response_hit_indication: bool | None,
        tags: Iterable[str],
        lock: bool | None,
        soft_timeout: float | None,
    ) -> None:
        self.cache = cache
        self.func = func
        self.name = qualified_name(func)
        self.key_prefix = key_prefix
        self.per_request = not callable(key_prefix) and "%s" in key_prefix
        self.unless = optional_callback(unless)
        self.forced_update = optional_callback(forced_update)
        self.is_stale = optional_callback(is_stale, leading=1)
        self.response_filter = response_filter
        self.query_string = query_string
        self.hash_method = hash_method
        self.cache_none = cache_none
        self.custom_key = make_cache_key
        self.source_check = source_check
        self.hit_indication = bool(response_hit_indication)
        self.tag_keys = tuple(tag_version_key(tag) for tag in tags)
        self.lock = lock
        self.soft_timeout = soft_timeout
        self._source: str | None = None
        self._source_text: str | None = None
        self.wrapper: Any = None
        #: ``make_key`` bound once: a view whose ``make_cache_key`` is no longer this one had
        #: it replaced by the app
        self.default_key = self.make_key
        #: the key is the default one (path, method, host) with nothing more
        self.plain_key = self.per_request and not query_string and not source_check
        #: no callback, tag, soft timeout or custom key: the hit path can be inlined
        self.simple = not (
            unless or forced_update or is_stale or tags or soft_timeout or make_cache_key
        )

    # -- keys ----------------------------------------------------------------------------------

    def make_key(
        self,
        *args: Any,
        path: str | None = None,
        query_args: QueryArgs | None = None,
        method: str | None = None,
        host: str | None = None,
        scheme: str | None = None,
        **kwargs: Any,
    ) -> str:
        """The key of the current request; given view arguments (positional ones fill the
        view's parameters in order, as in Flask-Caching), of the request for ``url_for`` the
        view with them; given ``path``, of the request for that path. Outside a request the
        ``method`` is ``GET``, the ``host`` is ``SERVER_NAME`` and the ``scheme`` is
        ``PREFERRED_URL_SCHEME``."""
        if args:
            names = self.parameter_names()
            kwargs = {**dict(zip(names, args, strict=False)), **kwargs}
        if path is None and kwargs:
            path = url_for(self.func.__name__, _external=False, **kwargs)
        return self.key_for(
            self.cache.store(),
            path=path,
            query_args=query_args,
            method=method,
            host=host,
            scheme=scheme,
        )

    def parameter_names(self) -> list[str]:
        """Names of the view's parameters (read when a key is asked for, never per request)."""
        try:
            return list(inspect.signature(self.func).parameters)
        except (TypeError, ValueError):
            return []

    def key_for(
        self,
        store: Store,
        path: str | None = None,
        query_args: QueryArgs | None = None,
        method: str | None = None,
        host: str | None = None,
        scheme: str | None = None,
        **kwargs: Any,
    ) -> str:
        if not store.settings.view_key_request_parts:
            return self.flask_caching_key(store, path, query_args, kwargs)
        key_prefix = self.key_prefix
        if callable(key_prefix):
            key = key_prefix()
        elif self.per_request:
            # the request object itself, not the ``request`` proxy: each proxy access costs
            # about a microsecond, a large part of a hit
            ctx = current_request_context()
            req = ctx.request if ctx is not None else None
            if path is None:
                path = (
                    req.path
                    if req is not None
                    # outside a request ``url_for`` makes an external URL by default
                    else url_for(self.func.__name__, _external=False, **kwargs)
                )
            if method is None:
                method = req.method if req is not None else "GET"  # Werkzeug upper-cases it
            else:
                method = method.upper()
            if host is None:
                if req is not None:
                    host = req.environ.get("HTTP_HOST") or req.host
                else:
                    host = current_app.config.get("SERVER_NAME")
            if scheme is None:
                if req is not None:
                    scheme = req.scheme
                else:
                    scheme = current_app.config.get("PREFERRED_URL_SCHEME") or "http"
            if method == "HEAD":
                method = "GET"
            key = view_key(key_prefix % path, method, scheme, host or "")
        else:
            key = key_prefix
        settings = store.settings
        if self.query_string:
            hash_method = self.hash_method or settings.hash_method
            key += "?" + hexdigest(_query_text(query_args), hash_method)
        if self.source_check or (self.source_check is None and settings.source_check):
            if self._source is None:
                self._source = source_digest(self.func, self.hash_method or settings.hash_method)
            key += "#" + self._source
        return key

    def flask_caching_key(
        self,
        store: Store,
        path: str | None,
        query_args: QueryArgs | None,
        url_kwargs: dict[str, Any],
    ) -> str:
        """The key as Flask-Caching 2.5 builds it (see :mod:`flask_viewcache.viewkeys`)."""
        ctx = current_request_context()
        req = ctx.request if ctx is not None else None
        key_prefix = self.key_prefix
        if callable(key_prefix):
            key = key_prefix()
        elif self.per_request:
            if path is None:
                path = (
                    req.path
                    if req is not None
                    else url_for(self.func.__name__, _external=False, **url_kwargs)
                )
            key = key_prefix % path
        else:
            key = key_prefix
        settings = store.settings
        hash_method = self.hash_method or settings.hash_method
        source = None
        if self.source_check or (self.source_check is None and settings.source_check):
            if self._source_text is None:
                self._source_text = inspect.getsource(self.func)
            source = self._source_text
        if self.query_string:
            return key + query_digest(query_pairs(req, query_args), hash_method, source)
        return key if source is None else key + source_hexdigest(source, hash_method)

    def variant(self, store: Store) -> tuple[str, ...]:
        """What an entry of a per-path key records of its request (method, scheme, host),
        so that a request of another variant misses; nothing when the key holds them
        (``CACHE_VIEW_KEY_REQUEST_PARTS``) or the app makes the key itself."""
        if not self.per_request or store.settings.view_key_request_parts:
            return ()
        ctx = current_request_context()
        return (request_variant(ctx.request if ctx is not None else None),)

    def _key(self, store: Store, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[str, bool]:
        """``(key, whether working it out read the session)``: a key that read the session
        (``make_cache_key`` or a ``key_prefix`` callable keyed by the user) keeps users apart,
        so the result may be stored although the request read the session."""
        assigned = self.wrapper.make_cache_key
        if self.custom_key is None and assigned is self.default_key:
            if not callable(self.key_prefix):
                return self.key_for(store), False
            return key_reading_session(lambda: self.key_for(store))
        if self.custom_key is not None:
            custom = self.custom_key
            return key_reading_session(lambda: str(custom(*args, **kwargs)))
        # the app replaced ``view.make_cache_key``: Flask-Caching calls it like this
        return key_reading_session(lambda: str(assigned(*args, use_request=True, **kwargs)))

    # -- calls ---------------------------------------------------------------------------------

    def _mark(self, store: Store, status: str) -> None:
        """Have this request's response say what the cache did (when asked to): a handler
        for this one response, so an app pays nothing for the headers it did not ask for."""
        status_header = store.settings.status_header
        if not (status_header or self.hit_indication) or not has_request_context():
            return
        first = getattr(g, STATUS_ATTR, None) is None
        setattr(g, STATUS_ATTR, (status, status_header, self.hit_indication))
        if first:
            after_this_request(add_status_headers)

    def _signal(self, hit: bool, key: str, args: tuple[Any, ...], kwargs: Any) -> None:
        signal = cache_view_hit if hit else cache_view_miss
        signal.send(cache=self.cache, cache_key=key, args=args, kwargs=kwargs)

    def _storable(
        self, store: Store, value: Any, per_user: bool, as_response: bool
    ) -> tuple[Any, bool]:
        """``(frozen payload, whether it may be stored)`` for a fresh result."""
        payload, storable = freeze(value, as_response)
        if not storable or (value is None and not self.cache_none):
            return payload, False
        if not per_user and self._reads_session(store):
            return payload, False
        if self.response_filter is not None:
            seen = value.get_response() if isinstance(value, HTTPException) else value
            if not self.response_filter(seen):
                return payload, False
        if is_head():
            return payload, False
        return payload, True

    def _write(
        self, store: Store, key: str, current: tuple[Any, ...], value: Any, payload: Any
    ) -> bool:
        timeout = timeout_seconds(self.wrapper.cache_timeout)
        if isinstance(value, CachedResponse) and value.timeout:
            timeout = value.timeout
        try:
            return store.store_new(key, payload, self.tag_keys, current, timeout, self.soft_timeout)
        except Exception as exc:
            store.errors += 1
            logger.warning("could not store the result of %s: %r", self.name, exc)
            return False

    def _keep(
        self,
        store: Store,
        key: str,
        current: tuple[Any, ...],
        value: Any,
        per_user: bool,
        lease: ComputeLease | None = None,
    ) -> bool:
        """Store a fresh result if it may be stored, then give ``lease`` up (its waiters get
        the result only if it was stored). The result of the request's own view is judged
        by its final response: the store waits until Flask has made it and the view's
        ``after_this_request`` callbacks have run (:meth:`_commit_on_response`); True when
        it was stored now."""
        lease = lease or ComputeLease(key, None)
        as_response = self._is_request_view()
        payload, storable = self._storable(store, value, per_user, as_response)
        if not storable:
            lease.release()
            return False
        if as_response:
            self._commit_on_response(store, key, current, value, payload, per_user, lease)
            return False
        stored = self._write(store, key, current, value, payload)
        lease.release(payload if stored else MISSING)
        return stored

    def _commit_on_response(
        self,
        store: Store,
        key: str,
        current: tuple[Any, ...],
        value: Any,
        payload: Any,
        per_user: bool,
        lease: ComputeLease,
    ) -> None:
        """Store ``payload`` once the response of this request is made, if that response
        sets no cookie (set by the view's ``after_this_request`` callbacks, say), is the one
        made of the view's result, and the session is still untouched. Until then the
        waiters of ``lease`` wait; if no response is ever made, the end of the request
        releases it (see :func:`_pending_leases`)."""
        pending = _pending_leases()
        pending.append(lease)

        def commit(response: Response) -> Response:
            stored = False
            try:
                if (
                    not sets_cookie(response.headers)
                    and response.status_code == expected_status(payload)
                    and complete_status(response.status_code)
                    and (per_user or not self._reads_session(store))
                ):
                    stored = self._write(store, key, current, value, payload)
            finally:
                if lease in pending:
                    pending.remove(lease)
                lease.release(payload if stored else MISSING)
            if stored:
                marked = getattr(g, STATUS_ATTR, None)
                if marked is not None and marked[0] == "fwd=uri-miss":
                    setattr(g, STATUS_ATTR, ("fwd=uri-miss; stored", *marked[1:]))
            return response

        after_this_request(commit)

    def _is_request_view(self) -> bool:
        """Whether this function is the view of the current request's endpoint (through any
        decorators that ``functools.wraps`` it), so that what it returns is the response."""
        ctx = current_request_context()
        rule = ctx.request.url_rule if ctx is not None else None
        if rule is None:
            return False
        func = ctx.app.view_functions.get(rule.endpoint)  # type: ignore[union-attr]
        for _ in range(32):  # a chain of wrappers, never a cycle
            if func is None:
                return False
            if func is self.wrapper:
                return True
            func = getattr(func, "__wrapped__", None)
        return False

    def _run(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        try:
            value = self.func(*args, **kwargs)
            if inspect.isgenerator(value):
                value = join_generator(value)
        except HTTPException as exc:  # an abort is cached like a response (Flask-Caching 2.5)
            value = exc
        return value

    async def _run_async(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        try:
            value = await self.func(*args, **kwargs)
        except HTTPException as exc:
            value = exc
        return value

    def _reads_session(self, store: Store) -> bool:
        """Whether the request has read the session so far (in a ``before_request`` hook, the
        view, a template...), so that the result may belong to one user."""
        if store.settings.store_session_views or not session_accessed():
            return False
        store.function_stats(self.name).bypassed += 1
        if self.name not in _warned_session_views:
            _warned_session_views.add(self.name)
            logger.warning(
                "%s: the request read the session, so its result is not cached: it would be"
                " served to every user. Key it by user (make_cache_key), cache a fragment"
                " instead, or set CACHE_STORE_SESSION_VIEWS",
                self.name,
            )
        return True

    def _hit(
        self,
        store: Store,
        key: str,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        claim: bool = True,
    ) -> tuple[Any, tuple[Any, ...], bool]:
        """``(payload or MISSING, current versions, whether this caller must refresh)``; with
        ``claim=False``, a stale entry is returned without electing this caller to refresh."""
        envelope, current = store.read(key, self.tag_keys)
        current += self.variant(store)
        if self.forced_update is not None and self.forced_update((), args, kwargs):
            return MISSING, current, False
        if not store.valid(envelope, current) or not well_formed(envelope[1]):
            return MISSING, current, False
        payload = envelope[1]
        if self.is_stale is not None:
            try:
                seen = thaw(payload, checked=True)
            except HTTPException as exc:
                seen = exc
            if self.is_stale((seen,), args, kwargs):
                return MISSING, current, False
        fresh_until = envelope[3]
        refresh = bool(
            claim
            and fresh_until
            and store_module.wall_clock() > fresh_until
            and not is_head()
            and store.claim_refresh(key, store.settings.lock_timeout)
        )
        return payload, current, refresh

    def call(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        store = self.cache.store_or_none()
        if store is None:
            return self.func(*args, **kwargs)
        stats = store.function_stats(self.name)
        if self.simple and self.wrapper.make_cache_key is self.default_key:
            key, per_user = self._key(store, args, kwargs)
            envelope = store.reader.get(key)
            variant = self.variant(store)
            if store.valid(envelope, variant) and well_formed(envelope[1]):
                stats.hits += 1
                self.after_hit(store, key, args, kwargs)
                return thaw(envelope[1], checked=True)
            return self.miss(store, stats, key, variant, args, kwargs, per_user)
        action, key, current, payload, per_user = self._plan(store, stats, args, kwargs)
        if action is _HIT:
            return thaw(payload, checked=True)
        if action is _UNCACHED:
            return self.func(*args, **kwargs)
        if action is _REFRESH:
            try:
                value = self._run(args, kwargs)
                self._keep(store, key, current, value, per_user)
            finally:
                store.release_refresh(key)
            if isinstance(value, HTTPException):
                raise value
            return value
        return self.compute_miss(store, key, current, args, kwargs, per_user)

    def _plan(
        self, store: Store, stats: FunctionStats, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> tuple[str, str, tuple[Any, ...], Any, bool]:
        """What one call must do, shared by the sync and async paths:
        ``(action, key, current versions, hit payload, whether the key read the session)``,
        where the action is to run uncached, return a hit, refresh a stale entry (this
        caller was elected), or compute a miss. Counters, ``Cache-Status`` marks and signals
        are done here."""
        if self.unless is not None and self.unless((self.func,), args, kwargs):
            stats.bypassed += 1
            self._mark(store, "fwd=bypass")
            return _UNCACHED, "", (), None, False
        key, per_user = self._key(store, args, kwargs)
        payload, current, refresh = self._hit(store, key, args, kwargs)
        if refresh:
            stats.stale += 1
            self._mark(store, "fwd=stale")
            return _REFRESH, key, current, None, per_user
        if payload is not MISSING:
            stats.hits += 1
            self.after_hit(store, key, args, kwargs)
            return _HIT, key, current, payload, per_user
        self.count_miss(store, stats, key, args, kwargs)
        return _MISS, key, current, None, per_user

    def after_hit(self, store: Store, key: str, args: tuple[Any, ...], kwargs: Any) -> None:
        settings = store.settings
        if settings.status_header or self.hit_indication:
            self._mark(store, "hit")
        if settings.signals:
            self._signal(True, key, args, kwargs)

    def miss(
        self,
        store: Store,
        stats: FunctionStats,
        key: str,
        current: tuple[Any, ...],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        per_user: bool = False,
    ) -> Any:
        self.count_miss(store, stats, key, args, kwargs)
        return self.compute_miss(store, key, current, args, kwargs, per_user)

    def count_miss(
        self, store: Store, stats: FunctionStats, key: str, args: tuple[Any, ...], kwargs: Any
    ) -> None:
        stats.misses += 1
        if self.cache_none and store.backend is not store.direct:
            store.backend.has(key)  # Flask-Caching asks a subclass's ``has`` on a miss here
        if store.settings.signals:
            self._signal(False, key, args, kwargs)

    def compute_miss(
        self,
        store: Store,
        key: str,
        current: tuple[Any, ...],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        per_user: bool = False,
    ) -> Any:
        """Run the view for a miss and store its result. With a lock, one caller runs it
        (across threads and processes) while the others wait; they get its result only if
        it was stored, else each runs the view itself: a result that is not stored may be
        one user's."""
        lease = None
        if (self.lock or (self.lock is None and store.settings.lock)) and not is_head():
            # the waiters of one computation must be of its variant (method, scheme, host):
            # a result handed over to them is never looked at again
            found, lease = claim_compute(
                "|".join((key, *self.variant(store))),
                lambda: self._hit(store, key, args, kwargs, claim=False)[0],
                lock_cache=store.backend,
                lock_timeout=store.settings.lock_timeout,
                wait_timeout=store.settings.lock_wait,
            )
            if lease is None:
                self._mark(store, "fwd=uri-miss")
                return thaw(found, checked=True)  # raises a stored abort
        try:
            value = self._run(args, kwargs)
        except BaseException:
            if lease is not None:
                lease.release()
            raise
        stored = self._keep(store, key, current, value, per_user, lease)
        self._mark(store, "fwd=uri-miss; stored" if stored else "fwd=uri-miss")
        if isinstance(value, HTTPException):
            raise value
        return value

    def _sync_wrapper(self) -> Callable[..., Any]:
        """The decorated view. For the common case (default key, no callbacks, tags or soft
        timeout) the whole hit is inlined here: on a trivial view the cache's own work is a
        large part of the request, and each call and attribute lookup saved shows."""
        cache, name, func = self.cache, self.name, self.func
        key_prefix = self.key_prefix
        call = self.call
        default_key = self.default_key
        if not (self.simple and self.plain_key):

            @functools.wraps(func)
            def general_wrapper(*args: Any, **kwargs: Any) -> Any:
                return call(args, kwargs)

            return general_wrapper

        @functools.wraps(func)
        def fast_wrapper(*args: Any, **kwargs: Any) -> Any:
            req_ctx = current_request_context()
            if req_ctx is None or fast_wrapper.make_cache_key is not default_key:  # type: ignore[attr-defined]
                return call(args, kwargs)
            states = req_ctx.app.extensions.get("viewcache")
            store = None if states is None else states.get(cache)
            if store is None or store.settings.source_check:
                return call(args, kwargs)
            req = req_ctx.request
            if store.settings.view_key_request_parts:
                method = req.method
                key = view_key(
                    key_prefix % req.path,
                    "GET" if method == "HEAD" else method,
                    req.scheme,
                    req.environ.get("HTTP_HOST") or req.host,
                )
                variant: tuple[str, ...] = ()
            else:
                key = key_prefix % req.path
                variant = (request_variant(req),)
            stats = store.stats.get(name) or store.function_stats(name)
            envelope = store.reader.get(key)
            if store.valid(envelope, variant):
                payload = envelope[1]
                if type(payload) is str:
                    stats.hits += 1
                    settings = store.settings
                    if settings.status_header or settings.signals or self.hit_indication:
                        self.after_hit(store, key, args, kwargs)
                    return payload
                if well_formed(payload):
                    stats.hits += 1
                    self.after_hit(store, key, args, kwargs)
                    return thaw(payload, checked=True)
            return self.miss(store, stats, key, variant, args, kwargs)

        return fast_wrapper

    async def call_async(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """One call of the cached coroutine function. Stampede locks do not apply here:
        waiting on a lock would block the event loop."""
        store = self.cache.store_or_none()
        if store is None:
            return await self.func(*args, **kwargs)
        stats = store.function_stats(self.name)
        action, key, current, payload, per_user = self._plan(store, stats, args, kwargs)
        if action is _HIT:
            return thaw(payload, checked=True)
        if action is _UNCACHED:
            return await self.func(*args, **kwargs)
        try:
            value = await self._run_async(args, kwargs)
            stored = self._keep(store, key, current, value, per_user)
        finally:
            if action is _REFRESH:
                store.release_refresh(key)
        if action is not _REFRESH:
            self._mark(store, "fwd=uri-miss; stored" if stored else "fwd=uri-miss")
        if isinstance(value, HTTPException):
            raise value
        return value

    def wrap(self, timeout: Timeout) -> Any:
        func = self.func
        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                return await self.call_async(args, kwargs)

            wrapper: Any = async_wrapper
        else:
            wrapper = self._sync_wrapper()
        wrapper.uncached = func
        wrapper.cache_timeout = timeout
        wrapper.make_cache_key = self.default_key
        wrapper._viewcache_view = self
        self.wrapper = wrapper
        return wrapper


def view_key(path_part: str, method: str, scheme: str, host: str) -> str:
    """The default key of a view: ``key_prefix % path``, the method, and the scheme and host
    the client asked for (an ``https`` page holds ``https`` links, never served over ``http``).

    >>> view_key("view//a", "GET", "https", "Example.com")
    'view//a|GET|https://example.com'
    """
    return f"{path_part}|{method}|{scheme}://{host.lower()}"


def key_reading_session(make: Callable[[], str]) -> tuple[str, bool]:
    """``(make(), whether it read the session)``; what the request read before stays marked."""
    sess = request_session()
    if sess is None:
        return make(), False
    before = bool(getattr(sess, "accessed", False))
    sess.accessed = False
    try:
        key = make()
    finally:
        read = bool(getattr(sess, "accessed", False))
        sess.accessed = before or read
    return key, read


def _pending_leases() -> list[ComputeLease]:
    """The leases of this request whose store waits for its response. When the request's
    ``g`` goes (the context popped), any left are released: their response never came (an
    error in a response handler, a request context pushed by hand). A finalizer, not a
    teardown function or a signal receiver, so that the app's request pipeline is the one it
    had (httpcache's hit lane, for one, stands aside for any of those)."""
    pending: list[ComputeLease] | None = g.get(PENDING_ATTR)
    if pending is None:
        pending = []
        setattr(g, PENDING_ATTR, pending)
        weakref.finalize(g._get_current_object(), _release_all, pending)
    return pending


def _release_all(leases: list[ComputeLease]) -> None:
    for lease in list(leases):
        lease.release()


def is_head() -> bool:
    return has_request_context() and request.method == "HEAD"


def add_status_headers(response: Response) -> Response:
    """Handler of one response: the ``Cache-Status`` header (RFC 9211) when ``CACHE_STATUS_HEADER``
    is on, and Flask-Caching's ``hit_cache`` header for ``response_hit_indication``."""
    marked = g.pop(STATUS_ATTR, None)
    if marked is None:
        return response
    status, status_header, hit_indication = marked
    if status_header:
        response.headers["Cache-Status"] = f"flask-viewcache; {status}"
    if hit_indication and status == "hit":
        response.headers["hit_cache"] = "True"
    return response
