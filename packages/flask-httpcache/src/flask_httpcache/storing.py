"""Whether a response may be stored (RFC 9111 §3), and the entry to store."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from . import rules
from .config import Config
from .store import StoredResponse
from .tags import SURROGATE_KEY, parse_surrogate_keys


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
        from werkzeug.http import http_date

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
