"""Purging stored responses by URL or by surrogate key, hard or soft, for every process
sharing the backend (:meth:`flask_httpcache.HTTPCache.purge`, ``flask httpcache purge``)."""

from __future__ import annotations

from .store import Store
from .tag_versions import purge_tag
from .tags import valid_tag


def purge_url(store: Store, url: str, script_root: str = "", soft: bool = False) -> bool:
    """Forget every stored response of the absolute ``url`` (all its variants); ``soft``:
    mark them stale instead, so the next request is served stale while one refresh runs.
    False when nothing was stored.

    :raises ValueError: when ``url`` is not an absolute http(s) URL.
    """
    key = store.url_key(url, script_root)
    if key is None:
        raise ValueError(
            f"purge: give an absolute URL, such as https://example.com/page, not {url!r}"
        )
    return store.soft_invalidate(key) if soft else store.invalidate(key)


def purge_by_tag(store: Store, tag: str, soft: bool = False) -> bool:
    """Invalidate every stored response tagged ``tag`` (exactly that key); ``soft``: mark
    them stale instead (see :mod:`flask_httpcache.tag_versions`). False when the backend did
    not take the purge (it is down: a response stored before may then still be served).

    :raises ValueError: when ``tag`` is not a surrogate key.
    """
    if not isinstance(tag, str) or not valid_tag(tag):
        raise ValueError(f"purge: {tag!r} is not a surrogate key")
    config = store.config
    soft = soft and config.soft_purge_grace > 0
    store.counters.invalidations += 1
    return purge_tag(store.cache, config.master_salt, tag, config.clock(), soft=soft)
