"""A WSGI fast path: fresh hits served before Flask builds a request context."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from cachelib import BaseCache

from . import rules
from .config import Config
from .handlers import REFETCH_KEY, REFRESH_FLAG, environ_header, environ_uri_key
from .responses import hit_fields, server_dates_responses
from .store import Store

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

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
_STATUS_LINES: dict[int, str] = {}


def status_line(code: int) -> str:
    line = _STATUS_LINES.get(code)
    if line is None:
        from werkzeug.http import HTTP_STATUS_CODES

        line = _STATUS_LINES[code] = f"{code} {HTTP_STATUS_CODES.get(code, 'UNKNOWN')}"
    return line


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
        self.wsgi_app = wsgi_app
        self.store = cache if isinstance(cache, Store) else Store(cache, config)
        self.config = self.store.config

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD")
        if method == "GET" or method == "HEAD":
            served = self.serve_fresh(environ, start_response, method)
            if served is not None:
                return served
        return self.wsgi_app(environ, start_response)

    def serve_fresh(
        self, environ: dict[str, Any], start_response: Callable[..., Any], method: str
    ) -> list[bytes] | None:
        if not environ.keys().isdisjoint(_LEAVE_TO_APP):
            return None
        config = self.config
        if config.resource_exemptions and config.is_exempt(environ.get("PATH_INFO", "")):
            return None
        entry, _ = self.store.lookup(environ_uri_key(self.store, environ), environ_header(environ))
        if entry is None or rules.is_no_cache(entry.directives):
            return None
        now = config.clock()
        age = entry.current_age(now)
        ttl = entry.lifetime - age
        if ttl <= 0:
            return None
        self.store.counters.hits += 1
        ours = f"{config.cache_name}; hit; ttl={int(ttl)}"
        upstream = entry.upstream_status
        fields = hit_fields(entry, server_dates_responses(environ))
        fields.append(("Age", str(int(age))))
        fields.append(("Cache-Status", f"{upstream}, {ours}" if upstream else ours))
        start_response(status_line(entry.status), fields)
        return [] if method == "HEAD" else [entry.body]
