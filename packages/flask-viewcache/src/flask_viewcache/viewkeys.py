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
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl

from flask import Request
from werkzeug.datastructures import MultiDict

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
