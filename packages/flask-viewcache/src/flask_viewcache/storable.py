"""Which results of a cached view may be stored, and the checks of what is read back.

A stored result is replayed to every client whose request has the same key, so it is stored
only when it belongs to nobody in particular and answers the request in full:

- the response made from it sets no cookie, whatever the view returned (a string, a
  ``Response``, a ``(body, status, headers)`` tuple) and whatever its ``after_this_request``
  callbacks added (the store waits for them, see ``views``);
- the session was not accessed during the request (``before_request`` hooks, the view, its
  templates), unless the key itself read it, so that it keeps users apart;
- its status is not one that answers a request's conditions rather than the resource
  (:data:`CONDITIONAL_STATUSES`).

Responses are stored as plain data, ``(marker, status, headers, body)``; :func:`thaw` checks
that shape before it builds anything from it, so a value written by someone else, truncated
or of an older format is a miss (:class:`MalformedEntryError`), never a 500.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from flask import Response, current_app
from werkzeug.datastructures import Headers
from werkzeug.exceptions import HTTPException, default_exceptions

from flask_cachecore.compat import current_request_context, opened_session

RESPONSE_MARK = "__vc_response__"
ABORT_MARK = "__vc_abort__"

logger = logging.getLogger(__name__)

#: statuses that answer one request's conditions, not the resource: ``206`` holds a part of
#: the body (``Range``), ``304`` none of it (``If-None-Match``, ``If-Modified-Since``),
#: ``412`` and ``416`` refuse the conditions. Every other status is stored, as Flask-Caching
#: stores every status a view returns or aborts with (``response_filter`` narrows it).
CONDITIONAL_STATUSES = frozenset({206, 304, 412, 416})


class MalformedEntryError(ValueError):
    """A stored value that is not what :func:`freeze` makes."""


def complete_status(code: Any) -> bool:
    """Whether a response of status ``code`` answers any request for the resource in full.

    >>> complete_status(200), complete_status(206), complete_status(304), complete_status(999)
    (True, False, False, False)
    """
    return type(code) is int and 200 <= code <= 599 and code not in CONDITIONAL_STATUSES


def sets_cookie(headers: Any) -> bool:
    """Whether ``headers`` (a ``Headers``, a mapping or a list of pairs, as a view may return
    them in a tuple) hold a ``Set-Cookie``."""
    if isinstance(headers, Headers):
        return "Set-Cookie" in headers
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    try:
        return any(str(name).lower() == "set-cookie" for name, _ in pairs)
    except (TypeError, ValueError):
        return False


def _tuple_sets_cookie(value: tuple[Any, ...]) -> bool:
    """Whether a tuple, read as Flask reads a view's ``(body, status, headers)``, sets a
    cookie: for a function that is not the request's view, where the tuple is kept as it is."""
    for item in value:
        if isinstance(item, Response):
            if "Set-Cookie" in item.headers:
                return True
        elif isinstance(item, Headers | Mapping | list) and sets_cookie(item):
            return True
    return False


def freeze(value: Any, as_response: bool = False) -> tuple[Any, bool]:
    """``(what to store, whether it may be stored)`` for a result; ``as_response``: the
    result is what a view returned, so a tuple is judged, and stored, as the response Flask
    makes of it.

    A response becomes ``(marker, status, headers, body)``: the body as Latin-1 text, which
    every serializer, JSON included, carries byte for byte.
    """
    if isinstance(value, HTTPException):
        if not complete_status(value.code):
            return value, False
        frozen = None
        if value.response is not None:
            frozen, storable = freeze(value.response)
            if not storable:
                return value, False
        return (ABORT_MARK, value.code, value.description, frozen), True
    if isinstance(value, Response):
        if (
            "Set-Cookie" in value.headers
            or value.direct_passthrough
            or not complete_status(value.status_code)
        ):
            return value, False
        headers = tuple((k, v) for k, v in value.headers.items() if k.lower() != "content-length")
        body = value.get_data().decode("latin-1")
        return (RESPONSE_MARK, value.status_code, headers, body), True
    if type(value) is tuple:
        if as_response:
            try:
                response = current_app.make_response(value)
            except Exception:  # Flask raises the same error when it makes the response
                return value, False
            return freeze(response)
        if _tuple_sets_cookie(value):
            return value, False
    return value, True


def expected_status(payload: Any) -> int:
    """The status of the response Flask makes of a stored payload (200 for plain values)."""
    if type(payload) in (list, tuple) and len(payload) == 4:
        if payload[0] == RESPONSE_MARK:
            return int(payload[1])
        if payload[0] == ABORT_MARK:
            frozen = payload[3]
            return int(frozen[1]) if frozen is not None else int(payload[1])
    return 200


def _valid_response(payload: Any) -> bool:
    if not (type(payload) in (list, tuple) and len(payload) == 4 and payload[0] == RESPONSE_MARK):
        return False
    _, status, headers, body = payload
    return (
        complete_status(status)
        and isinstance(body, str)
        and type(headers) in (list, tuple)
        and all(
            type(h) in (list, tuple)
            and len(h) == 2
            and isinstance(h[0], str)
            and isinstance(h[1], str)
            for h in headers
        )
    )


def _valid_abort(payload: Any) -> bool:
    _, code, description, frozen = payload
    return (
        type(code) is int
        and 400 <= code <= 599
        and complete_status(code)
        and (description is None or isinstance(description, str))
        and (frozen is None or _valid_response(frozen))
    )


def well_formed(payload: Any, log: bool = True) -> bool:
    """Whether a stored payload can be thawed: anything but a stored response or abort is
    (it is what the function returned); one of those must have the shape :func:`freeze`
    gives it. A payload that has not is logged (once per read) and is a miss."""
    if type(payload) not in (list, tuple) or len(payload) != 4:
        return True
    marker = payload[0]
    if marker == RESPONSE_MARK:
        ok = _valid_response(payload)
    elif marker == ABORT_MARK:
        ok = _valid_abort(payload)
    else:
        return True
    if not ok and log:
        logger.warning("a cached view response has the wrong shape: treated as a miss")
    return ok


def thaw(payload: Any, checked: bool = False) -> Any:
    """The view's result from what :func:`freeze` stored; raises a stored abort.
    ``checked``: :func:`well_formed` already said yes.

    :raises MalformedEntryError: for a stored response or abort of the wrong shape.
    """
    if not checked and not well_formed(payload, log=False):
        raise MalformedEntryError("a stored view response of the wrong shape")
    if type(payload) in (list, tuple) and len(payload) == 4:
        marker = payload[0]
        if marker == RESPONSE_MARK:
            _, status, headers, body = payload
            return current_app.response_class(
                body.encode("latin-1"), status=status, headers=[tuple(h) for h in headers]
            )
        if marker == ABORT_MARK:
            _, code, description, frozen = payload
            if frozen is not None:
                raise HTTPException(description=description, response=thaw(frozen, True))
            exc_class = default_exceptions.get(code, HTTPException)
            exc = exc_class(description=description)
            exc.code = code
            raise exc
    return payload


def request_session() -> Any:
    """The session of the current request, looked at without marking it accessed; ``None``
    outside a request, before the session is opened, and for a null session (no
    ``SECRET_KEY``), which holds nothing of a user's."""
    ctx = current_request_context()
    if ctx is None:
        return None
    sess = opened_session(ctx)
    if sess is None or ctx.app.session_interface.is_null_session(sess):
        return None
    return sess


def session_accessed() -> bool:
    """Whether the current request's session has been read or written so far, by anything:
    hooks, the view, context processors, templates."""
    sess = request_session()
    return sess is not None and bool(getattr(sess, "accessed", False))
