"""Validation of a stored response with the view (RFC 9111 §4.3): the validators sent, a 304
that freshens the stored response, and the re-fetch when a 304 selects none."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from flask import current_app, request
from flask.wrappers import Response
from werkzeug.http import http_date
from werkzeug.test import run_wsgi_app

from . import rules
from .environ import CONDITIONALS, REFETCH_KEY, REFRESH_FLAG, environ_header, refresh_environ
from .responses import response_from_entry, snapshot
from .speedups import server_dates_responses
from .store import Store, StoredResponse
from .storing import make_entry


def send_validators(entry: StoredResponse, environ: dict[str, Any]) -> dict[str, str] | None:
    """Make the forwarded request conditional on the stored validators (RFC 9111 §4.3.1);
    the client's own preconditions are set aside and returned, to be put back with
    :func:`restore_client_conditionals` and answered afterwards. None: nothing was changed."""
    if environ.get("HTTP_RANGE"):
        return None  # a partial answer cannot validate a complete stored one: plain forward
    etag, modified = entry.etag, entry.header("Last-Modified")
    if etag is None and modified is None:
        return None
    client = {k: environ.pop(k) for k in CONDITIONALS if k in environ}
    if etag is not None:
        environ["HTTP_IF_NONE_MATCH"] = etag
    if modified is not None:
        environ["HTTP_IF_MODIFIED_SINCE"] = modified
    return client


def restore_client_conditionals(environ: dict[str, Any], client: dict[str, str]) -> None:
    """Put back the preconditions :func:`send_validators` set aside."""
    for key in CONDITIONALS:
        environ.pop(key, None)
    environ.update(client)


def selected_by_304(entry: StoredResponse, response: Response) -> bool:
    """Whether a 304 to our validation is about ``entry`` (RFC 9111 §4.3.4)."""
    return rules.validation_selects(
        entry.etag,
        entry.header("Last-Modified"),
        response.headers.get("ETag"),
        response.headers.get("Last-Modified"),
    )


def freshen_from_304(
    store: Store,
    entry: StoredResponse,
    response: Response,
    uri_key: str | None,
    directives: rules.Directives,
    request_time: float,
    now: float,
) -> tuple[Response, bool]:
    """A 304 (or a matching 200 to HEAD) to our validation: update the stored response's
    fields, store it again and serve it (RFC 9111 §4.3.3, §4.3.4, §4.3.5); whether it was
    stored."""
    fields = response.headers.to_wsgi_list()
    if "Date" not in response.headers:  # the server will date it now (see add_validators)
        fields.append(("Date", http_date(now)))
    updated = freshen(entry, fields)
    new, _ = make_entry(
        updated.status,
        updated.headers,
        updated.body,
        request_time=request_time,
        response_time=now,
        request_header=environ_header(request.environ),
        config=store.config,
    )
    if new is not None and not new.tags:  # a 304 may leave the Surrogate-Key out
        new = replace(new, tags=entry.tags)
    stored = False
    if new is not None and uri_key is not None and "no-store" not in directives:
        stored = store.save(uri_key, new, now)
    served = new or updated
    dated = server_dates_responses(request.environ)
    return response_from_entry(served, served.current_age(now), server_dates=dated), stored


def refetch(environ: dict[str, Any], unselected: Response) -> Response:
    """The answer of the view to the request again, without the cache's validators: what
    a 304 that selects no stored response leaves the cache to do (RFC 9111 §4.3.4).

    The request runs through the whole app once more, marked by :data:`REFETCH_KEY`; the
    response handler of that run stores the answer as usual and leaves it, as it stood
    then, in the list under that key (:func:`leave_refetched_answer`): the hooks that run
    after this one then see it once, as they see a miss. Otherwise (a file, or that run's
    handler did not see the answer) the answer is what that run wrote.
    """
    copy = refresh_environ(environ, keep_conditionals=True)
    copy.pop(REFRESH_FLAG)
    answers: list[Response] = []
    copy[REFETCH_KEY] = answers
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    body, status, headers = run_wsgi_app(app.wsgi_app, copy, buffered=True)
    if answers:
        return answers[0]
    if not status:
        return unselected
    return Response(b"".join(body), status=status, headers=headers)


def leave_refetched_answer(environ: dict[str, Any], answer: Response) -> None:
    """In a re-fetch's run, leave a copy of its answer for :func:`refetch`."""
    refetched = environ.get(REFETCH_KEY)
    if isinstance(refetched, list) and not refetched:
        copy = snapshot(answer)
        if copy is not None:
            refetched.append(copy)


def freshen(entry: StoredResponse, headers: Iterable[tuple[str, str]]) -> StoredResponse:
    """The stored response updated by a 304 or HEAD response (RFC 9111 §3.2, §4.3.4): its
    header fields replace the stored ones, except the unstored ones and Content-Length."""
    new = [(k, v) for k, v in headers if k.lower() not in rules.UNSTORED_FIELDS]
    replaced = {k.lower() for k, _ in new} - {"content-length"}
    kept = [(k, v) for k, v in entry.headers if k.lower() not in replaced]
    added = [(k, v) for k, v in new if k.lower() != "content-length"]
    return replace(entry, headers=kept + added)
