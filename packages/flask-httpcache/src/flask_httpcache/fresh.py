"""Fresh hits answered straight from WSGI, as the request handler would answer them: what the
hit lane (:mod:`.lane`) and the middleware (:mod:`.middleware`) share."""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import rules
from .environ import REFETCH_KEY, REFRESH_FLAG, environ_header, environ_uri_key
from .speedups import hit_fields, server_dates_responses, status_line, written_unchanged
from .store import Store

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

#: what a fresh hit is written from: status line, header fields, body
FreshAnswer = tuple[str, list[tuple[str, str]], list[bytes]]

# Requests the fast paths leave to the Flask handlers: anything that asks more than "a fresh
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


class FreshHits:
    """Looks up fresh hits of a store for plain GET and HEAD requests, and writes them."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.config = store.config

    def answer(self, environ: WSGIEnvironment, method: str) -> FreshAnswer | None:
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
        fields = hit_fields(entry.headers, server_dates_responses(environ))
        fields.append(("Age", str(int(age))))
        fields.append(("Cache-Status", f"{upstream}, {ours}" if upstream else ours))
        return status_line(entry.status), fields, [] if method == "HEAD" else [entry.body]

    def write(self, answer: FreshAnswer, start_response: StartResponse) -> list[bytes]:
        """Hand a fresh hit to the server, and count it."""
        status, fields, body = answer
        start_response(status, fields)
        self.store.counters.hits += 1
        return body
