"""The one place where the packages touch private names of Flask, Werkzeug and cachelib.

Each function here wraps one private name and falls back on public API when a release no
longer has it, so a new Flask, Werkzeug or cachelib can make a fast path slower, never an
import fail. Nothing else in the repository reads a private name of those projects.

========================  =================================  ===================================
function                  private name used                  fallback (public API)
========================  =================================  ===================================
current_request_context   ``flask.globals._cv_request``      Flask 3.2: ``_cv_app`` with a
                          (Flask < 3.2)                      request; then ``has_request_context``
current_app_or_none       ``flask.globals._cv_app``          ``has_app_context``/``current_app``
opened_session            ``ctx._session`` (Flask >= 3.1)    the plain ``ctx.session`` attribute
has_handled_a_request     ``Flask._got_first_request``       ``False`` (the caller's safe side)
requests_keep_setup_open  ``Flask._got_first_request``       nothing to restore (no such flag)
header_fields             ``Headers._list``                  a copy: ``list(headers.items())``
headers_from_fields       ``Headers._list``                  ``Headers(fields)``
redis_write_client        ``BaseRedisCache._write_client``   ``None``: callers use cachelib's API
redis_read_client         ``BaseRedisCache._read_client``    ``redis_write_client``
set_redis_read_client     ``BaseRedisCache._read_client``    reads stay on the write client
redis_key_prefix          ``BaseRedisCache._get_prefix``     the public ``key_prefix`` attribute
wall_time                 ``cachelib.simple.time``           ``time.time``
========================  =================================  ===================================

It also holds the one public name whose spelling moves between supported releases:
:func:`parse_etags` (Werkzeug 3.2 deprecates ``werkzeug.http.parse_etags`` for
``ETags.from_header``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

import flask
from werkzeug.datastructures import ETags, Headers

if TYPE_CHECKING:
    from flask.sessions import SessionMixin

__all__ = [
    "current_app_or_none",
    "current_request_context",
    "has_handled_a_request",
    "header_fields",
    "headers_from_fields",
    "opened_session",
    "parse_etags",
    "redis_key_prefix",
    "redis_read_client",
    "redis_write_client",
    "set_redis_read_client",
    "wall_time",
]


# -- Flask: the current contexts ---------------------------------------------------------------


def _context_var(name: str) -> ContextVar[Any] | None:
    found = getattr(flask.globals, name, None)
    return found if isinstance(found, ContextVar) else None


_cv_request = _context_var("_cv_request")
_cv_app = _context_var("_cv_app")


def _request_context_public() -> Any | None:
    """An object with ``app``, ``request`` and ``session`` built from Flask's public proxies."""
    if not flask.has_request_context():
        return None
    return _PublicRequestContext(
        flask.current_app._get_current_object(),  # type: ignore[attr-defined]
        flask.request._get_current_object(),  # type: ignore[attr-defined]
    )


class _PublicRequestContext:
    """What the fallback of :func:`current_request_context` returns: no private state, so
    :func:`opened_session` cannot look at the session without opening it (it answers None)."""

    __slots__ = ("app", "request")

    def __init__(self, app: flask.Flask, request: flask.Request) -> None:
        self.app = app
        self.request = request


def _request_context_merged() -> Any | None:
    # Flask 3.2 merged the request context into the app context
    ctx = _cv_app.get(None) if _cv_app is not None else None
    if ctx is None or not getattr(ctx, "has_request", False):
        return None
    return ctx


#: ``current_request_context()``: the context of the current request (Flask's
#: ``RequestContext``, or since Flask 3.2 the ``AppContext`` that carries the request), or
#: ``None`` outside a request. The object has ``app`` and ``request``. Bound once at import
#: to the fastest way this Flask offers: it sits on the hot path of every cached view.
current_request_context: Callable[[], Any | None]
if _cv_request is not None:

    def current_request_context() -> Any | None:
        return _cv_request.get(None)  # type: ignore[union-attr]

elif _cv_app is not None and hasattr(getattr(flask.ctx, "AppContext", None), "has_request"):
    current_request_context = _request_context_merged
else:
    current_request_context = _request_context_public


def current_app_or_none() -> flask.Flask | None:
    """The app of the current app context, or ``None`` outside one (no exception raised)."""
    if _cv_app is not None:
        ctx = _cv_app.get(None)
        return None if ctx is None else ctx.app
    if not flask.has_app_context():
        return None
    return flask.current_app._get_current_object()  # type: ignore[attr-defined,no-any-return]


def opened_session(ctx: Any) -> SessionMixin | None:
    """The session of a request context if it was opened, looked at without opening it or
    marking it accessed (Flask >= 3.1.3 marks a session accessed when ``ctx.session`` is read).
    ``None`` when it was not opened, or when this Flask gives no way to look without touching.
    """
    if hasattr(ctx, "_session"):
        return ctx._session  # type: ignore[no-any-return]
    # older Flask: ``session`` is a plain attribute set when the context is pushed
    found = getattr(ctx, "__dict__", {}).get("session")
    return found


def has_handled_a_request(app: flask.Flask) -> bool:
    """Whether ``app`` has handled a request (after which Flask refuses new hooks).

    Without the private flag the answer is ``False``: callers use it to turn a fast path on.
    """
    return bool(getattr(app, "_got_first_request", False))


@contextmanager
def requests_keep_setup_open(app: flask.Flask) -> Iterator[None]:
    """Requests made inside (a test client rendering pages at start-up) leave ``app`` open to
    set-up: Flask's first-request flag is put back as it was if it was not set before.

    Without the private flag there is nothing to put back.
    """
    was_set = has_handled_a_request(app)
    try:
        yield
    finally:
        if not was_set and hasattr(app, "_got_first_request"):
            app._got_first_request = False


# -- Werkzeug: header fields without copying -----------------------------------------------------

_HEADERS_HAVE_LIST = hasattr(Headers(), "_list")


def header_fields(headers: Headers) -> list[tuple[str, str]]:
    """The list of ``(name, value)`` fields behind ``headers``: the live list where Werkzeug
    keeps one (a caller must not change it), else a copy."""
    if _HEADERS_HAVE_LIST:
        return headers._list
    return list(headers.items())


def headers_from_fields(fields: list[tuple[str, str]]) -> Headers:
    """``Headers`` that owns ``fields`` from now on, without Werkzeug checking each field again
    (Werkzeug has no unchecked way in; the fields must be ones it accepted before)."""
    if _HEADERS_HAVE_LIST:
        headers = Headers.__new__(Headers)
        headers._list = fields
        return headers
    return Headers(fields)


def _parse_etags_by_function(value: str | None) -> ETags:
    from werkzeug.http import parse_etags as parse

    return parse(value)


#: ``parse_etags(value)``: the ``ETags`` of an ``If-None-Match``/``If-Match`` field value.
parse_etags: Callable[[str | None], ETags] = getattr(ETags, "from_header", _parse_etags_by_function)


# -- cachelib: the Redis client and key prefix of a RedisCache -----------------------------------


def redis_write_client(cache: Any) -> Any | None:
    """The ``redis`` client a cachelib Redis cache writes through, or ``None``."""
    return getattr(cache, "_write_client", None)


def redis_read_client(cache: Any) -> Any | None:
    """The ``redis`` client a cachelib Redis cache reads through, or ``None``."""
    found = getattr(cache, "_read_client", None)
    return found if found is not None else redis_write_client(cache)


def set_redis_read_client(cache: Any, client: Any) -> None:
    """Make a cachelib Redis cache read through ``client`` (a replica); without the private
    attribute, reads stay on the write client."""
    if hasattr(cache, "_read_client"):
        cache._read_client = client


def redis_key_prefix(cache: Any) -> str:
    """The prefix a cachelib Redis cache puts before every key (a callable prefix called)."""
    get_prefix = getattr(cache, "_get_prefix", None)
    if callable(get_prefix):
        return str(get_prefix())
    prefix = getattr(cache, "key_prefix", "") or ""
    return str(prefix() if callable(prefix) else prefix)


# -- cachelib: the wall clock that tests freeze ----------------------------------------------------


def _simple_module() -> Any | None:
    try:
        import cachelib.simple as simple
    except ImportError:  # pragma: no cover - cachelib is a dependency
        return None
    return simple if callable(getattr(simple, "time", None)) else None


_SIMPLE = _simple_module()


def wall_time() -> float:
    """Seconds since the epoch, read where tests freeze the clock of an in-process cache.

    Flask-Caching's suite and users' suites patch ``cachelib.simple.time``; freezegun and
    time-machine patch ``time.time`` (freezegun also rebinds module attributes such as
    ``cachelib.simple.time``). Reading the module attribute on each call honours all three.
    """
    if _SIMPLE is not None:
        return float(_SIMPLE.time())
    return time.time()
