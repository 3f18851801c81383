"""Small helpers shared by the decorators: timeouts, optional-argument callbacks, generators."""

from __future__ import annotations

import datetime as dt
import inspect
import logging
import math
from collections.abc import Callable, Iterable
from typing import Any

logger = logging.getLogger(__name__)

Timeout = int | float | dt.timedelta | None


def timeout_seconds(timeout: Timeout) -> int | None:
    """Whole seconds of a decorator timeout: ``None`` (the backend's default), ``0`` (never
    expires), an int, or a ``timedelta`` rounded up, as Flask-Caching rounds it."""
    if timeout is None:
        return None
    if isinstance(timeout, dt.timedelta):
        return math.ceil(timeout.total_seconds())
    return math.ceil(timeout)


def accepts_arguments(callback: Callable[..., Any], beyond: int = 0) -> bool:
    """Whether ``callback`` takes more than ``beyond`` arguments (Flask-Caching passes the
    call's arguments to ``unless``/``forced_update``/``is_stale`` only if it does). Worked out
    once per decorator, not on every call."""
    try:
        parameters = inspect.signature(callback).parameters.values()
    except (TypeError, ValueError):
        return False
    count = 0
    for parameter in parameters:
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            return True
        count += 1
    return count > beyond


def join_generator(value: Iterable[Any]) -> Any:
    """What a generator yielded, as one ``str``/``bytes`` when it yielded only those, else a
    list: a generator cannot be stored, its output can."""
    chunks = list(value)
    if all(isinstance(chunk, str) for chunk in chunks):
        return "".join(chunks)
    if all(isinstance(chunk, bytes) for chunk in chunks):
        return b"".join(chunks)
    return chunks


class Callback:
    """``unless``, ``forced_update`` or ``is_stale``: called with or without the arguments of
    the call, whichever the callback accepts; only a literal ``True`` counts, as in
    Flask-Caching."""

    __slots__ = ("func", "leading", "with_args")

    def __init__(self, func: Callable[..., Any], leading: int = 0) -> None:
        self.func = func
        self.leading = leading
        self.with_args = accepts_arguments(func, beyond=leading)

    def __call__(
        self, lead: tuple[Any, ...], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> bool:
        if self.with_args:
            return self.func(*lead, *args, **kwargs) is True
        return self.func(*lead[: self.leading]) is True


def optional_callback(func: Callable[..., Any] | None, leading: int = 0) -> Callback | None:
    return Callback(func, leading) if callable(func) else None
