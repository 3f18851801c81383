"""The shared cache as two Flask hooks that the user places among their own hooks.

Flask runs ``before_request`` hooks in the order they were installed and ``after_request``
hooks in the reverse order. :class:`RequestHandler` (a ``before_request`` hook) answers from the
cache; :class:`ResponseHandler` (an ``after_request`` hook) adds validators, answers conditional
requests and stores or invalidates. Where each one sits decides what the others see: a logging
hook installed before the :class:`RequestHandler` sees hits; a compression hook installed after
the :class:`ResponseHandler` runs before it, so compressed bodies are stored.

This module only orders the steps; each step lives in the module named by its job:
:mod:`.environ` (reading the request), :mod:`.policy` (may a stored response be reused),
:mod:`.conditional` (304/412/206), :mod:`.revalidation`, :mod:`.storing`,
:mod:`.invalidation`, :mod:`.refresh` (stale-while-revalidate), and the fast paths
:mod:`.lane` and :mod:`.middleware`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from cachelib import BaseCache
from flask import Flask, current_app, g, request
from flask.wrappers import Response

from . import rules
from .collapse import collapse_miss, finish_collapse, wants_collapse
from .conditional import answer_conditional, precondition_for_unsafe
from .config import Config
from .environ import REFETCH_KEY, REFRESH_FLAG, environ_header, environ_uri_key
from .environ import request_directives as read_request_directives
from .invalidation import invalidate_after_unsafe
from .lane import HitLane
from .policy import head_matches_stored, reuse_decision, stale_if_error_allows
from .query_rules import apply_to_request, has_query_rules, query_rules_change
from .refresh import refresh_in_background
from .responses import cache_status, gateway_timeout, response_from_entry
from .revalidation import (
    freshen_from_304,
    leave_refetched_answer,
    refetch,
    restore_client_conditionals,
    selected_by_304,
    send_validators,
)
from .speedups import plain_request_hook, plain_response_hook, server_dates_responses
from .store import Store, StoredResponse
from .storing import add_validators, store_response
from .tags import SURROGATE_KEY

logger = logging.getLogger(__name__)


class RequestState:
    """What the request hook learned, for the response hook (kept on ``g._httpcache``)."""

    __slots__ = (
        "bypass",
        "client_conditionals",
        "directives",
        "entry",
        "fwd",
        "request_time",
        "uri_key",
    )

    def __init__(
        self,
        request_time: float,
        uri_key: str | None = None,
        fwd: str = "uri-miss",
        bypass: bool = False,
        directives: rules.Directives | None = None,
    ) -> None:
        self.request_time = request_time
        self.uri_key = uri_key
        self.directives: rules.Directives = {} if directives is None else directives
        self.entry: StoredResponse | None = None
        self.bypass = bypass
        self.fwd = fwd
        self.client_conditionals: dict[str, str] | None = None


#: the state of a request answered by the cache itself (a hit, a 504): the response handler
#: leaves its response alone
SERVED = RequestState(0.0, fwd="served")


class SharedCache:
    """The steps of both hooks, in order, over one :class:`~flask_httpcache.store.Store`."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.config = store.config
        self.query_rules = has_query_rules(store.config)
        #: the before_request function RequestHandler installed (None: not installed)
        self.installed_hook: Callable[[], Response | None] | None = None

    def query_seen_before(self, app: Flask) -> bool:
        """Whether app code may have run before the request hook in this request: a URL
        value preprocessor, or a ``before_request`` function registered ahead of it."""
        if any(app.url_value_preprocessors.values()):
            return True
        first = app.before_request_funcs.get(None, ())
        return self.installed_hook is None or not first or first[0] is not self.installed_hook

    def request_hook(self) -> Callable[[], Response | None]:
        """:meth:`before_request` for ``app.before_request`` (see :mod:`.speedups`)."""
        return plain_request_hook(self.before_request)

    def response_hook(self) -> Callable[[Response], Response]:
        """:meth:`after_request` for ``app.after_request`` (see :mod:`.speedups`)."""
        return plain_response_hook(self.respond)

    def respond(self, response: Response) -> Response:
        """:meth:`after_request`, then what every answer but a hit gets on its way out: the
        ``Surrogate-Key`` field removed (unless :attr:`Config.emit_surrogate_key`), and the
        waiters of a collapsed miss (:mod:`.collapse`) released once it is stored."""
        context = g._get_current_object()
        state = getattr(context, "_httpcache", None)
        if state is SERVED:  # made from a stored response: no Surrogate-Key, no waiters
            return response
        try:
            answer = self.after_request(response, state)
        finally:
            finish_collapse(self.store, context)
        if not self.config.emit_surrogate_key and SURROGATE_KEY in answer.headers:
            del answer.headers[SURROGATE_KEY]  # read for the tags; not for clients
        return answer

    def before_request(self) -> Response | None:
        """Answer from the cache if RFC 9111 §4 allows it; else prepare the forwarding."""
        config = self.config
        req = request._get_current_object()  # type: ignore[attr-defined]
        environ = req.environ
        method = req.method
        now = config.clock()
        # the object behind the ``g`` proxy: one lookup instead of one per attribute
        context = g._get_current_object()
        if self.query_rules:
            changed, read = apply_to_request(req, config)
            if changed and (read or self.query_seen_before(current_app)):
                # the rules ran here, not at the WSGI level (the hit lane): a hook or URL
                # value preprocessor before this one may have used the parameters the key
                # leaves out, so the answer is not the rewritten key's (RFC 9111 §7.1)
                context._httpcache = RequestState(now, fwd="bypass", bypass=True)
                return None
        if config.resource_exemptions and config.is_exempt(req.path):
            context._httpcache = RequestState(now, fwd="bypass", bypass=True)
            return None
        uri_key = environ_uri_key(self.store, environ)
        if uri_key is None:
            context._httpcache = RequestState(now, fwd="bypass", bypass=True)
            return None
        if method != "GET" and method != "HEAD":
            context._httpcache = RequestState(now, uri_key, "method", bypass=True)
            return precondition_for_unsafe(self.store, uri_key, environ, method)
        directives = read_request_directives(config, environ)
        if "HTTP_AUTHORIZATION" in environ or REFETCH_KEY in environ:
            # Our policy (RFC 9111 §3.5, §7): a request with credentials always reaches the
            # view, since a view that reads Authorization rarely says so in Vary. A re-fetch
            # (RFC 9111 §4.3.4) goes to the view without validators.
            context._httpcache = RequestState(now, uri_key, "request", directives=directives)
            return None
        header = environ_header(environ)
        entry, reason = self.store.lookup(uri_key, header)
        if entry is None and wants_collapse(config, current_app, req, directives):
            # a cold miss: wait for the request that runs the view, or be that request
            entry = collapse_miss(self.store, uri_key, header, context)
            now = config.clock()
        if entry is None:
            self.store.counters.misses += 1
            context._httpcache = RequestState(now, uri_key, reason, directives=directives)
            if "only-if-cached" in directives:
                return self.gateway_timeout()
            return None
        age = entry.current_age(now)
        if environ.get(REFRESH_FLAG):
            decision = "validate"
        else:
            decision = reuse_decision(entry, directives, age)
        if decision == "validate":
            state = RequestState(now, uri_key, directives=directives)
            state.entry = entry
            context._httpcache = state
            if "only-if-cached" in directives:
                return self.gateway_timeout()
            state.fwd = "stale" if entry.lifetime <= age else "request"
            state.client_conditionals = send_validators(entry, environ)
            return None
        self.store.counters.hits += 1
        context._httpcache = SERVED
        status = f"{config.cache_name}; hit; ttl={int(entry.lifetime - age)}"
        if decision == "stale-while-revalidate":
            refresh_in_background(self.store, uri_key, environ)
            status += "; detail=stale-while-revalidate"
        response = response_from_entry(entry, age, status, server_dates_responses(environ))
        # whole seconds, as the stored Date field has them
        return answer_conditional(response, environ, method, stored_date=entry.date // 1)

    def gateway_timeout(self) -> Response:
        """``only-if-cached`` with nothing usable stored: 504 (RFC 9111 §5.2.1.7)."""
        g._httpcache = SERVED
        return gateway_timeout(self.config)

    def state_without_request_hook(self) -> RequestState:
        """The state of a request that a ResponseHandler sees without its RequestHandler:
        it stores, never serves."""
        config = self.config
        state = RequestState(request_time=config.clock())
        environ = request.environ
        if config.is_exempt(request.path) or (
            # the view saw the parameters the key rules remove: its answer is not the one
            # of the rewritten key (RFC 9111 §7.1)
            self.query_rules and query_rules_change(environ, config)
        ):
            state.bypass, state.fwd = True, "bypass"
            return state
        state.uri_key = environ_uri_key(self.store, environ)
        state.directives = read_request_directives(config, environ)
        if state.uri_key is None:
            state.bypass, state.fwd = True, "bypass"
        elif request.method not in ("GET", "HEAD"):
            state.bypass, state.fwd = True, "method"
        return state

    def after_request(self, response: Response, state: RequestState | None) -> Response:
        """Add validators, store or invalidate, and answer the client's preconditions."""
        if state is None:
            state = self.state_without_request_hook()
        environ = request.environ
        method = request.method
        config = self.config
        store = self.store
        if method not in rules.SAFE_METHODS:
            invalidate_after_unsafe(store, response, state.uri_key)
            response.headers["Cache-Status"] = cache_status(
                config, response.headers.get("Cache-Status"), "fwd=method"
            )
            return response
        if method not in ("GET", "HEAD"):
            return response
        now = config.clock()
        add_validators(config, response)
        params = [f"fwd={state.fwd}"]
        entry = state.entry
        if state.client_conditionals is not None:
            restore_client_conditionals(environ, state.client_conditionals)
        keys = (state.uri_key, state.directives, state.request_time, now)
        if response.status_code == 304 and entry is not None and state.uri_key is not None:
            if not selected_by_304(entry, response):
                # the 304 is about some other representation: the client did not ask for a
                # 304, so ask the view again, unconditionally (RFC 9111 §4.3.4)
                logger.debug("304 selects no stored response, re-fetching %s", request.url)
                return refetch(environ, response)
            response, stored = freshen_from_304(store, entry, response, *keys)
            params += ["fwd-status=304", *(["stored"] if stored else [])]
        elif (
            response.status_code >= 500
            and entry is not None
            and stale_if_error_allows(entry, state.directives, now)
        ):
            params.append(f"fwd-status={response.status_code}")
            params.append("detail=stale-if-error")
            response = response_from_entry(
                entry, entry.current_age(now), server_dates=server_dates_responses(environ)
            )
        else:
            params.append(f"fwd-status={response.status_code}")
            if state.bypass:
                pass
            elif method == "GET":
                if store_response(store, response, *keys):
                    params.append("stored")
            elif entry is not None and head_matches_stored(response, entry):
                _, stored = freshen_from_304(store, entry, response, *keys)
                params.extend(["stored"] if stored else [])
        response.headers["Cache-Status"] = cache_status(
            config, response.headers.get("Cache-Status"), *params
        )
        answer = answer_conditional(response, environ, method, stored_date=None)
        leave_refetched_answer(environ, answer)
        return answer


def _store_of(cache: BaseCache | Store, config: Config | None) -> Store:
    return cache if isinstance(cache, Store) else Store(cache, config)


class _Handler:
    """One of the two hooks, over a store it may share with the other.

    :param cache: a cachelib backend (any of flask_cachecore's) or a shared
        :class:`~flask_httpcache.store.Store`.
    """

    def __init__(
        self, cache: BaseCache | Store, app: Flask | None = None, config: Config | None = None
    ) -> None:
        self.store = _store_of(cache, config)
        self.shared = SharedCache(self.store)
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        raise NotImplementedError


class RequestHandler(_Handler):
    """Installs the ``before_request`` hook that answers from the cache, and the hit lane
    (:mod:`flask_httpcache.lane`) in front of Flask's own ``wsgi_app`` when that is not
    wrapped yet and ``Config.hit_lane`` is on: fresh hits that nothing else in the app would
    see are then served before Flask builds a request context."""

    def init_app(self, app: Flask) -> None:
        hook = self.shared.request_hook()
        app.before_request(hook)
        self.shared.installed_hook = hook
        if self.store.config.hit_lane and "wsgi_app" not in vars(app):
            app.wsgi_app = HitLane(app, app.wsgi_app, self.store, hook)  # type: ignore[method-assign]


class ResponseHandler(_Handler):
    """Installs the ``after_request`` hook that validates, stores and invalidates."""

    def init_app(self, app: Flask) -> None:
        app.after_request(self.shared.response_hook())
