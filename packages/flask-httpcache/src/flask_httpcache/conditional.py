"""Answers to the client's preconditions and Range: 304, 412, 206 or the response itself
(RFC 9110 §13, §14)."""

from __future__ import annotations

from typing import Any

from flask.wrappers import Response
from werkzeug.exceptions import RequestedRangeNotSatisfiable

from . import rules
from .environ import CONDITIONALS, CONDITIONALS_OR_RANGE, environ_header
from .responses import not_modified, precondition_failed
from .store import Store


def answer_conditional(
    response: Response, environ: dict[str, Any], method: str, stored_date: float | None
) -> Response:
    """Answer the client's preconditions (RFC 9110 §13.2.2) and Range (§14) from a complete
    200: 304, 412, 206 via Werkzeug's ``make_conditional``, or the response itself.

    ``stored_date``: the ``Date`` of the stored response a hit is made from, which a cache
    compares If-Modified-Since with when the response has no Last-Modified (RFC 9111 §4.3.2);
    None for a response of the view (an origin does not). It is given apart because a hit
    under a server that dates every response leaves the stored ``Date`` field out.
    """
    if response.status_code != 200 or environ.keys().isdisjoint(CONDITIONALS_OR_RANGE):
        return response
    header = environ_header(environ)
    modified = rules.http_timestamp(response.headers.get("Last-Modified"))
    if modified is None:
        modified = stored_date
    outcome = rules.precondition_outcome(method, header, response.headers.get("ETag"), modified)
    if outcome == 304:
        return not_modified(response)
    if outcome == 412:
        return precondition_failed(response)
    if header("Range") is not None and method == "GET" and not response.is_streamed:
        # Werkzeug builds the 206 (and checks If-Range); what it lacks is handled above
        try:
            response.make_conditional(
                environ, accept_ranges=True, complete_length=len(response.get_data())
            )
        except RequestedRangeNotSatisfiable as exc:
            unsatisfiable = exc.get_response(environ)
            for name in ("ETag", "Cache-Status", "Date"):
                if name in response.headers:
                    unsatisfiable.headers[name] = response.headers[name]
            return unsatisfiable  # type: ignore[return-value]
    return response


def precondition_for_unsafe(
    store: Store, uri_key: str, environ: dict[str, Any], method: str
) -> Response | None:
    """If-Match / If-None-Match / If-Unmodified-Since on an unsafe method, checked against
    the stored representation before the view changes anything (RFC 9110 §13.2.1): a 412,
    or None to go on."""
    if not any(k in environ for k in CONDITIONALS[:4]):
        return None
    header = environ_header(environ)
    entry, _ = store.lookup(uri_key, header)
    if entry is None:
        return None
    outcome = rules.precondition_outcome(method, header, entry.etag, entry.last_modified)
    return Response(status=412) if outcome == 412 else None
