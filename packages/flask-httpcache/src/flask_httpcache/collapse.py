"""Request collapsing on cold misses: of N concurrent requests for one uncached URL, one runs
the view; the others wait (a bounded time) and are answered from what it stored.

Opt-in, by config (:attr:`~flask_httpcache.Config.collapse_requests`) or per view
(``cache_for(..., collapse=True)``, :func:`collapse_requests`). It is flask-cachecore's
stampede model: :func:`flask_cachecore.claim_compute` gives one request per URL a
:class:`~flask_cachecore.ComputeLease` (one mutex with a token, in this process and in the
backend, so across gunicorn workers); the others wait for its release, or poll the backend.

A waiter is never handed the leader's response: it looks the store up again with its own
request fields, as any hit does (Vary, Authorization and cookies then rule as for a hit). When
the leader's answer was not stored (``private``, ``no-store``, ``Set-Cookie``, a Vary that
does not select the waiter ...), the waiters run the view themselves, and a short marker
lets the next requests of that URL skip the wait (Varnish's "hit-for-pass").
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

from flask import Flask, Request

from flask_cachecore import MISSING, ComputeLease, claim_compute

from .config import Config
from .decorators import COLLAPSE_ATTRIBUTE, F
from .environ import REFRESH_FLAG
from .store import HeaderGetter, Store, StoredResponse

#: seconds the requests of a URL whose answer was not stored skip collapsing
PASS_TIMEOUT = 10
#: attribute of ``g`` holding the lease of the request that runs the view for the others
LEASE_ATTRIBUTE = "_httpcache_collapse"
_PASS: Any = object()


def collapse_requests(enabled: bool = True) -> Callable[[F], F]:
    """Collapse the concurrent cold misses of this view (``enabled=False``: never, even with
    ``HTTPCACHE_COLLAPSE_REQUESTS``). Place it under ``@app.route``, with the other
    decorators of flask-httpcache in any order."""

    def decorator(view: F) -> F:
        setattr(view, COLLAPSE_ATTRIBUTE, enabled)
        return view

    return decorator


def wants_collapse(
    config: Config, app: Flask, request: Request, directives: dict[str, str | None]
) -> bool:
    """Whether this miss may wait for another request: a GET that is not a refresh and does
    not ask to bypass stored answers (``no-cache``, ``no-store``), for a view that opted in
    (or any view with :attr:`Config.collapse_requests`, unless it opted out)."""
    if request.method != "GET" or REFRESH_FLAG in request.environ:
        return False
    if "no-cache" in directives or "no-store" in directives or "only-if-cached" in directives:
        return False
    view = app.view_functions.get(request.endpoint or "")
    chosen = getattr(view, COLLAPSE_ATTRIBUTE, None)
    return bool(config.collapse_requests if chosen is None else chosen)


def collapse_miss(
    store: Store, uri_key: str, header: HeaderGetter, context: object
) -> StoredResponse | None:
    """What this request may use once the request that runs the view for it is done: the
    stored response its own lookup finds, or None (it then runs the view; if it is the one
    that runs it for the others, its lease is kept on ``g`` for :func:`finish_collapse`)."""
    cache = store.cache
    pass_key = uri_key + "|pass"

    def find() -> Any:
        if cache.get(pass_key) is not None:
            return _PASS
        entry, _ = store.lookup(uri_key, header)
        return MISSING if entry is None else entry

    timeout = store.config.collapse_timeout
    found, lease = claim_compute(
        uri_key + "|collapse",
        find,
        lock_cache=cache,
        lock_timeout=timeout,
        wait_timeout=timeout,
        hand_over=False,  # what one request's lookup finds is its own variant
    )
    if lease is not None and (lease.flight is not None or lease.lock is not None):
        setattr(context, LEASE_ATTRIBUTE, (lease, uri_key, header))
        # released when the request's ``g`` goes even if no response hook runs (an error
        # under PROPAGATE_EXCEPTIONS, a failing after_request hook, no ResponseHandler);
        # a finalizer, not a teardown function, so the hit lane stays open
        weakref.finalize(context, lease.release)
    return found if isinstance(found, StoredResponse) else None


def finish_collapse(store: Store, context: object) -> None:
    """Release the lease of the request that ran the view for others, once its answer is
    stored; if it was not, mark the URL so that the waiters and the next requests run the
    view themselves."""
    held: tuple[ComputeLease, str, HeaderGetter] | None = vars(context).pop(LEASE_ATTRIBUTE, None)
    if held is None:
        return
    lease, uri_key, header = held
    try:
        entry, _ = store.lookup(uri_key, header)
        if entry is None:
            store.cache.set(uri_key + "|pass", 1, timeout=PASS_TIMEOUT)
    finally:
        lease.release()
