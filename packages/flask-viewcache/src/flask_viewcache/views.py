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
from collections.abc import Callable, Iterable, Mapping
from contextvars import ContextVar
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
from werkzeug.exceptions import HTTPException, default_exceptions

from flask_cachecore import MISSING, canonical_query, compute_once, qualified_name
from flask_cachecore.compat import current_request_context, opened_session

from . import store as store_module
from .calls import Timeout, join_generator, optional_callback, timeout_seconds
from .keys import hexdigest, source_digest, tag_version_key
from .signals import cache_view_hit, cache_view_miss

if TYPE_CHECKING:
    from .extension import Cache
    from .store import FunctionStats, Store

logger = logging.getLogger(__name__)

_RESPONSE = "__vc_response__"
_ABORT = "__vc_abort__"
#: ``g`` attribute that tells the response handler what the cache did in this request
STATUS_ATTR = "_viewcache_status"

QueryArgs = str | bytes | Mapping[str, Any] | Iterable[tuple[str, Any]]


class CachedResponse(Response):
    """A response that a ``cached`` view returns to choose its own cache timeout.

    >>> CachedResponse(Response("hi"), timeout=60).timeout
    60
    """

    timeout: int | None = None

    def __init__(self, response: Response, timeout: Timeout) -> None:
        # take over the state of the finished response rather than rebuilding it
        self.__dict__ = response.__dict__
        self.timeout = timeout_seconds(timeout)


# the actions of :meth:`CachedView._plan`
_UNCACHED, _HIT, _REFRESH, _MISS = "uncached", "hit", "refresh", "miss"

#: whether the view run last in this context read the session (set by ``_run``)
_view_read_session: ContextVar[bool] = ContextVar("viewcache_view_read_session", default=False)
_warned_session_views: set[str] = set()


def session_was_read() -> bool:
    """Whether the current request's session has been read, looked at without reading it.

    Flask 3.1 marks the session accessed when ``RequestContext.session`` is touched, so this
    reads the private ``_session`` where it exists (the plain attribute on older Flask). A null
    session (no ``SECRET_KEY``) holds nothing of a user's and does not count.
    """
    ctx = current_request_context()
    if ctx is None:
        return False
    sess = opened_session(ctx)
    if sess is None or not getattr(sess, "accessed", False):
        return False
    return not ctx.app.session_interface.is_null_session(sess)


def freeze(value: Any) -> tuple[Any, bool]:
    """``(what to store, whether it may be stored)`` for a view's result.

    A response becomes ``(marker, status, headers, body)``: the body as Latin-1 text, which
    every serializer, JSON included, carries byte for byte. A response that sets a cookie is
    never stored: replaying it would hand one user's cookie to every other user.
    """
    if isinstance(value, HTTPException):
        frozen = None
        if value.response is not None:
            frozen, storable = freeze(value.response)
            if not storable:
                return value, False
        return (_ABORT, value.code, value.description, frozen), True
    if isinstance(value, Response):
        if "Set-Cookie" in value.headers or value.direct_passthrough:
            return value, False
        headers = tuple((k, v) for k, v in value.headers.items() if k.lower() != "content-length")
        body = value.get_data().decode("latin-1")
        return (_RESPONSE, value.status_code, headers, body), True
    return value, True


def thaw(payload: Any) -> Any:
    """The view's result from what :func:`freeze` stored; raises a stored abort."""
    if type(payload) in (list, tuple) and len(payload) == 4:
        marker = payload[0]
        if marker == _RESPONSE:
            _, status, headers, body = payload
            return current_app.response_class(
                body.encode("latin-1"), status=status, headers=[tuple(h) for h in headers]
            )
        if marker == _ABORT:
            _, code, description, frozen = payload
            if frozen is not None:
                raise HTTPException(description=description, response=thaw(frozen))
            exc_class = default_exceptions.get(code, HTTPException)
            exc = exc_class(description=description)
            exc.code = code
            raise exc
    return payload


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
        **kwargs: Any,
    ) -> str:
        """The key of the current request; given view arguments (positional ones fill the
        view's parameters in order, as in Flask-Caching), of the request for ``url_for`` the
        view with them; given ``path``, of the request for that path. Outside a request the
        ``method`` is ``GET`` and the ``host`` is ``SERVER_NAME``."""
        if args:
            names = self.parameter_names()
            kwargs = {**dict(zip(names, args, strict=False)), **kwargs}
        if path is None and kwargs:
            path = url_for(self.func.__name__, _external=False, **kwargs)
        return self.key_for(
            self.cache.store(), path=path, query_args=query_args, method=method, host=host
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
        **kwargs: Any,
    ) -> str:
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
            if method == "HEAD":
                method = "GET"
            key = f"{key_prefix % path}|{method}|{(host or '').lower()}"
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

    def _key(self, store: Store, args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
        if self.custom_key is not None:
            return str(self.custom_key(*args, **kwargs))
        assigned = self.wrapper.make_cache_key
        if assigned is not self.default_key:
            # the app replaced ``view.make_cache_key``: Flask-Caching calls it like this
            return str(assigned(*args, use_request=True, **kwargs))
        return self.key_for(store)

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

    def _store(
        self, store: Store, key: str, current: tuple[Any, ...], value: Any
    ) -> tuple[Any, bool]:
        """Store a fresh result; returns ``(frozen payload, whether stored)``."""
        payload, storable = freeze(value)
        if not storable or (value is None and not self.cache_none):
            return payload, False
        if self._reads_session(store):
            store.function_stats(self.name).bypassed += 1
            return payload, False
        if self.response_filter is not None:
            seen = value.get_response() if isinstance(value, HTTPException) else value
            if not self.response_filter(seen):
                return payload, False
        if is_head():
            return payload, False
        timeout = timeout_seconds(self.wrapper.cache_timeout)
        if isinstance(value, CachedResponse) and value.timeout:
            timeout = value.timeout
        try:
            stored = store.store_new(
                key, payload, self.tag_keys, current, timeout, self.soft_timeout
            )
        except Exception as exc:
            store.errors += 1
            logger.warning("could not store the result of %s: %r", self.name, exc)
            return payload, False
        return payload, stored

    def _run(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        already_read = session_was_read()
        try:
            value = self.func(*args, **kwargs)
            if inspect.isgenerator(value):
                value = join_generator(value)
        except HTTPException as exc:  # an abort is cached like a response (Flask-Caching 2.5)
            value = exc
        _view_read_session.set(not already_read and session_was_read())
        return value

    async def _run_async(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        already_read = session_was_read()
        try:
            value = await self.func(*args, **kwargs)
        except HTTPException as exc:
            value = exc
        _view_read_session.set(not already_read and session_was_read())
        return value

    def _reads_session(self, store: Store) -> bool:
        """Whether the run just made read the session, so that its result belongs to one user.

        A key that read the session (``make_cache_key`` or a ``key_prefix`` callable keyed by the
        user) already keeps users apart: the session then counts as read before the view ran.
        """
        if not _view_read_session.get() or store.settings.store_session_views:
            return False
        if self.name not in _warned_session_views:
            _warned_session_views.add(self.name)
            logger.warning(
                "%s read the session, so its result is not cached: it would be served to every"
                " user. Key it by user (make_cache_key), cache a fragment instead, or set"
                " CACHE_STORE_SESSION_VIEWS",
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
        if self.forced_update is not None and self.forced_update((), args, kwargs):
            return MISSING, current, False
        if not store.valid(envelope, current):
            return MISSING, current, False
        payload = envelope[1]
        if self.is_stale is not None:
            try:
                seen = thaw(payload)
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
            key = self.key_for(store)
            envelope = store.reader.get(key)
            if store.valid(envelope, ()):
                stats.hits += 1
                self.after_hit(store, key, args, kwargs)
                return thaw(envelope[1])
            return self.miss(store, stats, key, (), args, kwargs)
        action, key, current, payload = self._plan(store, stats, args, kwargs)
        if action is _HIT:
            return thaw(payload)
        if action is _UNCACHED:
            return self.func(*args, **kwargs)
        if action is _REFRESH:
            try:
                return self._finish(self._store(store, key, current, self._run(args, kwargs)))
            finally:
                store.release_refresh(key)
        return self.compute_miss(store, key, current, args, kwargs)

    def _plan(
        self, store: Store, stats: FunctionStats, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> tuple[str, str, tuple[Any, ...], Any]:
        """What one call must do, shared by the sync and async paths:
        ``(action, key, current versions, hit payload)``, where the action is to run uncached,
        return a hit, refresh a stale entry (this caller was elected), or compute a miss.
        Counters, ``Cache-Status`` marks and signals are done here."""
        if self.unless is not None and self.unless((self.func,), args, kwargs):
            stats.bypassed += 1
            self._mark(store, "fwd=bypass")
            return _UNCACHED, "", (), None
        key = self._key(store, args, kwargs)
        payload, current, refresh = self._hit(store, key, args, kwargs)
        if refresh:
            stats.stale += 1
            self._mark(store, "fwd=stale")
            return _REFRESH, key, current, None
        if payload is not MISSING:
            stats.hits += 1
            self.after_hit(store, key, args, kwargs)
            return _HIT, key, current, payload
        self.count_miss(store, stats, key, args, kwargs)
        return _MISS, key, current, None

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
    ) -> Any:
        self.count_miss(store, stats, key, args, kwargs)
        return self.compute_miss(store, key, current, args, kwargs)

    def count_miss(
        self, store: Store, stats: FunctionStats, key: str, args: tuple[Any, ...], kwargs: Any
    ) -> None:
        stats.misses += 1
        if store.settings.signals:
            self._signal(False, key, args, kwargs)

    def compute_miss(
        self,
        store: Store,
        key: str,
        current: tuple[Any, ...],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> Any:
        """Run the view for a miss (once across callers with a lock) and store its result."""
        if (self.lock or (self.lock is None and store.settings.lock)) and not is_head():

            def lookup() -> Any:
                found, _, _ = self._hit(store, key, args, kwargs, claim=False)
                return found

            payload = compute_once(
                key,
                lookup,
                lambda: self._store(store, key, current, self._run(args, kwargs))[0],
                lock_cache=store.backend,
                lock_timeout=store.settings.lock_timeout,
                wait_timeout=store.settings.lock_wait,
            )
            self._mark(store, "fwd=uri-miss")
            result = thaw(payload)
            if isinstance(result, HTTPException):  # an abort that could not be stored
                raise result
            return result
        value = self._run(args, kwargs)
        _, stored = self._store(store, key, current, value)
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
            method = req.method
            key = (
                f"{key_prefix % req.path}|{'GET' if method == 'HEAD' else method}|"
                f"{(req.environ.get('HTTP_HOST') or req.host).lower()}"
            )
            stats = store.stats.get(name) or store.function_stats(name)
            envelope = store.reader.get(key)
            if store.valid(envelope, ()):
                stats.hits += 1
                settings = store.settings
                if settings.status_header or settings.signals or self.hit_indication:
                    self.after_hit(store, key, args, kwargs)
                payload = envelope[1]
                return payload if type(payload) is str else thaw(payload)
            return self.miss(store, stats, key, (), args, kwargs)

        return fast_wrapper

    def _finish(self, result: tuple[Any, bool]) -> Any:
        return thaw(result[0])

    async def call_async(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """One call of the cached coroutine function. Stampede locks do not apply here:
        waiting on a lock would block the event loop."""
        store = self.cache.store_or_none()
        if store is None:
            return await self.func(*args, **kwargs)
        stats = store.function_stats(self.name)
        action, key, current, payload = self._plan(store, stats, args, kwargs)
        if action is _HIT:
            return thaw(payload)
        if action is _UNCACHED:
            return await self.func(*args, **kwargs)
        try:
            value = await self._run_async(args, kwargs)
            payload, stored = self._store(store, key, current, value)
        finally:
            if action is _REFRESH:
                store.release_refresh(key)
        if action is _REFRESH:
            return thaw(payload)
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
