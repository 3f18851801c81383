"""Serializers for cache values.

All three keep integers as plain ASCII digits, so a backend's native ``INCR``/``DECR`` (Redis,
memcached) works on values written through them, as cachelib's own Redis serializer does.
They also offer cachelib's file interface (``dump``/``load``) for ``FileSystemCache``.

A value that cannot be read back (garbage, truncation, a failed signature) is reported as
``None``, which every cachelib backend treats as a miss.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import logging
import pickle
from collections.abc import Iterable
from typing import IO, Any

from .errors import EntryTooLargeError

logger = logging.getLogger(__name__)

_PICKLED = b"!"
_SIGNED = b"~"
_DIGEST_SIZE = 32  # HMAC-SHA256


class Serializer:
    """Base: ``dumps``/``loads`` bytes, and cachelib's ``dump``/``load`` on a binary file."""

    name = "base"

    def dumps(self, value: Any, protocol: int = pickle.HIGHEST_PROTOCOL) -> bytes:
        raise NotImplementedError

    def loads(self, data: bytes | None) -> Any:
        raise NotImplementedError

    def dump(self, value: Any, f: IO[bytes], protocol: int = pickle.HIGHEST_PROTOCOL) -> None:
        f.write(self.dumps(value, protocol))

    def load(self, f: IO[bytes]) -> Any:
        return self.loads(f.read())

    @staticmethod
    def _int_or_none(data: bytes) -> int | None:
        try:
            return int(data)
        except ValueError:
            logger.warning(
                "a cached value could not be read back (%d bytes): treated as a miss", len(data)
            )
            return None


class PickleSerializer(Serializer):
    """pickle, the default, as Flask-Caching and cachelib store values.

    Only for a cache server that nothing else writes to: unpickling runs code, so whoever can
    write to the server can run code in the app. Use :class:`SignedPickleSerializer` otherwise.
    """

    name = "pickle"

    def dumps(self, value: Any, protocol: int = pickle.HIGHEST_PROTOCOL) -> bytes:
        if type(value) is int:
            return str(value).encode("ascii")
        return _PICKLED + pickle.dumps(value, protocol)

    def loads(self, data: bytes | None) -> Any:
        if data is None:
            return None
        if data[:1] == _PICKLED:
            try:
                return pickle.loads(data[1:])
            except Exception:  # garbage can raise nearly anything from inside pickle
                logger.warning("a cached value failed to unpickle: treated as a miss")
                return None
        return self._int_or_none(data)


class JSONSerializer(Serializer):
    """JSON: safe to read from a shared server, for values made of JSON types only
    (tuples come back as lists, no bytes)."""

    name = "json"

    def dumps(self, value: Any, protocol: int = pickle.HIGHEST_PROTOCOL) -> bytes:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")

    def loads(self, data: bytes | None) -> Any:
        if data is None:
            return None
        try:
            return json.loads(data)
        except ValueError:
            logger.warning("a cached value is not valid JSON: treated as a miss")
            return None


class SignedPickleSerializer(Serializer):
    """pickle with an HMAC-SHA256 tag made from the app's ``SECRET_KEY``.

    A value whose tag does not verify is logged and treated as a miss; it is never unpickled,
    so a writer without the secret cannot make the app run code. Old keys (Flask's
    ``SECRET_KEY_FALLBACKS``) verify too, so a key rotation does not empty the cache at once.
    Integers stay plain digits for ``INCR``; they are parsed by ``int()``, never unpickled.
    """

    name = "signed-pickle"

    def __init__(self, secret_key: str | bytes, fallback_keys: Iterable[str | bytes] = ()) -> None:
        if not secret_key:
            raise ValueError("SignedPickleSerializer needs a non-empty secret key (SECRET_KEY)")
        self._key = self._derive(secret_key)
        self._verify_keys = [self._key] + [self._derive(k) for k in fallback_keys if k]

    @staticmethod
    def _derive(secret: str | bytes) -> bytes:
        raw = secret.encode("utf-8") if isinstance(secret, str) else secret
        # a key of its own: a tag made here is never valid for anything else signed with SECRET_KEY
        return hmac.new(raw, b"flask-cachecore.signed-pickle", hashlib.sha256).digest()

    def dumps(self, value: Any, protocol: int = pickle.HIGHEST_PROTOCOL) -> bytes:
        if type(value) is int:
            return str(value).encode("ascii")
        payload = pickle.dumps(value, protocol)
        tag = hmac.new(self._key, payload, hashlib.sha256).digest()
        return _SIGNED + tag + payload

    def loads(self, data: bytes | None) -> Any:
        if data is None:
            return None
        if data[:1] != _SIGNED:
            if data[:1] == _PICKLED:
                logger.warning(
                    "an unsigned pickled value was found in a signed cache: treated as a miss"
                )
                return None
            return self._int_or_none(data)
        tag, payload = data[1 : 1 + _DIGEST_SIZE], data[1 + _DIGEST_SIZE :]
        for key in self._verify_keys:
            if hmac.compare_digest(tag, hmac.new(key, payload, hashlib.sha256).digest()):
                try:
                    return pickle.loads(payload)
                except Exception:
                    logger.warning("a signed cached value failed to unpickle: treated as a miss")
                    return None
        logger.warning(
            "a cached value failed signature verification: treated as a miss, not unpickled"
        )
        return None


def _valid_limit(max_bytes: int) -> int:
    if max_bytes < 1:
        raise ValueError(f"max_bytes must be at least 1, not {max_bytes}")
    return max_bytes


def _within_limit(data: bytes, max_bytes: int) -> bytes:
    """``data``, if it is at most ``max_bytes`` long; else
    :class:`~flask_cachecore.errors.EntryTooLargeError`: the one check of the per-entry limit,
    shared by both forms of :func:`limit_entry_size`."""
    if len(data) > max_bytes:
        raise EntryTooLargeError(len(data), max_bytes)
    return data


class SizeLimitedSerializer(Serializer):
    """Another serializer (ours or cachelib's) that refuses values whose serialized form is
    over ``max_bytes``, before any byte reaches the backend. :func:`limit_entry_size` is
    what backends use: it keeps the serializer's own type; this wrapper is its fallback for
    a serializer whose class cannot be extended.

    >>> limited = SizeLimitedSerializer(PickleSerializer(), max_bytes=64)
    >>> limited.loads(limited.dumps("small"))
    'small'
    >>> limited.dumps("x" * 100)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    flask_cachecore.errors.EntryTooLargeError: a value of 116 bytes is over the limit of 64 ...
    """

    def __init__(self, inner: Any, max_bytes: int) -> None:
        self.inner = inner
        self.max_bytes = _valid_limit(max_bytes)
        self.name = getattr(inner, "name", type(inner).__name__)

    def dumps(self, value: Any, protocol: int = pickle.HIGHEST_PROTOCOL) -> bytes:
        return _within_limit(self.inner.dumps(value), self.max_bytes)

    def loads(self, data: bytes | None) -> Any:
        return self.inner.loads(data)


#: the size-limited subclass made for each serializer class, made once
_SIZE_LIMITED: dict[type, type] = {}


def _size_limited_class(base: type) -> type:
    found = _SIZE_LIMITED.get(base)
    if found is not None:
        return found
    base_dumps: Any = base.dumps  # type: ignore[attr-defined]

    def dumps(self: Any, value: Any, *args: Any, **kwargs: Any) -> bytes:
        return _within_limit(base_dumps(self, value, *args, **kwargs), self.max_entry_bytes)

    made = type(
        base.__name__,
        (base,),
        {
            "dumps": dumps,
            "__module__": base.__module__,
            "__qualname__": base.__qualname__,
            "__doc__": f"{base.__qualname__}, refusing values over ``max_entry_bytes``.",
        },
    )
    _SIZE_LIMITED[base] = made
    return made


def limit_entry_size(serializer: Any, max_bytes: int) -> Any:
    """``serializer``, refusing values whose serialized form is over ``max_bytes`` with
    :class:`~flask_cachecore.errors.EntryTooLargeError` before any byte reaches the backend.

    This is the per-entry limit of every network and file backend: they all serialize
    through their ``serializer``; :class:`~flask_cachecore.FailSafeCache` turns the refusal
    into a failed write counted in ``too_large`` (never a breaker failure). The result is a
    copy of ``serializer`` whose class is a subclass of its own, so code that checks the type
    of a backend's serializer (Flask-Caching's suite does) sees the class it configured.

    >>> limited = limit_entry_size(JSONSerializer(), max_bytes=16)
    >>> isinstance(limited, JSONSerializer), limited.loads(limited.dumps([1, 2]))
    (True, [1, 2])
    >>> limited.dumps("x" * 100)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    flask_cachecore.errors.EntryTooLargeError: a value of ... bytes is over the limit of 16 ...
    """
    _valid_limit(max_bytes)
    try:
        limited = copy.copy(serializer)
        limited.__class__ = _size_limited_class(type(serializer))
        limited.max_entry_bytes = max_bytes
    except (TypeError, AttributeError):  # a module, a class with __slots__, a C type
        return SizeLimitedSerializer(serializer, max_bytes)
    return limited


_IMMUTABLE_SCALARS: frozenset[type] = frozenset({str, bytes, int, float, bool, complex, type(None)})


def is_immutable(value: Any) -> bool:
    """Whether ``value`` is made only of immutable builtins (tuples of strings, numbers...)."""
    kind = type(value)
    if kind in _IMMUTABLE_SCALARS:
        return True
    if kind is tuple or kind is frozenset:
        return all(is_immutable(item) for item in value)
    return False


def approximate_size(value: Any, depth: int = 0) -> int:
    """Roughly how many bytes ``value`` holds: the length of its strings and bytes, plus a
    small cost per item, walking containers and plain objects (dataclasses, ``__slots__``).

    For the byte budget of an in-process cache that keeps objects unpickled; it is meant to
    count what grows with client input (bodies, headers), not to match ``sys.getsizeof``.
    """
    kind = type(value)
    if kind is bytes or kind is str or kind is bytearray:
        return 40 + len(value)
    if depth > 8 or value is None or kind in _IMMUTABLE_SCALARS:
        return 16
    depth += 1
    if kind is tuple or kind is list or kind is frozenset or kind is set:
        return 56 + 8 * len(value) + sum(approximate_size(item, depth) for item in value)
    if kind is dict:
        return 64 + sum(
            approximate_size(k, depth) + approximate_size(v, depth) + 16 for k, v in value.items()
        )
    fields = getattr(value, "__dict__", None)
    if fields is None:
        slots = getattr(kind, "__slots__", ())
        fields = {name: getattr(value, name, None) for name in slots}
    return 48 + sum(approximate_size(v, depth) for v in fields.values())


class _Kept:
    """A value that :class:`InProcessSerializer` keeps as the object it is, with its size."""

    __slots__ = ("size", "value")

    def __init__(self, value: Any) -> None:
        self.value = value
        self.size = approximate_size(value)


def stored_size(data: Any) -> int:
    """The bytes an in-process cache counts for what a serializer's ``dumps`` returned."""
    if type(data) is _Kept:
        return int(data.size)
    return len(data)


class InProcessSerializer(PickleSerializer):
    """For :class:`~flask_cachecore.memory.MemoryCache` only: keeps values as objects where
    that is safe, so a hit costs no unpickling.

    ``MemoryCache`` stores values serialized so that a caller who mutates what it got cannot
    change what the next caller gets. A value made only of immutable builtins cannot be
    mutated, so it is kept as it is; so is an instance of one of the ``trusted`` types, whose
    owner promises never to change an object it read from the cache. Anything else is pickled
    as usual. The entries never leave the process, so no other reader sees these objects.
    """

    name = "in-process"

    def __init__(self, trusted: tuple[type, ...] = ()) -> None:
        self.trusted = trusted

    def dumps(self, value: Any, protocol: int = pickle.HIGHEST_PROTOCOL) -> bytes:
        if type(value) is not int and (isinstance(value, self.trusted) or is_immutable(value)):
            return _Kept(value)  # type: ignore[return-value]  # MemoryCache stores any object
        return super().dumps(value, protocol)

    def loads(self, data: bytes | None) -> Any:
        kept: Any = data
        if type(kept) is _Kept:
            return kept.value
        return super().loads(data)


def serializer_by_name(
    name: str, secret_key: str | bytes | None = None, fallback_keys: Iterable[str | bytes] = ()
) -> Serializer:
    """The serializer called ``name`` (``pickle``, ``json``, ``signed-pickle``)."""
    if name == "pickle":
        return PickleSerializer()
    if name == "json":
        return JSONSerializer()
    if name in ("signed-pickle", "signed_pickle", "signed"):
        if not secret_key:
            raise ValueError("the signed-pickle serializer needs the app's SECRET_KEY to be set")
        return SignedPickleSerializer(secret_key, fallback_keys)
    raise ValueError(f"unknown serializer {name!r}; use 'pickle', 'json' or 'signed-pickle'")
