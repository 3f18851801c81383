"""Keys of memoized calls, views and template fragments.

The argument mapping of a function (which parameter a value fills, its defaults) is worked
out once, when the function is decorated: Flask-Caching runs ``inspect.signature`` several
times on every call. Argument values are encoded by :func:`flask_cachecore.stable_repr`, so
keys never hold memory addresses and are equal in every process (an object known only by its
address is keyed by an identity of this process: :mod:`flask_viewcache.identity`).
"""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from flask_cachecore import fit_key, hash_tag, qualified_name, stable_repr
from flask_cachecore.compat import current_app_or_none
from flask_cachecore.keys import digest

from .identity import keyed_repr

#: types whose ``stable_repr`` is their ``repr``: the fast path of the hot loop
_PLAIN_TYPES: frozenset[type] = frozenset({str, int, float, bool, type(None)})

_EMPTY = inspect.Parameter.empty
_IGNORED = "<ignored>"

HashMethod = Callable[..., Any]


def fast_args_token(values: tuple[Any, ...] | list[Any]) -> str:
    """:func:`flask_cachecore.args_token` of positional ``values`` (no keywords), with the
    common scalar types encoded inline: the same text, without a call per value."""
    plain = _PLAIN_TYPES
    return "(" + ", ".join([repr(v) if type(v) in plain else stable_repr(v) for v in values]) + ")"


def call_token(values: tuple[Any, ...] | list[Any], named: Mapping[str, Any] | None = None) -> str:
    """The text of a memoized call's arguments: :func:`fast_args_token` (and
    :func:`flask_cachecore.args_token` with keywords), where an object known only by its
    address is keyed by its identity in this process (:mod:`flask_viewcache.identity`)."""
    plain = _PLAIN_TYPES
    text = ", ".join([repr(v) if type(v) in plain else keyed_repr(v) for v in values])
    if not named:
        return "(" + text + ")"
    keywords = ", ".join(f"{name}={keyed_repr(named[name])}" for name in sorted(named))
    return f"({text}; {keywords})"


def hexdigest(text: str, hash_method: HashMethod | None) -> str:
    """The digest of ``text``: BLAKE2b, or Flask-Caching's ``hash_method`` when one is set."""
    if hash_method is None:
        return digest(text)
    return str(hash_method(text.encode("utf-8", "surrogatepass")).hexdigest())


def instance_token(obj: object) -> str:
    """The stable identity of the ``self`` of a method: Flask-Caching's ``__caching_id__()``
    if the object has one, else its :func:`~flask_cachecore.stable_repr` (which honours
    ``__cache_key__``, dataclasses and address-free ``repr``)."""
    caching_id = getattr(obj, "__caching_id__", None)
    if caching_id is not None:
        return str(caching_id())
    return keyed_repr(obj)


class ArgumentBinder:
    """Maps one call's arguments to a canonical, stable text, for one function.

    ``f(1, b=2)``, ``f(a=1, b=2)`` and ``f(1)`` (with ``b=2`` the default) give the same text.
    """

    __slots__ = (
        "first_is_cls",
        "first_is_self",
        "ignored",
        "keyword_only",
        "names",
        "positional",
        "positional_defaults",
        "simple",
        "var_keyword",
        "var_positional",
    )

    def __init__(self, func: Callable[..., Any], args_to_ignore: Iterable[str] = ()) -> None:
        signature = inspect.signature(func)
        self.ignored = frozenset(args_to_ignore)
        self.positional: list[str] = []
        self.positional_defaults: list[Any] = []
        self.keyword_only: dict[str, Any] = {}
        self.var_positional = False
        self.var_keyword = False
        for parameter in signature.parameters.values():
            kind = parameter.kind
            if kind in (parameter.POSITIONAL_ONLY, parameter.POSITIONAL_OR_KEYWORD):
                self.positional.append(parameter.name)
                self.positional_defaults.append(parameter.default)
            elif kind is parameter.VAR_POSITIONAL:
                self.var_positional = True
            elif kind is parameter.KEYWORD_ONLY:
                self.keyword_only[parameter.name] = parameter.default
            else:
                self.var_keyword = True
        self.names = frozenset(self.positional) | frozenset(self.keyword_only)
        first = self.positional[0] if self.positional else None
        self.first_is_self = first == "self" and "self" not in self.ignored
        self.first_is_cls = first == "cls" and "cls" not in self.ignored
        #: a call that fills every positional parameter is already canonical
        self.simple = not self.ignored and not self.keyword_only

    def canonical(
        self, args: tuple[Any, ...], kwargs: Mapping[str, Any]
    ) -> tuple[list[Any], dict[str, Any]]:
        """Positional values for every positional parameter (defaults filled in, then any
        ``*args``), and the keyword-only and ``**kwargs`` values by name."""
        positional: list[Any] = []
        count = len(args)
        for index, name in enumerate(self.positional):
            if index < count:
                value = args[index]
            elif name in kwargs:
                value = kwargs[name]
            else:
                value = self.positional_defaults[index]
                if value is _EMPTY:
                    value = None  # a missing argument: the call itself will raise
            positional.append(_IGNORED if name in self.ignored else value)
        positional.extend(args[len(self.positional) :])
        named: dict[str, Any] = {}
        for name, default in self.keyword_only.items():
            value = kwargs.get(name, default)
            named[name] = _IGNORED if name in self.ignored else (None if value is _EMPTY else value)
        if self.var_keyword:
            for name, value in kwargs.items():
                if name not in self.names:
                    named[name] = _IGNORED if name in self.ignored else value
        return positional, named

    def token(
        self, args: tuple[Any, ...], kwargs: Mapping[str, Any], owner: str | None = None
    ) -> str:
        """The stable text of one call's arguments; ``self``/``cls`` are replaced by ``owner``
        (their identity, computed by the caller) or by :func:`owner_token`."""
        if not kwargs and self.simple and len(args) == len(self.positional):
            values: tuple[Any, ...] | list[Any] = args
            if self.first_is_self or self.first_is_cls:
                if owner is None:
                    owner = owner_token(args[0], self.first_is_cls)
                values = [owner, *args[1:]]
            return call_token(values)
        positional, named = self.canonical(args, kwargs)
        if positional and (self.first_is_self or self.first_is_cls):
            positional[0] = owner or owner_token(positional[0], self.first_is_cls)
        return call_token(positional, named)


def owner_token(owner: Any, is_class: bool) -> str:
    """The identity of the ``self`` or ``cls`` a method was called on."""
    if is_class and isinstance(owner, type):
        return stable_repr(owner)
    return instance_token(owner)


#: the ``hashlib`` constructors Flask-Caching lists for ``CACHE_HASH_METHOD`` /
#: ``hash_method=``; any constructor whose objects have ``hexdigest()`` works here
SUPPORTED_HASH_FUNCTIONS: list[HashMethod] = [
    hashlib.sha1,
    hashlib.sha224,
    hashlib.sha256,
    hashlib.sha384,
    hashlib.sha512,
    hashlib.md5,
]


def function_namespace(f: Callable[..., Any], args: Any = None) -> tuple[str, str | None]:
    """``(name, instance name)`` of a function, as Flask-Caching's helper of that name: the
    module-qualified name, and, for a method bound to an instance (or called with ``args``
    whose first is its ``self``), that name followed by the instance's stable identity.

    :raises ValueError: for a classmethod's function reached without its class.
    """
    target = getattr(f, "_viewcache_memoized", None)
    func = target.func if target is not None else getattr(f, "__func__", f)
    name = qualified_name(func)
    try:
        parameters = list(inspect.signature(func).parameters)
    except (TypeError, ValueError):
        parameters = []
    first = parameters[0] if parameters else None
    bound = getattr(f, "__self__", None)
    if first == "cls" and bound is None and not (args and isinstance(args[0], type)):
        raise ValueError("a classmethod's namespace needs the class as the first argument")
    if bound is not None and not isinstance(bound, type):
        return name, f"{name}.{instance_token(bound)}"
    if first == "self" and args:
        return name, f"{name}.{instance_token(args[0])}"
    return name, None


#: start of every memoized call's key
MEMO_PREFIX = "memo:"


def memo_version_key(key: str) -> str:
    """The version key of the function whose memoized call's key is ``key``."""
    return "ver:" + key[len(MEMO_PREFIX) : key.index("}", len(MEMO_PREFIX)) + 1]


def memo_prefix(name: str) -> str:
    """Start of every key of the memoized function ``name``; the hash tag puts the values and
    the versions of one function in one Redis Cluster slot, so a hit is one ``MGET``."""
    return f"memo:{hash_tag(name)}:"


def function_version_key(name: str) -> str:
    return f"ver:{hash_tag(name)}"


def instance_version_key(name: str, token: str) -> str:
    return f"ver:{hash_tag(name)}:{digest(token)}"


def tag_version_key(tag: str) -> str:
    return f"tag:{hash_tag(tag)}"


def source_digest(func: Callable[..., Any], hash_method: HashMethod | None) -> str:
    """A digest of ``func``'s source, for ``source_check`` (computed once per function)."""
    try:
        source = inspect.getsource(func)
    except (OSError, TypeError):
        source = getattr(getattr(func, "__code__", None), "co_code", b"").hex()
    return hexdigest(source, hash_method)


FRAGMENT_PREFIX = "_template_fragment_cache_"


#: ``CACHE_*`` key: fragment keys are always digests of their parts, so that no two fragments
#: share one (Flask-Caching joins the parts with ``_``: ``"a", ["b"]`` and ``"a_b"`` do)
FRAGMENT_KEY_DIGEST = "CACHE_FRAGMENT_KEY_DIGEST"


def make_template_fragment_key(fragment_name: str, vary_on: Iterable[Any] | None = None) -> str:
    """The key of a ``{% cache %}`` fragment.

    As in Flask-Caching, ``_template_fragment_cache_`` followed by the name and the vary
    values joined with ``_``, when they are all strings. Values of other types (numbers,
    ``None``, tuples: Flask-Caching refuses them) and, with ``CACHE_FRAGMENT_KEY_DIGEST``
    set in the current app's config, every key are encoded part by part with
    :func:`~flask_cachecore.stable_repr`, so different parts never give one key.

    >>> make_template_fragment_key("sidebar", ["en"])
    '_template_fragment_cache_sidebar_en'
    >>> make_template_fragment_key("a", [1]) != make_template_fragment_key("a", ["1"])
    True
    """
    values = list(vary_on or ())
    if all(type(value) is str for value in values) and not _digest_keys():
        name = f"{fragment_name}_" if values else str(fragment_name)
        return fit_key(FRAGMENT_PREFIX + name + "_".join(values))
    parts = [fragment_name, *values]
    return fit_key(f"{FRAGMENT_PREFIX}{fragment_name}:{digest(fast_args_token(parts))}")


def _digest_keys() -> bool:
    app = current_app_or_none()
    return bool(app is not None and app.config.get(FRAGMENT_KEY_DIGEST))
