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
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from flask import url_for
from werkzeug.exceptions import HTTPException

from flask_cachecore import MISSING, ComputeLease
from flask_cachecore.compat import current_request_context

from .calls import join_generator
from .engine import Engine, Located, Rules
from .response import CachedResponse
from .signals import cache_view_hit, cache_view_miss
from .storable import freeze, session_accessed, thaw, well_formed
from .viewcommit import commit_on_response, is_head, mark_status
from .viewkeys import (
    QueryArgs,
    flask_caching_key,
    key_reading_session,
    request_parts_key,
    request_variant,
    view_key,
)

if TYPE_CHECKING:
    from .extension import Cache
    from .store import Store

logger = logging.getLogger(__name__)


_warned_session_views: set[str] = set()


class CachedView(Engine):
    """``cached`` on the decorator engine: keys by request, entries of a request's variant,
    results stored as plain data once the response is known to be storable."""

    hit_signal = cache_view_hit
    miss_signal = cache_view_miss

    def __init__(
        self,
        cache: Cache,
        func: Callable[..., Any],
        rules: Rules,
        *,
        key_prefix: str | Callable[[], str],
        query_string: bool,
        make_cache_key: Callable[..., str] | None,
        response_hit_indication: bool | None,
    ) -> None:
        super().__init__(cache, func, rules)
        self.key_prefix = key_prefix
        self.per_request = not callable(key_prefix) and "%s" in key_prefix
        self.query_string = query_string
        self.custom_key = make_cache_key
        self.hit_indication = bool(response_hit_indication)
        self._source_text: str | None = None
        #: ``make_key`` bound once: a view whose ``make_cache_key`` is no longer this one had
        #: it replaced by the app
        self.default_key = self.make_key
        #: the plain hit of :meth:`sync_wrapper` applies: the default key (path, method,
        #: host) with nothing more, and no callback, tag, soft timeout or custom key
        self.fast_hit = (
            self.per_request
            and not query_string
            and not rules.source_check
            and not make_cache_key
            and not (rules.unless or rules.forced_update or rules.is_stale)
            and not (rules.tags or rules.soft)
        )

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
        """The key of a request for this view (the current one's, by default)."""
        if not store.settings.view_key_request_parts:
            return flask_caching_key(self, store, path, query_args, kwargs)
        return request_parts_key(self, store, path, query_args, method, host, scheme, kwargs)

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

    def locate(self, store: Store, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Located:
        key, per_user = self._key(store, args, kwargs)
        return key, self.tag_keys, self.variant(store), per_user

    # -- the engine's hooks ----------------------------------------------------------------------

    def accepts(self, payload: Any) -> bool:
        return well_formed(payload)

    def seen(self, payload: Any) -> Any:
        try:
            return thaw(payload, checked=True)
        except HTTPException as exc:
            return exc

    def answer(self, payload: Any) -> Any:
        return thaw(payload, checked=True)  # raises a stored abort

    def filtered(self, value: Any) -> Any:
        return value.get_response() if isinstance(value, HTTPException) else value

    def run(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        try:
            value = self.func(*args, **kwargs)
            if inspect.isgenerator(value):
                value = join_generator(value)
        except HTTPException as exc:  # an abort is cached like a response (Flask-Caching 2.5)
            value = exc
        return value

    async def run_async(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        try:
            return await self.func(*args, **kwargs)
        except HTTPException as exc:
            return exc

    def finish(self, value: Any) -> Any:
        if isinstance(value, HTTPException):
            raise value
        return value

    def mark(self, store: Store, status: str) -> None:
        mark_status(status, store.settings.status_header, self.hit_indication)

    def may_claim(self) -> bool:
        return not is_head()

    def timeout(self, value: Any) -> int | None:
        if isinstance(value, CachedResponse) and value.timeout:
            return value.timeout
        return super().timeout(value)

    def keep(
        self,
        store: Store,
        where: Located,
        current: tuple[Any, ...],
        value: Any,
        lease: ComputeLease | None,
    ) -> bool:
        """Store a fresh result as plain data if it may be stored, then release ``lease``.
        The result of the request's own view is judged by its final response: the store
        waits until Flask has made it (:func:`~flask_viewcache.viewcommit.commit_on_response`)."""
        lease = lease or ComputeLease(where[0], None)
        as_response = self._is_request_view()
        payload, storable = freeze(value, as_response)
        per_user = where[3]
        if (
            not storable
            or not self.may_store(value)
            or (not per_user and self._reads_session(store))
            or is_head()
        ):
            lease.release()
            return False
        timeout = self.timeout(value)

        def write() -> bool:
            return self.write(store, where, current, payload, timeout)

        if as_response:
            commit_on_response(
                payload, lease, lambda: per_user or not self._reads_session(store), write
            )
            return False
        stored = write()
        lease.release(payload if stored else MISSING)
        return stored

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

    # -- the decorated function -----------------------------------------------------------------

    def sync_wrapper(self) -> Callable[..., Any]:
        """The decorated view. Everything goes through the engine's :meth:`call` but one
        performance trick: the plain hit (default key, no callbacks, tags or soft timeout)
        is inlined here. On a trivial view the cache's own work is a large part of the
        request, and each call and attribute lookup saved shows: on the benchmark's trivial
        view a hit added 10-29 µs this way against 29-53 µs through the engine (two runs)."""
        if not self.fast_hit:
            return super().sync_wrapper()
        cache, name, key_prefix = self.cache, self.name, self.key_prefix
        call, miss, after_hit = self.call, self.miss, self.after_hit
        default_key = self.default_key
        hit_indication = self.hit_indication

        @functools.wraps(self.func)
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
                    if settings.status_header or settings.signals or hit_indication:
                        after_hit(store, key, args, kwargs)
                    return payload
                if well_formed(payload):
                    stats.hits += 1
                    after_hit(store, key, args, kwargs)
                    return thaw(payload, checked=True)
            return miss(store, stats, (key, (), variant, False), variant, args, kwargs)

        return fast_wrapper

    def decorate(self, wrapper: Any) -> None:
        wrapper.make_cache_key = self.default_key
        wrapper._viewcache_view = self
