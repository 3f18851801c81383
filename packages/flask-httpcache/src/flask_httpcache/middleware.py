"""A WSGI fast path: fresh hits served before Flask builds a request context."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from cachelib import BaseCache
from werkzeug.middleware.proxy_fix import ProxyFix

from . import rules
from .config import Config
from .handlers import REFETCH_KEY, REFRESH_FLAG, environ_header, environ_uri_key
from .query_rules import apply_query_rules, has_query_rules
from .responses import hit_fields, server_dates_responses, status_line, written_unchanged
from .store import Store

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

#: what a fresh hit is written from: status line, header fields, body
FreshAnswer = tuple[str, list[tuple[str, str]], list[bytes]]

# Requests the fast path leaves to the Flask handlers: anything that asks more than "a fresh
# copy, whole": preconditions, ranges, request directives, credentials, refreshes.
_LEAVE_TO_APP = frozenset(
    {
        "HTTP_CACHE_CONTROL",
        "HTTP_PRAGMA",
        "HTTP_RANGE",
        "HTTP_IF_MATCH",
        "HTTP_IF_NONE_MATCH",
        "HTTP_IF_MODIFIED_SINCE",
        "HTTP_IF_UNMODIFIED_SINCE",
        "HTTP_IF_RANGE",
        "HTTP_AUTHORIZATION",
        REFRESH_FLAG,
        REFETCH_KEY,
    }
)


class HTTPCacheMiddleware:
    """Serve fresh stored responses straight from WSGI; send everything else to ``wsgi_app``.

    The store is the one the Flask handlers fill: give this middleware the same cache and
    config (or the same :class:`~flask_httpcache.store.Store`). Only a GET or HEAD for a fresh
    response, with no preconditions, Range, Cache-Control or Authorization, is answered here;
    the rest (and every miss) goes through Flask and its handlers. Install a ProxyFix *outside*
    this middleware, so both see the same host and scheme.
    """

    def __init__(
        self,
        wsgi_app: WSGIApplication,
        cache: BaseCache | Store,
        config: Config | None = None,
    ) -> None:
        if isinstance(wsgi_app, ProxyFix):
            # the app would see the forwarded host and scheme, this middleware the raw ones:
            # a page made for one would be served under the key of the other (RFC 9111 §7.1)
            raise ValueError(
                "HTTPCacheMiddleware must not wrap a ProxyFix: put the ProxyFix outside it"
                " (app.wsgi_app = ProxyFix(HTTPCacheMiddleware(app.wsgi_app, ...)))"
            )
        self.store = cache if isinstance(cache, Store) else Store(cache, config)
        self.config = self.store.config
        self.query_rules = has_query_rules(self.config)
        from .lane import HitLane

        if isinstance(wsgi_app, HitLane) and wsgi_app.fresh.store is self.store:
            # the request handler's hit lane over this store: it would look up again what
            # this middleware just looked up, so Flask is called past it
            wsgi_app = wsgi_app.wsgi_app
        self.wsgi_app = wsgi_app

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if self.query_rules:
            apply_query_rules(environ, self.config)
        method = environ.get("REQUEST_METHOD")
        if method == "GET" or method == "HEAD":
            answer = self.fresh_answer(environ, method)
            if answer is not None:
                return self.write(answer, start_response)
        return self.wsgi_app(environ, start_response)

    def fresh_answer(self, environ: WSGIEnvironment, method: str) -> FreshAnswer | None:
        """The status line, fields and body of a fresh hit for this GET or HEAD, as the
        request handler would write them; None when the request is not that plain or the
        stored response is one Werkzeug would adjust on the way out (a ``Location``, no
        ``Content-Length``, a status without a body): the handlers answer those."""
        if not environ.keys().isdisjoint(_LEAVE_TO_APP):
            return None
        config = self.config
        if config.resource_exemptions and config.is_exempt(environ.get("PATH_INFO", "")):
            return None
        uri_key = environ_uri_key(self.store, environ)
        if uri_key is None:
            return None
        entry, _ = self.store.lookup(uri_key, environ_header(environ))
        if entry is None or rules.is_no_cache(entry.directives):
            return None
        age = entry.current_age(config.clock())
        ttl = entry.lifetime - age
        if ttl <= 0 or not written_unchanged(entry.status, entry.headers):
            return None
        ours = f"{config.cache_name}; hit; ttl={int(ttl)}"
        upstream = entry.upstream_status
        fields = hit_fields(entry, server_dates_responses(environ))
        fields.append(("Age", str(int(age))))
        fields.append(("Cache-Status", f"{upstream}, {ours}" if upstream else ours))
        return status_line(entry.status), fields, [] if method == "HEAD" else [entry.body]

    def write(self, answer: FreshAnswer, start_response: StartResponse) -> list[bytes]:
        """Hand a fresh hit to the server, and count it."""
        status, fields, body = answer
        start_response(status, fields)
        self.store.counters.hits += 1
        return body
