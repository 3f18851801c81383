"""Cache-Control, freshness and age (RFC 9111 §4.2, §5)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

from werkzeug.http import parse_list_header, unquote_header_value

from .fields import Directives, delta_seconds, http_timestamp, strict_http_date
from .storage import HEURISTICALLY_CACHEABLE


def parse_directives(value: str | None) -> tuple[Directives, frozenset[str]]:
    """Cache-Control directives by lower-case name, and the names given more than once.

    RFC 9111 §5.2: names are case-insensitive, arguments are a token or a quoted-string, unknown
    extensions are ignored by the caller. Fills a gap of Werkzeug's ``parse_cache_control_header``,
    which keeps names case-sensitive and lets a duplicated directive silently win.

    >>> parse_directives('Max-Age=5, private="x"')
    ({'max-age': '5', 'private': 'x'}, frozenset())
    """
    directives: Directives = {}
    duplicated: set[str] = set()
    if not value:
        return directives, frozenset()
    for item in parse_list_header(value):
        name, sep, argument = item.partition("=")
        name = name.strip().lower()
        if not name:
            continue
        if name in directives:
            duplicated.add(name)
        directives[name] = unquote_header_value(argument.strip()) if sep else None
    return directives, frozenset(duplicated)


def age_value(values: Iterable[str]) -> int:
    """The Age field as seconds: the first value; invalid values count as 0 (RFC 9111 §5.1)."""
    for value in values:
        first = value.split(",", 1)[0].strip()
        seconds = delta_seconds(first)
        return seconds if seconds is not None else 0
    return 0


def freshness_lifetime(
    directives: Mapping[str, str | None],
    duplicated: frozenset[str],
    expires: str | None,
    date: float,
    has_expires: bool,
) -> int | None:
    """The explicit freshness lifetime of a response in a shared cache (RFC 9111 §4.2.1).

    ``s-maxage`` wins over ``max-age``, which wins over ``Expires`` - ``Date``. A duplicated or
    invalid directive, or an invalid ``Expires`` (such as ``0``), gives 0: already stale (§4.2.1,
    §5.3). None when the response carries no explicit freshness.
    """
    for name in ("s-maxage", "max-age"):
        if name in directives:
            seconds = delta_seconds(directives[name])
            if seconds is None or name in duplicated:
                return 0
            return seconds
    if has_expires:
        expires_at = strict_http_date(expires) if expires is not None else None
        if expires_at is None:
            return 0
        return max(0, math.floor(expires_at - date))
    return None


def heuristic_freshness(
    status: int, date: float, last_modified: str | None, fraction: float, ceiling: int
) -> int:
    """A heuristic lifetime: ``fraction`` (at most 10%) of ``Date`` - ``Last-Modified``
    (RFC 9111 §4.2.2), for heuristically cacheable statuses only, at most ``ceiling`` seconds."""
    if status not in HEURISTICALLY_CACHEABLE:
        return 0
    modified = http_timestamp(last_modified)
    if modified is None or modified >= date:
        return 0
    return min(ceiling, math.floor((date - modified) * min(fraction, 0.1)))


def current_age(
    date: float, age: int, request_time: float, response_time: float, now: float
) -> float:
    """``current_age`` of a stored response (RFC 9111 §4.2.3).

    apparent_age = max(0, response_time - date_value); corrected_age_value = age_value +
    response_delay; corrected_initial_age = max(apparent_age, corrected_age_value);
    current_age = corrected_initial_age + resident_time.
    """
    apparent_age = max(0.0, response_time - date)
    corrected_age_value = age + (response_time - request_time)
    corrected_initial_age = max(apparent_age, corrected_age_value)
    return corrected_initial_age + max(0.0, now - response_time)


def forbids_serving_stale(directives: Mapping[str, str | None]) -> bool:
    """``must-revalidate``, ``proxy-revalidate``, ``s-maxage`` (which implies
    ``proxy-revalidate``) and ``no-cache`` forbid serving stale in a shared cache
    (RFC 9111 §4.2.4, §5.2.2.2, §5.2.2.8, §5.2.2.10)."""
    if "no-cache" in directives and not directives["no-cache"]:
        return True
    return any(name in directives for name in ("must-revalidate", "proxy-revalidate", "s-maxage"))


def is_no_cache(directives: Mapping[str, str | None]) -> bool:
    """An unqualified ``no-cache``: the stored response must be validated before every reuse
    (RFC 9111 §5.2.2.4); a qualified one only strips the fields it names."""
    return "no-cache" in directives and not directives["no-cache"]
