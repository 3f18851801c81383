"""Decorators that set caching headers on the responses of views (the origin side)."""

from __future__ import annotations

import datetime as dt
import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar

from flask import make_response
from flask.wrappers import Response
from werkzeug.datastructures import ResponseCacheControl

F = TypeVar("F", bound=Callable[..., Any])
#: attribute of a view function: True to collapse its cold misses, False never to (read by
#: :mod:`flask_httpcache.collapse`)
COLLAPSE_ATTRIBUTE = "httpcache_collapse"

#: what ``cache_control`` accepts: every directive Werkzeug's ResponseCacheControl knows
KNOWN_DIRECTIVES = frozenset(
    name
    for name in dir(ResponseCacheControl)
    if not name.startswith("_") and isinstance(getattr(ResponseCacheControl, name), property)
)


def _after_view(change: Callable[[Response], None]) -> Callable[[F], F]:
    """A decorator that makes the view's result a response and applies ``change`` to it; an
    ``async def`` view stays a coroutine function, so Flask still awaits it."""

    def decorator(view: F) -> F:
        if inspect.iscoroutinefunction(view):

            @functools.wraps(view)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Response:
                response = make_response(await view(*args, **kwargs))
                change(response)
                return response

            return async_wrapper  # type: ignore[return-value]

        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Response:
            response = make_response(view(*args, **kwargs))
            change(response)
            return response

        return wrapper  # type: ignore[return-value]

    return decorator


def cache_for(*, collapse: bool | None = None, **timedelta_kwargs: float) -> Callable[[F], F]:
    """Fresh for a while: ``max-age`` and ``Expires`` (RFC 9111 §5.2.2.1, §5.3).
    ``collapse=True``: concurrent cold misses of the view run it once (see
    :mod:`flask_httpcache.collapse`); False: never, whatever the config says.

    >>> @cache_for(hours=1)  # doctest: +SKIP
    ... def report(): ...

    .. versionchanged:: 0.2.0
        ``collapse``.
    """
    lifetime = dt.timedelta(**timedelta_kwargs)
    seconds = int(lifetime.total_seconds())
    if seconds < 0:
        raise ValueError(f"cache_for needs a positive duration, not {lifetime}")

    def change(response: Response) -> None:
        response.cache_control.max_age = seconds
        response.expires = dt.datetime.now(dt.UTC) + lifetime

    decorate = _after_view(change)
    if collapse is None:
        return decorate

    def decorate_and_mark(view: F) -> F:
        wrapper = decorate(view)
        setattr(wrapper, COLLAPSE_ATTRIBUTE, collapse)
        return wrapper

    return decorate_and_mark


def cache_control(**directives: Any) -> Callable[[F], F]:
    """Set Cache-Control directives by Werkzeug's names (``s_maxage=60, public=True``).

    :raises TypeError: for a name that ResponseCacheControl does not know.
    """
    unknown = sorted(set(directives) - KNOWN_DIRECTIVES)
    if unknown:
        raise TypeError(
            f"cache_control() got unknown directives {', '.join(unknown)};"
            f" known: {', '.join(sorted(KNOWN_DIRECTIVES))}"
        )

    def change(response: Response) -> None:
        for name, value in directives.items():
            setattr(response.cache_control, name, value)

    return _after_view(change)


def dont_cache() -> Callable[[F], F]:
    """``Cache-Control: no-store``: no cache keeps this response (RFC 9111 §5.2.2.5)."""

    def change(response: Response) -> None:
        response.cache_control.no_store = True

    return _after_view(change)


def vary(*header_names: str) -> Callable[[F], F]:
    """Add request fields to ``Vary``: the response depends on them (RFC 9110 §12.5.5)."""

    def change(response: Response) -> None:
        for name in header_names:
            response.vary.add(name)

    return _after_view(change)
