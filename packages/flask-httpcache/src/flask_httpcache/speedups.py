"""Every trick the hot paths play for speed, in one place, each with what it saves.

A hit is the hot path of the cache, and most of its cost is Werkzeug's and Flask's generic
work done again for a response that was checked once already. Each trick below skips work
only where the result is the same (``hatch run bench:httpcache`` measures the whole):

- **Prototype-copied responses** (:class:`CachedResponse`, :func:`status_line`): a response
  made from a stored one copies the instance state of one real response per status and
  gives it the stored fields as they are, instead of running ``Response.__init__``, which
  checks every field and the status again.
- **Fields written unchanged** (:func:`written_unchanged`, :meth:`CachedResponse.__call__`):
  when Werkzeug's ``get_wsgi_headers`` would leave the stored fields as they are (a body, a
  Content-Length, no Location), they go to the server without a second copy through
  ``Headers``; only field names of 8, 14 or 16 characters are lowered to find out.
- **Server detection through ``SERVER_SOFTWARE``** (:func:`server_dates_responses`,
  :func:`hit_fields`): gunicorn and Werkzeug's development server date every response
  themselves; under them a hit leaves the stored ``Date`` out, which saves gunicorn's check
  and drop of it and keeps Werkzeug from writing a second ``Date`` (RFC 9110 §5.3).
- **Bounded memos** (:class:`Memo`): the key of a target URI, by its raw environ values and
  by its parts, is computed once (percent-encoding, hashing) and then found by one dict
  lookup; the memo empties itself when full, since clients choose the URLs (RFC 9111 §7).
- **Hooks as plain functions** (:func:`plain_request_hook`, :func:`plain_response_hook`):
  Flask asks of every hook on every request whether it is a coroutine function, which costs
  less for a function than for a bound method.
- Elsewhere, named here so that this list is whole: the hit lane (:mod:`.lane`) and the
  middleware (:mod:`.middleware`) serve fresh hits before Flask builds a request context
  (most of the cost of a Flask hit); :meth:`StoredResponse.current_age
  <flask_httpcache.store.StoredResponse.current_age>` is computed inline;
  :func:`flask_httpcache.store.in_process_serializer` keeps in-process entries unpickled.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

from flask.wrappers import Response
from werkzeug.datastructures import Headers

from flask_cachecore.compat import header_fields, headers_from_fields

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

K = TypeVar("K")
V = TypeVar("V")

#: field names for which Werkzeug's ``get_wsgi_headers`` rewrites the value (IRI to URI)
_REWRITTEN = frozenset({"location", "content-location"})
#: instance state of a fresh response by status code, copied into each response made here
_PROTOTYPES: dict[int, dict[str, Any]] = {}
#: ``SERVER_SOFTWARE`` of WSGI servers that give every response a ``Date`` of their own:
#: gunicorn drops the app's and adds its own, Werkzeug's development server adds a second
_DATING_SERVERS = ("gunicorn/", "Werkzeug/")


def server_dates_responses(environ: WSGIEnvironment) -> bool:
    """Whether the WSGI server gives every response its own ``Date`` (gunicorn, Werkzeug's
    development server). A stored ``Date`` sent under Werkzeug's would make two ``Date``
    fields, which RFC 9110 §5.3 forbids for a field that is not a list; gunicorn would drop
    it, after checking it."""
    software = environ.get("SERVER_SOFTWARE")
    return isinstance(software, str) and software.startswith(_DATING_SERVERS)


def _prototype_state(status: int) -> dict[str, Any]:
    state = _PROTOTYPES.get(status)
    if state is None:
        # A real response of that status, so that every attribute Werkzeug's __init__ sets is
        # present (its mutable ones are replaced in ``CachedResponse.build``).
        state = _PROTOTYPES[status] = vars(Response(status=status)).copy()
    return state


def written_unchanged(status: int, fields: list[tuple[str, str]]) -> bool:
    """Whether Werkzeug's ``get_wsgi_headers`` leaves these fields of a response of this
    status as they are: a status with a body, a Content-Length, no (Content-)Location."""
    if status < 200 or status == 204 or status == 304:
        return False
    has_length = False
    for name, _ in fields:
        # only names of these lengths can be one of the three: lower() the few that are
        size = len(name)
        if size == 14 or size == 8 or size == 16:
            lower = name.lower()
            if lower == "content-length":
                has_length = True
            elif lower in _REWRITTEN:
                return False
    return has_length


def status_line(status: int) -> str:
    """The status line Werkzeug writes for ``status`` (its reason phrase, upper case)."""
    line: str = _prototype_state(status)["_status"]
    return line


class CachedResponse(Response):
    """A response made from a stored one (a hit, or a stored response freshened or served
    stale).

    Made by :meth:`build`, which copies a prototype's instance state and gives the stored
    fields to a new :class:`~werkzeug.datastructures.Headers` as they are; written by a
    :meth:`__call__` that hands the fields to the server without copying them through
    ``Headers`` again when Werkzeug would leave them unchanged. When an ``after_request`` hook
    changed the response so that Werkzeug would adjust it (no Content-Length, a
    ``Location``, a status without a body, a streamed body, ``call_on_close``), it is written
    the ordinary way.
    """

    @classmethod
    def build(cls, status: int, fields: list[tuple[str, str]], body: bytes) -> CachedResponse:
        """A response of ``status`` with these header ``fields`` (owned by the response from
        now on) and ``body``. The fields must be ones Werkzeug accepted before: they are not
        checked again (Werkzeug offers no unchecked way in; this fills that gap)."""
        response = cls.__new__(cls)
        state = response.__dict__
        state.update(_prototype_state(status))
        state["headers"] = headers_from_fields(fields)
        state["response"] = [body]
        state["_on_close"] = []
        return response

    def wsgi_fields(self) -> list[tuple[str, str]] | None:
        """The header fields as ``get_wsgi_headers`` would give them, when it would give them
        unchanged (see :func:`written_unchanged`); else None."""
        fields = header_fields(self.headers)
        return list(fields) if written_unchanged(self._status_code, fields) else None

    def get_wsgi_headers(self, environ: WSGIEnvironment) -> Headers:
        """Werkzeug's result, without copying the fields through ``Headers`` when it would
        leave them unchanged (see :meth:`wsgi_fields`)."""
        fields = self.wsgi_fields()
        if fields is None:
            return super().get_wsgi_headers(environ)
        return headers_from_fields(fields)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        body = self.response
        if (
            self._on_close
            or self.direct_passthrough
            or type(body) is not list
            or len(body) != 1
            or type(body[0]) is not bytes
        ):
            return super().__call__(environ, start_response)
        fields = self.wsgi_fields()
        if fields is None:
            return super().__call__(environ, start_response)
        start_response(self._status, fields)
        # nothing to close: a list has no close(), and no hook registered call_on_close
        return [] if environ.get("REQUEST_METHOD") == "HEAD" else body


def hit_fields(fields: list[tuple[str, str]], server_dates: bool) -> list[tuple[str, str]]:
    """A new list of the stored ``fields``; without ``Date`` when ``server_dates``: the
    server's own ``Date`` then stands alone, and ``Age`` still tells how old the response is."""
    if not server_dates:
        return fields.copy()
    return [field for field in fields if len(field[0]) != 4 or field[0].lower() != "date"]


class Memo(dict[K, V]):
    """A dict that empties itself when it holds ``size`` items: bounded, since clients choose
    what goes in (RFC 9111 §7), and read with the plain ``dict.get``."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def remember(self, key: K, value: V) -> None:
        if len(self) >= self.size:
            self.clear()
        self[key] = value


def plain_request_hook(before_request: Callable[[], Response | None]) -> Callable[[], Any]:
    """``before_request`` (a bound method) as a plain function, for ``app.before_request``."""

    def httpcache_request_handler() -> Response | None:
        return before_request()

    return httpcache_request_handler


def plain_response_hook(
    after_request: Callable[[Response], Response],
) -> Callable[[Response], Response]:
    """``after_request`` (a bound method) as a plain function, for ``app.after_request``;
    marked as a hook that leaves hits alone, which the hit lane looks for
    (:func:`flask_httpcache.lane.is_response_hook`)."""

    def httpcache_response_handler(response: Response) -> Response:
        return after_request(response)

    setattr(httpcache_response_handler, "httpcache_response_hook", True)  # noqa: B010
    return httpcache_response_handler
