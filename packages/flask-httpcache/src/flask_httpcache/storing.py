"""Whether a response may be stored (RFC 9111 §3), the entry to store, and storing it."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from flask import current_app, request
from flask.sessions import SessionMixin
from flask.wrappers import Response
from werkzeug.http import http_date

from flask_cachecore.compat import current_request_context, opened_session

from . import rules
from .config import Config
from .environ import environ_header, path_key_of
from .store import Store, StoredResponse
from .tags import SURROGATE_KEY, parse_surrogate_keys

logger = logging.getLogger(__name__)


def header_values(headers: Sequence[tuple[str, str]], name: str) -> list[str]:
    lower = name.lower()
    return [value for key, value in headers if key.lower() == lower]


def make_entry(
    status: int,
    headers: Sequence[tuple[str, str]],
    body: bytes,
    *,
    request_time: float,
    response_time: float,
    request_header: Callable[[str], str | None],
    config: Config,
) -> tuple[StoredResponse | None, str]:
    """The entry to store for a response to a GET, or None and the reason it may not be stored.

    RFC 9111 §3: a final status understood by the cache; no ``no-store`` (unless
    ``must-understand``) nor unqualified ``private``; §3.5 for ``Authorization``; explicit
    freshness or a heuristically cacheable status. Our policy for ``Set-Cookie`` (§7.3): a
    response that sets a cookie is not stored, whatever its directives, since its body is
    often made for the one client the cookie is for; ``Config.store_set_cookie`` stores it
    as RFC 9111 allows, ``Set-Cookie`` fields included (§3.1).
    """
    if not rules.is_final_storable_status(status):
        return None, "status"
    expires = header_values(headers, "Expires")
    targeted = rules.targeted_directives(
        lambda name: header_values(headers, name), config.targeted_fields
    )
    duplicated: frozenset[str] = frozenset()
    if targeted is not None:
        directives, expires = targeted, []
    else:
        directives, duplicated = rules.parse_directives(
            ", ".join(header_values(headers, "Cache-Control")) or None
        )
    if rules.forbids_storing(directives, status):
        return None, "no-store or private"
    if request_header("Authorization") is not None and not rules.authorization_allows_sharing(
        directives
    ):
        return None, "authorization"
    if not config.store_set_cookie and header_values(headers, "Set-Cookie"):
        return None, "set-cookie"
    vary = rules.vary_names(header_values(headers, "Vary"))
    if vary is None:
        return None, "vary-star"
    if len(body) > config.max_body_size:
        return None, "too-large"
    tags = parse_surrogate_keys(header_values(headers, SURROGATE_KEY))
    if tags is None:
        return None, "surrogate-key"
    explicit = rules.has_explicit_freshness(directives, bool(expires))
    if not explicit and status not in rules.HEURISTICALLY_CACHEABLE:
        return None, "no-freshness"
    date = rules.http_timestamp(next(iter(header_values(headers, "Date")), None))
    if date is None:
        date = response_time
    lifetime = rules.freshness_lifetime(
        directives,
        duplicated,
        # several Expires lines: invalid, so already expired (RFC 9111 §5.3)
        expires[0] if len(expires) == 1 else None,
        date,
        bool(expires),
    )
    if lifetime is None:
        last_modified = next(iter(header_values(headers, "Last-Modified")), None)
        lifetime = rules.heuristic_freshness(
            status, date, last_modified, config.heuristic_fraction, config.heuristic_max_age
        )
        validators = header_values(headers, "ETag") or header_values(headers, "Last-Modified")
        if lifetime == 0 and not (rules.is_no_cache(directives) and validators):
            # nothing to reuse without a round trip to the view: not worth a write, unless the
            # origin asked for exactly that (no-cache with a validator: store, revalidate)
            return None, "no-freshness"
    unstored = rules.unstored_fields(
        directives, next(iter(header_values(headers, "Connection")), None)
    )
    # Age and Cache-Status are recomputed on every reuse
    unstored.update(("age", "cache-status"))
    if not config.emit_surrogate_key:
        unstored.add("surrogate-key")  # read into ``tags``; never sent to the client
    kept = [(k, v) for k, v in headers if k.lower() not in unstored]
    if not header_values(kept, "Date"):
        kept.append(("Date", http_date(date)))
    return (
        StoredResponse(
            status=status,
            headers=kept,
            body=body,
            request_time=request_time,
            response_time=response_time,
            date=date,
            age=rules.age_value(header_values(headers, "Age")),
            lifetime=lifetime,
            directives=directives,
            vary=vary,
            vary_values=tuple(rules.normalize_field_value(n, request_header(n)) for n in vary),
            upstream_status=", ".join(header_values(headers, "Cache-Status")) or None,
            tags=tags,
        ),
        "",
    )


def add_validators(config: Config, response: Response) -> None:
    """The origin side: a strong ETag computed from the body of a complete, non-streamed
    200 (RFC 9110 §8.8.3). ``Date`` is left to the WSGI server, which adds one to every
    response (gunicorn in place of the app's, Werkzeug's development server besides it);
    the stored copy gets the time of storing when the view gave none."""
    if (
        config.auto_etag
        and response.status_code == 200
        and "ETag" not in response.headers
        and not response.is_streamed
        and not response.direct_passthrough
    ):
        response.add_etag()


def store_response(
    store: Store,
    response: Response,
    uri_key: str | None,
    directives: rules.Directives,
    request_time: float,
    now: float,
) -> bool:
    """Store the current request's response to GET if RFC 9111 §3 and the bounds of §7
    allow it."""
    if uri_key is None or "no-store" in directives:
        return False
    if response.is_streamed or response.direct_passthrough:
        return False
    sess = session_without_touching()
    interface = current_app.session_interface
    if sess is not None and not interface.is_null_session(sess) and sess.accessed:
        # Flask adds ``Vary: Cookie`` after every after_request hook; add it now, so the
        # stored response varies on the session cookie too.
        response.vary.add("Cookie")
        if interface.should_set_cookie(current_app, sess):
            return False
    entry, reason = make_entry(
        response.status_code,
        response.headers.to_wsgi_list(),
        response.get_data(),
        request_time=request_time,
        response_time=now,
        request_header=environ_header(request.environ),
        config=store.config,
    )
    if entry is None:
        logger.debug("not stored (%s): %s", reason, request.url)
        return False
    return store.save(uri_key, entry, now, path_key_of(store, request.environ))


def session_without_touching() -> SessionMixin | None:
    """The request's session, read without marking it accessed.

    Since Flask 3.1.3 reading ``session`` (or ``RequestContext.session``) marks the session
    accessed, which adds ``Vary: Cookie``; Flask has no public way to look without touching,
    so this asks flask-cachecore's compat module, which knows where each Flask keeps it.
    """
    ctx = current_request_context()
    return None if ctx is None else opened_session(ctx)
