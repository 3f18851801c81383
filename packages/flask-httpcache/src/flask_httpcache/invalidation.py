"""Invalidation after an unsafe method (RFC 9111 §4.4)."""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

from flask import request
from flask.wrappers import Response

from .store import Store


def invalidate_after_unsafe(store: Store, response: Response, uri_key: str | None) -> None:
    """A 2xx/3xx to an unsafe method invalidates the target URI and the same-origin
    Location and Content-Location (RFC 9111 §4.4)."""
    if not 200 <= response.status_code < 400 or uri_key is None:
        return
    store.invalidate(uri_key)
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
        key = store.url_key(url, request.script_root)
        if key is not None:
            store.invalidate(key)
