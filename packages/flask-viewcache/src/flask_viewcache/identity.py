"""Keys for objects known only by their memory address, safe within one process.

Flask-Caching keys such an object (a plain class without ``__repr__``, the ``self`` of most
memoized methods) by ``repr()``, which holds its address: the same object hits, but once it is
freed, a new object at the same address gets the old one's results (another user's, when the
objects are users), and on a shared backend another process's object at that address does too.

Here such an object gets a random identity of this process, kept in a weak mapping for as long
as the object lives: it hits for the same object, as in Flask-Caching, and never for another
(in this process or any other). Objects that cannot be weakly referenced stay unkeyable.
"""

from __future__ import annotations

import secrets
import threading
import weakref
from typing import Any

from flask_cachecore import UnkeyableError, qualified_name, stable_repr

_identities: dict[int, tuple[weakref.ref[Any], str]] = {}
_lock = threading.Lock()


def _forget(address: int, ref: weakref.ref[Any]) -> None:
    # called by the garbage collector, possibly while this thread holds ``_lock``: no lock
    entry = _identities.get(address)
    if entry is not None and entry[0] is ref:
        _identities.pop(address, None)


def process_identity(obj: object) -> str:
    """A random token of ``obj`` for as long as it lives (the same on every call).

    :raises UnkeyableError: if ``obj`` cannot be weakly referenced.
    """
    address = id(obj)
    entry = _identities.get(address)
    if entry is not None and entry[0]() is obj:
        return entry[1]
    with _lock:
        entry = _identities.get(address)
        if entry is not None and entry[0]() is obj:
            return entry[1]
        try:
            ref = weakref.ref(obj, lambda dead: _forget(address, dead))
        except TypeError:
            raise UnkeyableError(
                f"cannot build a cache key from {type(obj).__name__} objects: their repr"
                " holds a memory address and they cannot be weakly referenced; give"
                f" {qualified_name(type(obj))} a __cache_key__(self) method"
            ) from None
        token = f"{qualified_name(type(obj))}@{secrets.token_hex(8)}"
        _identities[address] = (ref, token)
        return token


def keyed_repr(value: object) -> str:
    """:func:`~flask_cachecore.stable_repr` of ``value``, where an object known only by its
    address (also inside a tuple, list or dict) is encoded by :func:`process_identity`."""
    try:
        return stable_repr(value)
    except UnkeyableError:
        kind = type(value)
        if kind is tuple or kind is list:
            inner = ", ".join(keyed_repr(item) for item in value)  # type: ignore[attr-defined]
            return f"({inner})" if kind is tuple else f"[{inner}]"
        if kind is dict:
            items = sorted(f"{keyed_repr(k)}: {keyed_repr(v)}" for k, v in value.items())  # type: ignore[attr-defined]
            return "{" + ", ".join(items) + "}"
        return f"<{process_identity(value)}>"
