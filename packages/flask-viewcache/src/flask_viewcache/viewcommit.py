"""What a cached view does around the response of its request: the store that waits for the
final response, and the headers that say what the cache did.

The result of a request's own view is judged by the response Flask makes of it, once the
view's ``after_this_request`` callbacks have run: a response that sets a cookie, or whose
status is not the one the view returned, is never stored. Until then the lease of the
computation is held, so its waiters wait for the answer that is stored, never for one that
is not.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable

from flask import Response, after_this_request, g, has_request_context, request

from flask_cachecore import MISSING, ComputeLease

from .storable import complete_status, expected_status, sets_cookie

#: ``g`` attribute that tells the response handler what the cache did in this request
STATUS_ATTR = "_viewcache_status"
#: ``g`` attribute: the leases of this request whose store waits for the final response
PENDING_ATTR = "_viewcache_pending"


def is_head() -> bool:
    return has_request_context() and request.method == "HEAD"


def mark_status(status: str, status_header: bool, hit_indication: bool) -> None:
    """Have this request's response say what the cache did (when asked to): a handler for
    this one response, so an app pays nothing for the headers it did not ask for."""
    if not (status_header or hit_indication) or not has_request_context():
        return
    first = getattr(g, STATUS_ATTR, None) is None
    setattr(g, STATUS_ATTR, (status, status_header, hit_indication))
    if first:
        after_this_request(add_status_headers)


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


def commit_on_response(
    payload: object,
    lease: ComputeLease,
    may_store: Callable[[], bool],
    write: Callable[[], bool],
) -> None:
    """``write()`` the payload once the response of this request is made, if that response
    sets no cookie, is the one made of the view's result, and ``may_store()`` still holds
    (the session is untouched); then release ``lease``, handing the payload to its waiters
    only if it was stored. If no response is ever made, the end of the request releases it
    (see :func:`pending_leases`)."""
    pending = pending_leases()
    pending.append(lease)

    def commit(response: Response) -> Response:
        stored = False
        try:
            if (
                not sets_cookie(response.headers)
                and response.status_code == expected_status(payload)
                and complete_status(response.status_code)
                and may_store()
            ):
                stored = write()
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


def pending_leases() -> list[ComputeLease]:
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
