"""A WSGI fast path: fresh hits served before Flask builds a request context."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from cachelib import BaseCache
from werkzeug.middleware.proxy_fix import ProxyFix

from .config import Config
from .fresh import FreshHits
from .lane import HitLane
from .query_rules import apply_query_rules, has_query_rules
from .store import Store

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment


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
        self.fresh = FreshHits(self.store)
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
            answer = self.fresh.answer(environ, method)
            if answer is not None:
                return self.fresh.write(answer, start_response)
        return self.wsgi_app(environ, start_response)
