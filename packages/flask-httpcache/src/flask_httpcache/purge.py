"""Purging stored responses by URL or by surrogate key, hard or soft, for every process
sharing the backend (:meth:`flask_httpcache.HTTPCache.purge`, ``flask httpcache purge``)."""

from __future__ import annotations

from .store import Index, Store, well_formed_entry, well_formed_index
from .tag_versions import purge_tag, soft_purged
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
    return soft_invalidate(store, key) if soft else store.invalidate(key)


def soft_invalidate(store: Store, uri_key: str) -> bool:
    """Mark every stored response of a URL stale now, with
    :attr:`~flask_httpcache.Config.soft_purge_grace` seconds of ``stale-while-revalidate``:
    the next request is served stale while one refresh runs; a hard ``invalidate`` when the
    grace is 0. False when nothing was stored.

    A view that began before the purge and stores after it replaces the stale copy, as it
    would after a hard purge."""
    grace = store.config.soft_purge_grace
    if not grace:
        return store.invalidate(uri_key)
    store.counters.invalidations += 1
    now = store.config.clock()
    cache = store.cache
    index = cache.get(uri_key)
    if not well_formed_index(index) or index.vary is None:
        return False
    if not index.vary:
        if not well_formed_entry(index.entry):
            return False
        stale = soft_purged(index.entry, now, grace)
        marked = Index(index.generation, index.vary, stale, list(index.variants))
        return bool(cache.set(uri_key, marked, timeout=store.entry_timeout(stale, now)))
    found = False
    for variant in index.variants:
        key = store.variant_key(uri_key, index.generation, variant)
        entry = cache.get(key)
        if well_formed_entry(entry):
            stale = soft_purged(entry, now, grace)
            found = bool(cache.set(key, stale, timeout=store.entry_timeout(stale, now))) or found
    return found


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
