"""The shared cache as two Flask hooks that the user places among their own hooks.

Flask runs ``before_request`` hooks in the order they were installed and ``after_request``
hooks in the reverse order. :class:`RequestHandler` (a ``before_request`` hook) answers from the
cache; :class:`ResponseHandler` (an ``after_request`` hook) adds validators, answers conditional
requests and stores or invalidates. Where each one sits decides what the others see: a logging
hook installed before the :class:`RequestHandler` sees hits; a compression hook installed after
the :class:`ResponseHandler` runs before it, so compressed bodies are stored.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from dataclasses import replace
from io import BytesIO
from typing import Any
from urllib.parse import urljoin, urlsplit

from cachelib import BaseCache
from flask import Flask, current_app, g, request
from flask.sessions import SessionMixin
from flask.wrappers import Response
from werkzeug.exceptions import RequestedRangeNotSatisfiable
from werkzeug.http import http_date

from flask_cachecore import DistributedLock
from flask_cachecore.compat import current_request_context, opened_session

from . import rules
from .config import Config
from .query_rules import apply_to_request, has_query_rules, query_rules_change
from .responses import CachedResponse, response_from_entry, server_dates_responses
from .store import Store, StoredResponse, freshen, in_process_cache
from .storing import make_entry
from .tags import SURROGATE_KEY
from .target import environ_target

logger = logging.getLogger(__name__)

#: environ flag of a background refresh (stale-while-revalidate): always goes to the view
REFRESH_FLAG = "httpcache.refresh"
#: environ key of a re-fetch after a 304 that selected no stored response (RFC 9111 §4.3.4):
#: the request goes to the view without validators, and the response handler leaves its
#: answer in the list this key holds
REFETCH_KEY = "httpcache.refetch"
_CONDITIONALS = (
    "HTTP_IF_MATCH",
    "HTTP_IF_NONE_MATCH",
    "HTTP_IF_MODIFIED_SINCE",
    "HTTP_IF_UNMODIFIED_SINCE",
    "HTTP_IF_RANGE",
)
_CONDITIONALS_OR_RANGE = frozenset((*_CONDITIONALS, "HTTP_RANGE"))


def environ_header(environ: dict[str, Any]) -> Callable[[str], str | None]:
    """A reader of request fields straight from the WSGI environ (no Request object)."""

    def header(name: str) -> str | None:
        key = name.upper().replace("-", "_")
        if key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            return environ.get(key) or None
        value = environ.get("HTTP_" + key)
        return value if isinstance(value, str) else None

    return header


def environ_uri_key(store: Store, environ: dict[str, Any]) -> str | None:
    """The key of the request target: scheme, host, path and query, as the WSGI server (and a
    ProxyFix in front of the app, if any) gave them, each encoded apart (RFC 9111 §4, §7.1;
    see :mod:`flask_httpcache.target`). None when the request must bypass the cache: its
    scheme or ``Host`` is not valid, or its host is not one the store admits."""
    raw = (
        environ.get("wsgi.url_scheme", "http"),
        environ.get("HTTP_HOST"),
        environ.get("SERVER_NAME"),
        environ.get("SERVER_PORT"),
        environ.get("SCRIPT_NAME", ""),
        environ.get("PATH_INFO", ""),
        environ.get("QUERY_STRING", ""),
        store.config.master_salt,
    )
    key = store.environ_keys.get(raw)
    if key is None:
        target = environ_target(environ)
        if target is None or not store.admits_host(target[1]):
            return None
        key = store.uri_key(*target)
        store.remember_environ_key(raw, key)
    return key


def path_key_of(store: Store, environ: dict[str, Any]) -> str | None:
    """The key of the request's URL without its query, when it has a query (for
    :attr:`Config.max_query_variants`); None otherwise."""
    if not environ.get("QUERY_STRING"):
        return None
    target = environ_target(environ)
    return None if target is None else store.uri_key(*target[:3], "")


def request_directives(config: Config, environ: dict[str, Any]) -> rules.Directives:
    """The request's Cache-Control directives; ``Pragma: no-cache`` only when there is no
    Cache-Control (RFC 9111 §5.4). Empty when the config ignores request directives."""
    if not config.request_controls_cache:
        return {}
    value = environ.get("HTTP_CACHE_CONTROL")
    if value is not None:
        return rules.parse_directives(value)[0]
    pragma = environ.get("HTTP_PRAGMA")
    if pragma and "no-cache" in pragma.lower():
        return {"no-cache": None}
    return {}


def cache_status(config: Config, upstream: str | None, *params: str) -> str:
    """A ``Cache-Status`` value with this cache's entry appended (RFC 9211 §2)."""
    ours = "; ".join((config.cache_name, *params))
    return f"{upstream}, {ours}" if upstream else ours


def not_modified(response: Response) -> Response:
    """The 304 for ``response``: only the fields of RFC 9110 §15.4.5, plus Age and
    Cache-Status."""
    result = Response(status=304)
    for name in (*rules.NOT_MODIFIED_FIELDS, "last-modified", "age", "cache-status"):
        for value in response.headers.getlist(name):
            result.headers.add(name, value)
    return result


def answer_conditional(
    response: Response, environ: dict[str, Any], method: str, stored_date: float | None
) -> Response:
    """Answer the client's preconditions (RFC 9110 §13.2.2) and Range (§14) from a complete
    200: 304, 412, 206 via Werkzeug's ``make_conditional``, or the response itself.

    ``stored_date``: the ``Date`` of the stored response a hit is made from, which a cache
    compares If-Modified-Since with when the response has no Last-Modified (RFC 9111 §4.3.2);
    None for a response of the view (an origin does not). It is given apart because a hit
    under a server that dates every response leaves the stored ``Date`` field out.
    """
    if response.status_code != 200 or environ.keys().isdisjoint(_CONDITIONALS_OR_RANGE):
        return response
    header = environ_header(environ)
    modified = rules.http_timestamp(response.headers.get("Last-Modified"))
    if modified is None:
        modified = stored_date
    outcome = rules.precondition_outcome(method, header, response.headers.get("ETag"), modified)
    if outcome == 304:
        return not_modified(response)
    if outcome == 412:
        failed = Response(status=412)
        for name in ("ETag", "Cache-Status"):
            if name in response.headers:
                failed.headers[name] = response.headers[name]
        return failed
    if header("Range") is not None and method == "GET" and not response.is_streamed:
        # Werkzeug builds the 206 (and checks If-Range); what it lacks is handled above
        try:
            response.make_conditional(
                environ, accept_ranges=True, complete_length=len(response.get_data())
            )
        except RequestedRangeNotSatisfiable as exc:
            unsatisfiable = exc.get_response(environ)
            for name in ("ETag", "Cache-Status", "Date"):
                if name in response.headers:
                    unsatisfiable.headers[name] = response.headers[name]
            return unsatisfiable  # type: ignore[return-value]
    return response


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
    """The logic of both hooks, over one :class:`~flask_httpcache.store.Store`."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.config = store.config
        self.query_rules = has_query_rules(store.config)

    def request_hook(self) -> Callable[[], Response | None]:
        """:meth:`before_request` as a plain function, for ``app.before_request``: Flask asks
        of every hook on every request whether it is a coroutine function, which costs less
        for a function than for a bound method."""
        before_request = self.before_request

        def httpcache_request_handler() -> Response | None:
            return before_request()

        return httpcache_request_handler

    def response_hook(self) -> Callable[[Response], Response]:
        """:meth:`after_request` as a plain function, for ``app.after_request``."""
        after_request = self.after_request
        emit_surrogate_key = self.config.emit_surrogate_key

        def httpcache_response_handler(response: Response) -> Response:
            answer = after_request(response)
            if not emit_surrogate_key and SURROGATE_KEY in answer.headers:
                del answer.headers[SURROGATE_KEY]  # read for the tags; not for clients
            return answer

        # known to the hit lane as a hook that leaves hits alone (see flask_httpcache.lane)
        setattr(httpcache_response_handler, "httpcache_response_hook", True)  # noqa: B010
        return httpcache_response_handler

    # request side ---------------------------------------------------------------------------

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
            apply_to_request(req, config)
        if config.resource_exemptions and config.is_exempt(req.path):
            context._httpcache = RequestState(now, fwd="bypass", bypass=True)
            return None
        uri_key = environ_uri_key(self.store, environ)
        if uri_key is None:
            context._httpcache = RequestState(now, fwd="bypass", bypass=True)
            return None
        if method != "GET" and method != "HEAD":
            state = context._httpcache = RequestState(now, uri_key, "method", bypass=True)
            return self.precondition_for_unsafe(state, environ, method)
        directives = request_directives(config, environ)
        if "HTTP_AUTHORIZATION" in environ or REFETCH_KEY in environ:
            # Our policy (RFC 9111 §3.5, §7): a request with credentials always reaches the
            # view, since a view that reads Authorization rarely says so in Vary. A re-fetch
            # (RFC 9111 §4.3.4) goes to the view without validators.
            context._httpcache = RequestState(now, uri_key, "request", directives=directives)
            return None
        entry, reason = self.store.lookup(uri_key, environ_header(environ))
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
            decision = self.reuse_decision(entry, directives, age)
        if decision == "validate":
            state = RequestState(now, uri_key, directives=directives)
            state.entry = entry
            context._httpcache = state
            if "only-if-cached" in directives:
                return self.gateway_timeout()
            state.fwd = "stale" if entry.lifetime <= age else "request"
            self.send_validators(state, entry, environ)
            return None
        self.store.counters.hits += 1
        context._httpcache = SERVED
        status = f"{config.cache_name}; hit; ttl={int(entry.lifetime - age)}"
        if decision == "stale-while-revalidate":
            self.refresh_in_background(uri_key, environ)
            status += "; detail=stale-while-revalidate"
        response = response_from_entry(entry, age, status, server_dates_responses(environ))
        # whole seconds, as the stored Date field has them
        return answer_conditional(response, environ, method, stored_date=entry.date // 1)

    @staticmethod
    def reuse_decision(entry: StoredResponse, directives: rules.Directives, age: float) -> str:
        """``fresh``, ``stale`` (allowed by max-stale), ``stale-while-revalidate`` or
        ``validate``, for a stored response of this ``current_age`` (RFC 9111 §4.2.4, §5.2.1,
        RFC 5861)."""
        ttl = entry.lifetime - age
        if not directives and ttl > 0 and "no-cache" not in entry.directives:
            return "fresh"  # the common case, first
        if rules.is_no_cache(entry.directives) or "no-cache" in directives:
            return "validate"
        max_age = rules.delta_seconds(directives.get("max-age"))
        if max_age is not None and age > max_age:
            return "validate"
        min_fresh = rules.delta_seconds(directives.get("min-fresh"))
        if min_fresh is not None and ttl < min_fresh:
            return "validate"
        if ttl > 0:
            return "fresh"
        if rules.forbids_serving_stale(entry.directives):
            return "validate"
        if "max-stale" in directives:
            allowed = directives["max-stale"]
            limit = rules.delta_seconds(allowed)
            if allowed is None or (limit is not None and -ttl <= limit):
                return "stale"
        window = entry.stale_allowance("stale-while-revalidate")
        if window and -ttl <= window:
            return "stale-while-revalidate"
        return "validate"

    @staticmethod
    def send_validators(
        state: RequestState, entry: StoredResponse, environ: dict[str, Any]
    ) -> None:
        """Make the forwarded request conditional on the stored validators (RFC 9111 §4.3.1);
        the client's own preconditions are set aside and answered afterwards."""
        if environ.get("HTTP_RANGE"):
            return  # a partial answer cannot validate a complete stored one: plain forward
        etag, modified = entry.etag, entry.header("Last-Modified")
        if etag is None and modified is None:
            return
        state.client_conditionals = {k: environ.pop(k) for k in _CONDITIONALS if k in environ}
        if etag is not None:
            environ["HTTP_IF_NONE_MATCH"] = etag
        if modified is not None:
            environ["HTTP_IF_MODIFIED_SINCE"] = modified

    def precondition_for_unsafe(
        self, state: RequestState, environ: dict[str, Any], method: str
    ) -> Response | None:
        """If-Match / If-None-Match / If-Unmodified-Since on an unsafe method, checked against
        the stored representation before the view changes anything (RFC 9110 §13.2.1)."""
        if not any(k in environ for k in _CONDITIONALS[:4]) or state.uri_key is None:
            return None
        entry, _ = self.store.lookup(state.uri_key, environ_header(environ))
        if entry is None:
            return None
        outcome = rules.precondition_outcome(
            method, environ_header(environ), entry.etag, entry.last_modified
        )
        if outcome == 412:
            return Response(status=412)
        return None

    def gateway_timeout(self) -> Response:
        """``only-if-cached`` with nothing usable stored: 504 (RFC 9111 §5.2.1.7)."""
        response = Response("Gateway Timeout: not in cache\n", status=504, mimetype="text/plain")
        response.headers["Cache-Status"] = cache_status(self.config, None, "fwd=miss")
        g._httpcache = SERVED
        return response

    def refresh_in_background(self, uri_key: str, environ: dict[str, Any]) -> None:
        """Run the view again for ``uri_key`` in the background, once across every process
        sharing the backend (RFC 5861 §3): the first to take the lock refreshes."""
        lock = DistributedLock(self.store.cache, uri_key + "|refresh", timeout=60)
        if not lock.acquire():
            return
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        copy = refresh_environ(environ)

        def refresh() -> None:
            try:
                result = app.wsgi_app(copy, lambda *args: lambda data: None)
                try:
                    for _ in result:
                        pass
                finally:
                    close = getattr(result, "close", None)
                    if close is not None:
                        close()
            except Exception:
                logger.exception("background refresh of %s failed", uri_key)
            finally:
                lock.release()

        self.config.background(refresh)

    # response side --------------------------------------------------------------------------

    def after_request(self, response: Response) -> Response:
        """Add validators, store or invalidate, and answer the client's preconditions."""
        state: RequestState | None = getattr(g._get_current_object(), "_httpcache", None)
        if state is SERVED:
            return response
        environ = request.environ
        method = request.method
        config = self.config
        if state is None:  # a ResponseHandler without its RequestHandler: store, never serve
            state = RequestState(request_time=config.clock())
            if config.is_exempt(request.path) or (
                # the view saw the parameters the rules remove: its answer is not the one
                # of the rewritten key's (RFC 9111 §7.1)
                self.query_rules and query_rules_change(environ, config)
            ):
                state.bypass, state.fwd = True, "bypass"
            else:
                state.uri_key = environ_uri_key(self.store, environ)
                state.directives = request_directives(config, environ)
                if state.uri_key is None:
                    state.bypass, state.fwd = True, "bypass"
                elif method not in ("GET", "HEAD"):
                    state.bypass, state.fwd = True, "method"
        if method not in rules.SAFE_METHODS:
            self.invalidate_after_unsafe(response, state)
            response.headers["Cache-Status"] = cache_status(
                config, response.headers.get("Cache-Status"), "fwd=method"
            )
            return response
        if method not in ("GET", "HEAD"):
            return response
        now = config.clock()
        self.add_validators(response, now)
        params = [f"fwd={state.fwd}"]
        entry = state.entry
        if state.client_conditionals is not None:
            for key in _CONDITIONALS:
                environ.pop(key, None)
            environ.update(state.client_conditionals)
        if response.status_code == 304 and entry is not None and state.uri_key is not None:
            if not rules.validation_selects(
                entry.etag,
                entry.header("Last-Modified"),
                response.headers.get("ETag"),
                response.headers.get("Last-Modified"),
            ):
                # the 304 is about some other representation: the client did not ask for a
                # 304, so ask the view again, unconditionally (RFC 9111 §4.3.4)
                logger.debug("304 selects no stored response, re-fetching %s", request.url)
                return self.refetch(environ, response)
            response, stored = self.freshen_from_304(state, entry, response, now)
            params += ["fwd-status=304", *(["stored"] if stored else [])]
        elif (
            response.status_code >= 500
            and entry is not None
            and self.stale_if_error_allows(entry, state.directives, now)
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
                if self.store_response(state, response, now):
                    params.append("stored")
            elif entry is not None and head_matches_stored(response, entry):
                _, stored = self.freshen_from_304(state, entry, response, now)
                params.extend(["stored"] if stored else [])
        response.headers["Cache-Status"] = cache_status(
            config, response.headers.get("Cache-Status"), *params
        )
        answer = answer_conditional(response, environ, method, stored_date=None)
        refetched = environ.get(REFETCH_KEY)
        if isinstance(refetched, list) and not refetched:
            copy = snapshot(answer)
            if copy is not None:
                refetched.append(copy)
        return answer

    def refetch(self, environ: dict[str, Any], unselected: Response) -> Response:
        """The answer of the view to the request again, without the cache's validators: what
        a 304 that selects no stored response leaves the cache to do (RFC 9111 §4.3.4).

        The request runs through the whole app once more, marked by :data:`REFETCH_KEY`; the
        response handler of that run stores the answer as usual and leaves it, as it stood
        then, in the list under that key: the hooks that run after this one then see it once,
        as they see a miss. Otherwise (a file, or that run's handler did not see the answer)
        the answer is what that run wrote.
        """
        copy = refresh_environ(environ, keep_conditionals=True)
        copy.pop(REFRESH_FLAG)
        answers: list[Response] = []
        copy[REFETCH_KEY] = answers
        written: list[Any] = []

        def start_response(status: str, headers: list[tuple[str, str]], *_: Any) -> Any:
            written[:] = [status, headers]
            return lambda data: None

        app = current_app._get_current_object()  # type: ignore[attr-defined]
        result = app.wsgi_app(copy, start_response)
        try:
            body = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        if answers:
            return answers[0]
        if not written:
            return unselected
        return Response(body, status=written[0], headers=written[1])

    def add_validators(self, response: Response, now: float) -> None:
        """The origin side: a strong ETag computed from the body of a complete, non-streamed
        200 (RFC 9110 §8.8.3). ``Date`` is left to the WSGI server, which adds one to every
        response (gunicorn in place of the app's, Werkzeug's development server besides it);
        the stored copy gets the time of storing when the view gave none."""
        if (
            self.config.auto_etag
            and response.status_code == 200
            and "ETag" not in response.headers
            and not response.is_streamed
            and not response.direct_passthrough
        ):
            response.add_etag()

    def store_response(self, state: RequestState, response: Response, now: float) -> bool:
        """Store a response to GET if RFC 9111 §3 and the bounds of §7 allow it."""
        if state.uri_key is None or "no-store" in state.directives:
            return False
        if response.is_streamed or response.direct_passthrough:
            return False
        sess = session_without_touching()
        interface = current_app.session_interface
        if sess is not None and not interface.is_null_session(sess) and sess.accessed:
            # Flask adds ``Vary: Cookie`` after every after_request hook; add it now, so the
            # stored response varies on the session cookie too.
            response.vary.add("Cookie")
            if interface.should_set_cookie(current_app, sess):
                return False
        entry, reason = make_entry(
            response.status_code,
            response.headers.to_wsgi_list(),
            response.get_data(),
            request_time=state.request_time,
            response_time=now,
            request_header=environ_header(request.environ),
            config=self.config,
        )
        if entry is None:
            logger.debug("not stored (%s): %s", reason, request.url)
            return False
        return self.store.save(state.uri_key, entry, now, path_key_of(self.store, request.environ))

    def freshen_from_304(
        self, state: RequestState, entry: StoredResponse, response: Response, now: float
    ) -> tuple[Response, bool]:
        """A 304 to our validation: update the stored response's fields and serve it
        (RFC 9111 §4.3.3, §4.3.4)."""
        fields = response.headers.to_wsgi_list()
        if "Date" not in response.headers:  # the server will date it now (see add_validators)
            fields.append(("Date", http_date(now)))
        updated = freshen(entry, fields)
        new, _ = make_entry(
            updated.status,
            updated.headers,
            updated.body,
            request_time=state.request_time,
            response_time=now,
            request_header=environ_header(request.environ),
            config=self.config,
        )
        if new is not None and not new.tags:  # a 304 may leave the Surrogate-Key out
            new = replace(new, tags=entry.tags)
        stored = False
        if new is not None and state.uri_key is not None and "no-store" not in state.directives:
            stored = self.store.save(state.uri_key, new, now)
        served = new or updated
        dated = server_dates_responses(request.environ)
        return response_from_entry(served, served.current_age(now), server_dates=dated), stored

    @staticmethod
    def stale_if_error_allows(
        entry: StoredResponse, directives: rules.Directives, now: float
    ) -> bool:
        """``stale-if-error`` (RFC 5861 §4), from the response or the request, within its
        window, and not forbidden by must-revalidate and the like (RFC 9111 §4.2.4)."""
        if rules.forbids_serving_stale(entry.directives):
            return False
        stale = -entry.seconds_to_live(now)
        allowed = max(
            entry.stale_allowance("stale-if-error"),
            rules.delta_seconds(directives.get("stale-if-error")) or 0,
        )
        return allowed > 0 and stale <= allowed

    def invalidate_after_unsafe(self, response: Response, state: RequestState) -> None:
        """A 2xx/3xx to an unsafe method invalidates the target URI and the same-origin
        Location and Content-Location (RFC 9111 §4.4)."""
        if not 200 <= response.status_code < 400 or state.uri_key is None:
            return
        self.store.invalidate(state.uri_key)
        base = request.url
        origin = urlsplit(base)
        for name in ("Location", "Content-Location"):
            value = response.headers.get(name)
            if not value:
                continue
            url = urljoin(base, value)
            target = urlsplit(url)
            if (target.scheme, target.netloc.lower()) != (origin.scheme, origin.netloc.lower()):
                continue
            key = self.store.url_key(url, request.script_root)
            if key is not None:
                self.store.invalidate(key)


def head_matches_stored(response: Response, entry: StoredResponse) -> bool:
    """A 200 to HEAD may freshen a stored GET when its validators and Content-Length agree
    with the stored ones (RFC 9111 §4.3.5)."""
    if response.status_code != 200 or entry.status != 200:
        return False
    for name in ("ETag", "Last-Modified", "Content-Length"):
        new, old = response.headers.get(name), entry.header(name)
        if new is not None and old is not None and new != old:
            return False
    return entry.etag is not None or entry.header("Last-Modified") is not None


def session_without_touching() -> SessionMixin | None:
    """The request's session, read without marking it accessed.

    Since Flask 3.1.3 reading ``session`` (or ``RequestContext.session``) marks the session
    accessed, which adds ``Vary: Cookie``; Flask has no public way to look without touching,
    so this asks flask-cachecore's compat module, which knows where each Flask keeps it.
    """
    ctx = current_request_context()
    return None if ctx is None else opened_session(ctx)


def refresh_environ(environ: dict[str, Any], keep_conditionals: bool = False) -> dict[str, Any]:
    """A copy of a GET request's environ that can run again later, marked as a refresh; with
    ``keep_conditionals``, the client's preconditions and Range stay."""
    copy: dict[str, Any] = {k: v for k, v in environ.items() if isinstance(v, str)}
    copy.update(
        {
            "wsgi.version": (1, 0),
            "wsgi.input": BytesIO(b""),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
            REFRESH_FLAG: True,
        }
    )
    if not keep_conditionals:
        for key in (*_CONDITIONALS, "HTTP_RANGE", "HTTP_CACHE_CONTROL", "HTTP_PRAGMA"):
            copy.pop(key, None)
    return copy


def snapshot(response: Response) -> Response | None:
    """A copy of ``response`` as it stands, which later changes to ``response`` leave alone
    (for :meth:`SharedCache.refetch`); a streamed response is read into memory, a file
    (``direct_passthrough``) is not copied."""
    if response.direct_passthrough:
        return None
    return CachedResponse.build(
        response.status_code, response.headers.to_wsgi_list(), response.get_data()
    )


def _store_of(cache: BaseCache | Store | None, config: Config | None) -> Store:
    if isinstance(cache, Store):
        return cache
    return Store(cache if cache is not None else in_process_cache(config=config), config)


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
        if self.store.config.hit_lane and "wsgi_app" not in vars(app):
            from .lane import HitLane

            app.wsgi_app = HitLane(app, app.wsgi_app, self.store, hook)  # type: ignore[method-assign]


class ResponseHandler(_Handler):
    """Installs the ``after_request`` hook that validates, stores and invalidates."""

    def init_app(self, app: Flask) -> None:
        app.after_request(self.shared.response_hook())


def easy_setup(
    app: Flask, cache: BaseCache | Store | None = None, config: Config | None = None
) -> tuple[RequestHandler, ResponseHandler]:
    """Install both handlers after every hook installed so far: a hit skips no earlier
    ``before_request`` hook, and the response is stored as the view made it, before the
    ``after_request`` hooks installed so far (they then run on hits too). The cache is
    in-process unless one is given."""
    store = _store_of(cache, config)
    return RequestHandler(store, app), ResponseHandler(store, app)
