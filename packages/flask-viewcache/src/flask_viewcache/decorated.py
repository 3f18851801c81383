"""The types of decorated functions, so that a user's code type-checks under ``mypy --strict``.

``cache.cached()`` and ``cache.memoize()`` keep the decorated function's parameters and return
type (a ``ParamSpec``) and add Flask-Caching's attributes::

    @cache.memoize(timeout=60)
    def total(user_id: int) -> float: ...

    total(1)                                   # float
    total.uncached(1)                          # float, never cached
    total.make_cache_key(total.uncached, 1)    # str
    total.cache_timeout = 120                  # int | float | timedelta | None
    total.delete_memoized()

A method decorated in a class binds like a function: ``obj.method(1)`` is checked without
``self``; its ``uncached`` stays the plain function (it takes ``self``), as in Flask-Caching.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Concatenate, ParamSpec, Protocol, Self, TypeVar, overload

from .calls import Timeout

P = ParamSpec("P")
Bound = ParamSpec("Bound")
R = TypeVar("R", covariant=True)
Instance = TypeVar("Instance")


class BoundCachedFunction(Protocol[P, R]):
    """A ``cached`` method reached through an instance."""

    cache_timeout: Timeout

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R: ...

    @property
    def uncached(self) -> Callable[..., R]: ...

    def make_cache_key(self, *args: Any, **kwargs: Any) -> str: ...


class CachedFunction(Protocol[P, R]):
    """What ``cache.cached()`` returns: the function, with ``uncached``, ``cache_timeout``
    (writable: the next store uses it) and ``make_cache_key``."""

    cache_timeout: Timeout

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R: ...

    @property
    def uncached(self) -> Callable[P, R]: ...

    def make_cache_key(self, *args: Any, **kwargs: Any) -> str: ...

    @overload
    def __get__(self, instance: None, owner: type[Any] | None = None) -> Self: ...

    @overload
    def __get__(
        self: CachedFunction[Concatenate[Instance, Bound], R],
        instance: Instance,
        owner: type[Any] | None = None,
    ) -> BoundCachedFunction[Bound, R]: ...


class BoundMemoizedFunction(BoundCachedFunction[P, R], Protocol[P, R]):
    """A memoized method reached through an instance."""

    def delete_memoized(self) -> None: ...


class MemoizedFunction(Protocol[P, R]):
    """What ``cache.memoize()`` returns: as :class:`CachedFunction`, and ``delete_memoized()``
    (every value of the function)."""

    cache_timeout: Timeout

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R: ...

    @property
    def uncached(self) -> Callable[P, R]: ...

    def make_cache_key(self, *args: Any, **kwargs: Any) -> str: ...

    def delete_memoized(self) -> None: ...

    @overload
    def __get__(self, instance: None, owner: type[Any] | None = None) -> Self: ...

    @overload
    def __get__(
        self: MemoizedFunction[Concatenate[Instance, Bound], R],
        instance: Instance,
        owner: type[Any] | None = None,
    ) -> BoundMemoizedFunction[Bound, R]: ...
