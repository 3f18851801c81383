"""The responses the cache itself makes: a hit from a stored response, a 304, a 412, a 504,
and the ``Cache-Status`` field they carry (RFC 9211)."""

from __future__ import annotations

from flask.wrappers import Response

from . import rules
from .config import Config
from .speedups import CachedResponse, hit_fields
from .store import StoredResponse


def cache_status(config: Config, upstream: str | None, *params: str) -> str:
    """A ``Cache-Status`` value with this cache's entry appended (RFC 9211 §2)."""
    ours = "; ".join((config.cache_name, *params))
    return f"{upstream}, {ours}" if upstream else ours


def response_from_entry(
    entry: StoredResponse,
    age: float,
    cache_status: str | None = None,
    server_dates: bool = False,
) -> CachedResponse:
    """A response built from a stored one, with its ``Age`` (RFC 9111 §4, §5.1) and, given
    this cache's ``Cache-Status`` entry, the field with it appended (RFC 9211 §2). With
    ``server_dates`` (see :func:`~flask_httpcache.speedups.server_dates_responses`) the
    stored ``Date`` is left out."""
    fields = hit_fields(entry.headers, server_dates)
    fields.append(("Age", str(int(age)) if age > 0 else "0"))
    upstream = entry.upstream_status
    if cache_status is not None:
        fields.append(("Cache-Status", f"{upstream}, {cache_status}" if upstream else cache_status))
    elif upstream:
        fields.append(("Cache-Status", upstream))
    return CachedResponse.build(entry.status, fields, entry.body)


def not_modified(response: Response) -> Response:
    """The 304 for ``response``: only the fields of RFC 9110 §15.4.5, plus Age and
    Cache-Status."""
    result = Response(status=304)
    for name in (*rules.NOT_MODIFIED_FIELDS, "last-modified", "age", "cache-status"):
        for value in response.headers.getlist(name):
            result.headers.add(name, value)
    return result


def precondition_failed(response: Response) -> Response:
    """The 412 for ``response`` (RFC 9110 §15.5.13), with its ETag and Cache-Status."""
    failed = Response(status=412)
    for name in ("ETag", "Cache-Status"):
        if name in response.headers:
            failed.headers[name] = response.headers[name]
    return failed


def gateway_timeout(config: Config) -> Response:
    """``only-if-cached`` with nothing usable stored: 504 (RFC 9111 §5.2.1.7)."""
    response = Response("Gateway Timeout: not in cache\n", status=504, mimetype="text/plain")
    response.headers["Cache-Status"] = cache_status(config, None, "fwd=miss")
    return response


def snapshot(response: Response) -> Response | None:
    """A copy of ``response`` as it stands, which later changes to ``response`` leave alone
    (for :func:`~flask_httpcache.revalidation.refetch`); a streamed response is read into
    memory, a file (``direct_passthrough``) is not copied."""
    if response.direct_passthrough:
        return None
    return CachedResponse.build(
        response.status_code, response.headers.to_wsgi_list(), response.get_data()
    )
