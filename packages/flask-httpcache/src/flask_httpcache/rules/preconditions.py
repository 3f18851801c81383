"""Entity tags and preconditions (RFC 9110 §8.8, §13), and which stored response a 304
selects (RFC 9111 §4.3.4)."""

from __future__ import annotations

from collections.abc import Callable

from werkzeug.datastructures import ETags
from werkzeug.http import unquote_etag

from flask_cachecore.compat import parse_etags

from .fields import http_timestamp

#: fields a 304 carries from the stored response (RFC 9110 §15.4.5)
NOT_MODIFIED_FIELDS = ("cache-control", "content-location", "date", "etag", "expires", "vary")


def field_etags(value: str) -> ETags:
    """The entity tags of an ``If-Match`` / ``If-None-Match`` value, through Werkzeug's
    parser, given the value without surrounding whitespace (RFC 9110 §5.5): Werkzeug 3.1.8's
    ``parse_etags`` loops forever on a value that ends in a line feed."""
    return parse_etags(value.strip())


def etag_matches_weakly(header: str | None, etag: str | None) -> bool:
    """``If-None-Match`` uses the weak comparison (RFC 9110 §13.1.2): ``*`` matches any stored
    representation, a list matches if one tag equals ``etag`` ignoring weakness."""
    if header is None:
        return False
    etags = field_etags(header)
    if etags.star_tag:
        return True
    if etag is None:
        return False
    return bool(etags.contains_weak(unquote_etag(etag.strip())[0]))


def etag_matches_strongly(header: str | None, etag: str | None) -> bool:
    """``If-Match`` uses the strong comparison (RFC 9110 §13.1.1): weak tags never match."""
    if header is None:
        return True
    etags = field_etags(header)
    if etags.star_tag:
        return etag is not None
    if etag is None or etag.startswith("W/"):
        return False
    return bool(etags.contains(etag.strip().strip('"')))


def not_modified_since(header: str | None, last_modified: float | None) -> bool:
    """``If-Modified-Since`` holds when the representation is not newer than the date
    (RFC 9110 §13.1.3); an invalid date is ignored (False)."""
    since = http_timestamp(header)
    return since is not None and last_modified is not None and last_modified <= since


def unmodified_since_fails(header: str | None, last_modified: float | None) -> bool:
    """``If-Unmodified-Since`` fails when the representation is newer than the date, or has no
    date (RFC 9110 §13.1.4); an invalid date is ignored."""
    since = http_timestamp(header)
    if since is None:
        return False
    return last_modified is None or last_modified > since


def precondition_outcome(
    method: str,
    header: Callable[[str], str | None],
    etag: str | None,
    last_modified: float | None,
) -> int | None:
    """412, 304 or None (go on) for a request's preconditions, in the order of RFC 9110
    §13.2.2: If-Match, else If-Unmodified-Since; then If-None-Match (304 for GET/HEAD, 412
    otherwise), else If-Modified-Since (GET/HEAD only).

    ``header`` reads a request field by name.
    """
    if_match = header("If-Match")
    if if_match is not None:
        if not etag_matches_strongly(if_match, etag):
            return 412
    elif unmodified_since_fails(header("If-Unmodified-Since"), last_modified):
        return 412
    safe = method in ("GET", "HEAD")
    if_none_match = header("If-None-Match")
    if if_none_match is not None:
        if etag_matches_weakly(if_none_match, etag):
            return 304 if safe else 412
    elif safe and not_modified_since(header("If-Modified-Since"), last_modified):
        return 304
    return None


def validation_selects(
    stored_etag: str | None,
    stored_last_modified: str | None,
    new_etag: str | None,
    new_last_modified: str | None,
) -> bool:
    """Whether a 304 to a validation selects the stored response for freshening
    (RFC 9111 §4.3.4), by the first rule that applies:

    - the 304 has a strong ETag: only a stored response with the same strong ETag;
    - it has a weak ETag: a stored response whose ETag matches it weakly (or, with no stored
      ETag, whose Last-Modified is the 304's);
    - it has a Last-Modified: a stored response with the same Last-Modified date;
    - it has no validator at all: the stored response, which is the one response the cache
      could select and whose validators it sent (our reading: the RFC names only a stored
      response without validators here, but a 304 to a request built from one stored
      response's validators can only be about that response).

    >>> validation_selects('"a"', None, '"b"', None)
    False
    >>> validation_selects('W/"a"', None, 'W/"a"', None)
    True
    """
    if new_etag:
        tag, weak = unquote_etag(new_etag.strip())
        if stored_etag:
            stored_tag, stored_weak = unquote_etag(stored_etag.strip())
            return stored_tag == tag and (weak or not stored_weak)
        if not weak:
            return False
    if new_last_modified:
        new_date = http_timestamp(new_last_modified)
        return new_date is not None and new_date == http_timestamp(stored_last_modified)
    return not new_etag
