"""Whether a stored response may be reused for a request, as it is or stale (RFC 9111 §4.2.4,
§4.3.5, §5.2.1; RFC 5861)."""

from __future__ import annotations

from flask.wrappers import Response

from . import rules
from .store import StoredResponse


def reuse_decision(entry: StoredResponse, directives: rules.Directives, age: float) -> str:
    """``fresh``, ``stale`` (allowed by max-stale), ``stale-while-revalidate`` or
    ``validate``, for a stored response of this ``current_age`` (RFC 9111 §4.2.4, §5.2.1,
    RFC 5861)."""
    ttl = entry.lifetime - age
    if not directives and ttl > 0 and "no-cache" not in entry.directives:
        return "fresh"  # the common case, first
    if rules.is_no_cache(entry.directives) or "no-cache" in directives:
        return "validate"
    max_age = rules.delta_seconds(directives.get("max-age"))
    if max_age is not None and age > max_age:
        return "validate"
    min_fresh = rules.delta_seconds(directives.get("min-fresh"))
    if min_fresh is not None and ttl < min_fresh:
        return "validate"
    if ttl > 0:
        return "fresh"
    if rules.forbids_serving_stale(entry.directives):
        return "validate"
    if "max-stale" in directives:
        allowed = directives["max-stale"]
        limit = rules.delta_seconds(allowed)
        if allowed is None or (limit is not None and -ttl <= limit):
            return "stale"
    window = entry.stale_allowance("stale-while-revalidate")
    if window and -ttl <= window:
        return "stale-while-revalidate"
    return "validate"


def stale_if_error_allows(entry: StoredResponse, directives: rules.Directives, now: float) -> bool:
    """``stale-if-error`` (RFC 5861 §4), from the response or the request, within its
    window, and not forbidden by must-revalidate and the like (RFC 9111 §4.2.4)."""
    if rules.forbids_serving_stale(entry.directives):
        return False
    stale = -entry.seconds_to_live(now)
    allowed = max(
        entry.stale_allowance("stale-if-error"),
        rules.delta_seconds(directives.get("stale-if-error")) or 0,
    )
    return allowed > 0 and stale <= allowed


def head_matches_stored(response: Response, entry: StoredResponse) -> bool:
    """A 200 to HEAD may freshen a stored GET when its validators and Content-Length agree
    with the stored ones (RFC 9111 §4.3.5)."""
    if response.status_code != 200 or entry.status != 200:
        return False
    for name in ("ETag", "Last-Modified", "Content-Length"):
        new, old = response.headers.get(name), entry.header(name)
        if new is not None and old is not None and new != old:
            return False
    return entry.etag is not None or entry.header("Last-Modified") is not None
