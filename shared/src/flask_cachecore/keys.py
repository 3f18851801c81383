"""Stable cache keys.

Keys built here are the same in every process, on every host and under every
``PYTHONHASHSEED``: they never use ``hash()``, set iteration order or memory addresses.

Werkzeug has no notion of a cache key, and Flask-Caching builds memoize keys from ``repr()``
of the arguments, which holds memory addresses; this module fills that gap.
"""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import fractions
import hashlib
import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol, runtime_checkable
from urllib.parse import parse_qsl, quote

from .errors import UnkeyableError

#: memcached refuses keys longer than this many bytes.
MEMCACHED_KEY_LIMIT = 250

# Types whose ``repr`` is deterministic and unambiguous (quotes and escapes for str/bytes).
_REPR_TYPES: frozenset[type] = frozenset(
    {
        str,
        int,
        float,
        bool,
        type(None),
        bytes,
        complex,
        decimal.Decimal,
        fractions.Fraction,
        uuid.UUID,
        datetime.date,
        datetime.datetime,
        datetime.time,
        datetime.timedelta,
        datetime.timezone,
    }
)
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


@runtime_checkable
class CacheKeyable(Protocol):
    """An object that gives its own identity for cache keys."""

    def __cache_key__(self) -> object: ...


def qualified_name(obj: Callable[..., Any] | type) -> str:
    """``module.QualName`` of a function or class, the stable name used in keys."""
    module = getattr(obj, "__module__", None) or "?"
    name = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None) or repr(obj)
    return f"{module}.{name}"


def stable_repr(value: object) -> str:
    """A text that identifies ``value`` by content, equal in every process.

    Scalars (str, int, float, bytes, dates, UUIDs, decimals) use their ``repr``; containers are
    encoded recursively with mappings and sets sorted by the encoding of their members; enums by
    name; dataclasses by their fields; an object with ``__cache_key__`` by what it returns; any
    other object by its type and ``repr``, provided that ``repr`` holds no memory address.

    >>> stable_repr({"b": 1, "a": (2, None)})
    "{'a': (2, None), 'b': 1}"

    :raises UnkeyableError: for an object known only by its memory address.
    """
    kind = type(value)
    if kind in _REPR_TYPES:
        return repr(value)
    if kind is tuple or kind is list:
        inner = ", ".join(stable_repr(item) for item in value)  # type: ignore[attr-defined]
        if kind is tuple:
            return f"({inner},)" if len(value) == 1 else f"({inner})"  # type: ignore[arg-type]
        return f"[{inner}]"
    if isinstance(value, Mapping):
        items = sorted(f"{stable_repr(k)}: {stable_repr(v)}" for k, v in value.items())
        prefix = "" if kind is dict else qualified_name(kind)
        return prefix + "{" + ", ".join(items) + "}"
    if isinstance(value, set | frozenset):
        return f"{kind.__name__}{{{', '.join(sorted(stable_repr(item) for item in value))}}}"
    if isinstance(value, CacheKeyable):
        return f"{qualified_name(kind)}<{stable_repr(value.__cache_key__())}>"
    if isinstance(value, enum.Enum):
        return f"{qualified_name(kind)}.{value.name}"
    if isinstance(value, type) or (callable(value) and hasattr(value, "__qualname__")):
        return qualified_name(value)
    if dataclasses.is_dataclass(value):
        fields = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
        return f"{qualified_name(kind)}{stable_repr(fields)}"
    if isinstance(value, str | int | float | bytes | tuple | list):
        # subclasses of the builtins: keep the subclass name so they don't collide
        base: Any = next(b for b in (str, int, float, bytes, tuple, list) if isinstance(value, b))
        return f"{qualified_name(kind)}:{stable_repr(base(value))}"
    text = repr(value)
    if _ADDRESS.search(text):
        raise UnkeyableError(
            f"cannot build a stable cache key from {text}: its repr holds a memory address;"
            f" give {qualified_name(kind)} a __cache_key__(self) method that returns a stable"
            " identity (an id, a tuple of fields)"
        )
    return f"{qualified_name(kind)}:{text}"


def args_token(args: Iterable[object], kwargs: Mapping[str, object] | None = None) -> str:
    """The stable text of a call's arguments; keyword arguments are sorted by name."""
    positional = ", ".join(stable_repr(a) for a in args)
    if not kwargs:
        return f"({positional})"
    named = ", ".join(f"{name}={stable_repr(kwargs[name])}" for name in sorted(kwargs))
    return f"({positional}; {named})"


def digest(text: str | bytes, size: int = 16) -> str:
    """A short hex digest (BLAKE2b), for keys that must be bounded in length."""
    data = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    return hashlib.blake2b(data, digest_size=size).hexdigest()


def function_key(
    func: Callable[..., Any], args: Iterable[object], kwargs: Mapping[str, object]
) -> str:
    """A key for one call of ``func``: its qualified name and a digest of its arguments.

    >>> function_key(function_key, (1, "a"), {}) == function_key(function_key, (1, "a"), {})
    True
    """
    return f"{qualified_name(func)}:{digest(args_token(args, kwargs))}"


_UNSAFE_KEY_CHARS = re.compile(r"[^!-~]")


def fit_key(key: str, limit: int = MEMCACHED_KEY_LIMIT) -> str:
    """``key`` itself if it is printable ASCII of at most ``limit`` bytes, else a bounded form.

    The bounded form keeps a readable head (unsafe characters replaced by ``_``) and ends with
    a SHA-256 of the whole key, so two long keys stay apart.
    """
    if len(key) <= limit and not _UNSAFE_KEY_CHARS.search(key):
        return key
    tail = "#" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
    head = _UNSAFE_KEY_CHARS.sub("_", key)[: max(0, limit - len(tail))]
    return head + tail


def canonical_query(query: str | bytes) -> str:
    """The query string in one canonical form: pairs sorted by name, values of one name kept in
    order (the order a view sees in ``getlist``), every part percent-encoded the same way.

    >>> canonical_query("b=2&a=1&b=1&c")
    'a=1&b=2&b=1&c='
    """
    if isinstance(query, bytes):
        query = query.decode("latin-1")
    pairs = parse_qsl(query, keep_blank_values=True, errors="surrogateescape")
    pairs.sort(key=lambda pair: pair[0])  # stable: values of one name keep their order
    return "&".join(f"{_quote(k)}={_quote(v)}" for k, v in pairs)


def _quote(text: str) -> str:
    return quote(text, safe="", errors="surrogateescape")


_DEFAULT_PORTS = {"http": "80", "https": "443"}


def canonical_host(scheme: str, host: str) -> str:
    """The host in lower case, without the scheme's default port (``A.com:80`` → ``a.com``)."""
    host = host.strip().lower()
    default = _DEFAULT_PORTS.get(scheme)
    if default and host.endswith(":" + default):
        return host[: -len(default) - 1]
    return host


def request_key(method: str, scheme: str, host: str, path: str, query: str | bytes = "") -> str:
    """A key for a request target: method, scheme, host, path and the canonical query.

    >>> request_key("get", "HTTP", "Example.com:80", "/a", "y=2&x=1")
    'GET http://example.com/a?x=1&y=2'
    """
    scheme = scheme.lower()
    canonical = canonical_query(query)
    target = f"{scheme}://{canonical_host(scheme, host)}{path}"
    return f"{method.upper()} {target}?{canonical}" if canonical else f"{method.upper()} {target}"


def hash_tag(part: str) -> str:
    """``{part}``: Redis Cluster puts all keys holding the same tag in one slot."""
    return "{" + part.replace("{", "(").replace("}", ")") + "}"


class KeyNamespace:
    """The key prefix of one extension, so several extensions share one server safely.

    >>> KeyNamespace("httpcache").key("GET http://a/")
    'httpcache:GET http://a/'
    """

    __slots__ = ("limit", "prefix")

    def __init__(self, name: str, limit: int = MEMCACHED_KEY_LIMIT) -> None:
        if not name or ":" in name:
            raise ValueError(f"a key namespace is a non-empty name without ':', not {name!r}")
        self.prefix = f"{name}:"
        self.limit = limit

    def key(self, *parts: str) -> str:
        """The namespaced key of ``parts`` joined by ``:``, fitted to the length limit."""
        return fit_key(self.prefix + ":".join(parts), self.limit)
