"""``Cache.memoize``: caching a function's result by its arguments.

A hit is one backend read: the value's envelope and the versions it depends on (the
function's, the instance's for a method, one per tag) come back from one ``get_many``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from flask_cachecore import qualified_name

from .calls import join_generator
from .engine import Engine, Located, Rules
from .keys import (
    ArgumentBinder,
    function_version_key,
    hexdigest,
    instance_token,
    instance_version_key,
    memo_prefix,
)
from .signals import cache_memoize_hit, cache_memoize_miss

if TYPE_CHECKING:
    from .extension import Cache
    from .store import Store


class Memoized(Engine):
    """``memoize`` on the decorator engine: keys by arguments, versions per function (and per
    instance for a method) and per tag."""

    hit_signal = cache_memoize_hit
    miss_signal = cache_memoize_miss

    def __init__(
        self,
        cache: Cache,
        func: Callable[..., Any],
        rules: Rules,
        *,
        make_name: Callable[[str], str] | None,
        args_to_ignore: Iterable[str] | None,
    ) -> None:
        super().__init__(cache, func, rules)
        self.binder = ArgumentBinder(func, args_to_ignore or ())
        self.make_name = make_name
        self.prefix = memo_prefix(self.name)
        self.function_version_key = function_version_key(self.name)
        self.static_version_keys = (self.function_version_key, *self.tag_keys)
        self.by_instance = self.binder.first_is_self
        self.signal_extra = {"f": func}

    # -- keys ----------------------------------------------------------------------------------

    def keys(
        self, store: Store, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> tuple[str, tuple[str, ...]]:
        """The value key of one call and the version keys its value depends on."""
        owner = None
        version_keys = self.static_version_keys
        if self.by_instance and args:
            owner = instance_token(args[0])
            version_keys = (
                self.function_version_key,
                instance_version_key(self.name, owner),
                *self.tag_keys,
            )
        text = (self.make_name(self.name) if self.make_name else self.name) + self.binder.token(
            args, kwargs, owner
        )
        hash_method = self.hash_method or store.settings.hash_method
        if self.checks_source(store):
            text += self.source(hash_method)
        return self.prefix + hexdigest(text, hash_method), version_keys

    def locate(self, store: Store, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Located:
        key, version_keys = self.keys(store, args, kwargs)
        return key, version_keys, (), False

    def make_cache_key(self, _func: Any = None, *args: Any, **kwargs: Any) -> str:
        """The value key of a call, as Flask-Caching's ``f.make_cache_key(f.uncached, *args)``."""
        return self.keys(self.cache.store(), args, kwargs)[0]

    def delete(self, bound_to: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        """``delete_memoized``: one call's value, or (no arguments) every value, of the
        function or, for a method reached through an instance, of that instance."""
        store = self.cache.store()
        is_instance = bound_to is not None and not isinstance(bound_to, type)
        if not args and not kwargs:
            if is_instance and self.by_instance:
                store.bump([instance_version_key(self.name, instance_token(bound_to))])
            else:
                store.bump([self.function_version_key])
            return
        store.backend.delete(self.keys(store, self.owner_args(bound_to, args), kwargs)[0])

    def owner_args(self, bound_to: Any, args: tuple[Any, ...]) -> tuple[Any, ...]:
        """The arguments of a ``delete_memoized`` call, with the ``self`` of a method reached
        through its instance put first (also when ``args_to_ignore`` names it), as in
        Flask-Caching 2.5.

        :raises ValueError: for a classmethod whose class is not the first argument, or a
            method reached through its class without an instance, as in Flask-Caching.
        """
        first = self.binder.positional[0] if self.binder.positional else None
        if first == "cls" and not (args and isinstance(args[0], type)):
            raise ValueError(
                f"delete_memoized of the classmethod {self.name} with arguments needs the class"
                " as the first argument: cache.delete_memoized(Cls.method, Cls, ...)"
            )
        if first != "self":
            return args
        if bound_to is not None and not isinstance(bound_to, type):
            return args if args and args[0] is bound_to else (bound_to, *args)
        if not args and "self" not in self.binder.ignored:
            raise ValueError(
                f"delete_memoized of the method {self.name} reached through its class needs"
                " the instance as the first argument: cache.delete_memoized(Cls.method, obj, ...)"
            )
        return args

    def drop_version(self, bound_to: Any) -> None:
        """``delete_memoized_verhash``: delete the version (of the instance, for a method
        reached through one); every value made under it becomes a miss, and the next call
        makes a new version."""
        store = self.cache.store()
        if bound_to is not None and not isinstance(bound_to, type) and self.by_instance:
            store.drop([instance_version_key(self.name, instance_token(bound_to))])
        else:
            store.drop([self.function_version_key])

    # -- the engine's hooks ----------------------------------------------------------------------

    def run(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        value = self.func(*args, **kwargs)
        return join_generator(value) if inspect.isgenerator(value) else value

    def decorate(self, wrapper: Any) -> None:
        wrapper.make_cache_key = self.make_cache_key
        wrapper.delete_memoized = lambda: self.cache.delete_memoized(wrapper)
        wrapper._viewcache_memoized = self


def is_memoized(func: Any) -> bool:
    """Whether ``func`` is decorated with ``memoize`` (or a method bound from one)."""
    return isinstance(getattr(func, "_viewcache_memoized", None), Memoized)


def memoized_of(func: Any) -> Memoized:
    """The :class:`Memoized` behind a decorated function or a method bound from one."""
    if not callable(func):
        raise TypeError(
            f"delete_memoized takes the memoized function itself, not its name: got {func!r}"
        )
    memoized = getattr(func, "_viewcache_memoized", None)
    if not isinstance(memoized, Memoized):
        raise ValueError(f"{qualified_name(func)} is not decorated with Cache.memoize")
    return memoized
