"""View keys as Flask-Caching spells them, and the request variant that keeps them safe.

Flask-Caching's key of a ``cached`` view is ``key_prefix % request.path``, followed, with
``query_string=True``, by a digest of the sorted query pairs, and with ``source_check`` by a
digest of the view's source. Apps build these strings themselves (``cache.delete("view//")``),
so they are the default here too.

Such a key does not say for which method, scheme or host the answer was made, so a response
rendered for ``Host: evil.example`` or for ``http`` would be served to everyone else. The
entry therefore records its *variant* (method, scheme, host) among its versions, and a request
of another variant is a miss that replaces it: the key strings stay Flask-Caching's, the
answers are never another variant's. ``CACHE_VIEW_KEY_REQUEST_PARTS = True`` puts the method
and host in the key itself instead (each variant has an entry of its own).
"""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode

from flask import Request, current_app, request, url_for
from werkzeug.datastructures import MultiDict

from flask_cachecore import canonical_query
from flask_cachecore.compat import current_request_context

from .keys import hexdigest
from .storable import request_session

if TYPE_CHECKING:
    from .store import Store
    from .views import CachedView

#: first characters of a variant among an entry's versions (tells it from a version number)
VARIANT_MARK = "req:"

QueryArgs = str | bytes | Mapping[str, Any] | Iterable[tuple[str, Any]]


def request_variant(req: Request | None) -> str:
    """``req:METHOD|scheme|host`` of a request (``HEAD`` counts as ``GET``); of no request,
    ``req:``."""
    if req is None:
        return VARIANT_MARK
    method = req.method
    host = req.environ.get("HTTP_HOST") or req.host
    return f"{VARIANT_MARK}{'GET' if method == 'HEAD' else method}|{req.scheme}|{host.lower()}"


def is_variant(value: Any) -> bool:
    return type(value) is str and value.startswith(VARIANT_MARK)


def query_pairs(req: Request | None, query_args: QueryArgs | None) -> list[tuple[str, str]]:
    """The query's ``(name, value)`` pairs: of ``query_args`` (a query string, a mapping, a
    ``MultiDict`` or pairs), else of the current request."""
    if query_args is None:
        if req is None:
            return []
        return list(req.args.items(multi=True))
    if isinstance(query_args, bytes):
        query_args = query_args.decode("latin-1")
    if isinstance(query_args, str):
        return parse_qsl(query_args.lstrip("?"), keep_blank_values=True)
    if isinstance(query_args, MultiDict):
        items: Iterable[tuple[str, Any]] = query_args.items(multi=True)
    elif isinstance(query_args, Mapping):
        items = query_args.items()
    else:
        items = query_args
    return [(str(name), str(value)) for name, value in items]


def query_digest(
    pairs: list[tuple[str, str]], hash_method: Callable[..., Any] | None, source: str | None
) -> str:
    """Flask-Caching's digest of a query: of ``str`` of the sorted pairs, then the view's
    source when ``source_check`` is on."""
    digest = (hash_method or hashlib.sha256)(str(tuple(sorted(pairs))).encode())
    if source is not None:
        digest.update(source.encode("utf-8"))
    return str(digest.hexdigest())


def source_hexdigest(source: str, hash_method: Callable[..., Any] | None) -> str:
    return str((hash_method or hashlib.sha256)(source.encode("utf-8")).hexdigest())


def query_text(query_args: QueryArgs | None) -> str:
    if query_args is None:
        return canonical_query(request.query_string)
    if isinstance(query_args, str | bytes):
        return canonical_query(query_args)
    pairs = query_args.items() if isinstance(query_args, Mapping) else query_args
    return canonical_query(urlencode([(str(k), str(v)) for k, v in pairs]))


def request_parts_key(
    view: CachedView,
    store: Store,
    path: str | None,
    query_args: QueryArgs | None,
    method: str | None,
    host: str | None,
    scheme: str | None,
    kwargs: dict[str, Any] | None = None,
) -> str:
    """The key with the request's parts (``CACHE_VIEW_KEY_REQUEST_PARTS``): ``key_prefix %
    path``, the method, the scheme and the host."""
    key_prefix = view.key_prefix
    if callable(key_prefix):
        key = key_prefix()
    elif view.per_request:
        # the request object itself, not the ``request`` proxy: each proxy access costs
        # about a microsecond, a large part of a hit
        ctx = current_request_context()
        req = ctx.request if ctx is not None else None
        if path is None:
            path = (
                req.path
                if req is not None
                # outside a request ``url_for`` makes an external URL by default
                else url_for(view.func.__name__, _external=False, **(kwargs or {}))
            )
        if method is not None:
            method = method.upper()
        elif req is not None:
            method = req.method  # Werkzeug upper-cases it
        else:
            method = "GET"
        if host is None:
            if req is not None:
                host = req.environ.get("HTTP_HOST") or req.host
            else:
                host = current_app.config.get("SERVER_NAME")
        if scheme is None:
            if req is not None:
                scheme = req.scheme
            else:
                scheme = current_app.config.get("PREFERRED_URL_SCHEME") or "http"
        if method == "HEAD":
            method = "GET"
        key = view_key(key_prefix % path, method, scheme, host or "")
    else:
        key = key_prefix
    settings = store.settings
    if view.query_string:
        hash_method = view.hash_method or settings.hash_method
        key += "?" + hexdigest(query_text(query_args), hash_method)
    if view.checks_source(store):
        key += "#" + view.source(view.hash_method or settings.hash_method)
    return key


def flask_caching_key(
    view: CachedView,
    store: Store,
    path: str | None,
    query_args: QueryArgs | None,
    url_kwargs: dict[str, Any],
) -> str:
    """The key as Flask-Caching 2.5 builds it (see :mod:`flask_viewcache.viewkeys`)."""
    ctx = current_request_context()
    req = ctx.request if ctx is not None else None
    key_prefix = view.key_prefix
    if callable(key_prefix):
        key = key_prefix()
    elif view.per_request:
        if path is None:
            path = (
                req.path
                if req is not None
                else url_for(view.func.__name__, _external=False, **url_kwargs)
            )
        key = key_prefix % path
    else:
        key = key_prefix
    settings = store.settings
    hash_method = view.hash_method or settings.hash_method
    source = None
    if view.checks_source(store):
        if view._source_text is None:
            view._source_text = inspect.getsource(view.func)
        source = view._source_text
    if view.query_string:
        return key + query_digest(query_pairs(req, query_args), hash_method, source)
    return key if source is None else key + source_hexdigest(source, hash_method)


def view_key(path_part: str, method: str, scheme: str, host: str) -> str:
    """The default key of a view: ``key_prefix % path``, the method, and the scheme and host
    the client asked for (an ``https`` page holds ``https`` links, never served over ``http``).

    >>> view_key("view//a", "GET", "https", "Example.com")
    'view//a|GET|https://example.com'
    """
    return f"{path_part}|{method}|{scheme}://{host.lower()}"


def key_reading_session(make: Callable[[], str]) -> tuple[str, bool]:
    """``(make(), whether it read the session)``; what the request read before stays marked."""
    sess = request_session()
    if sess is None:
        return make(), False
    before = bool(getattr(sess, "accessed", False))
    sess.accessed = False
    try:
        key = make()
    finally:
        read = bool(getattr(sess, "accessed", False))
        sess.accessed = before or read
    return key, read
