"""Whether a response may be stored by a shared cache, and what of it (RFC 9111 §3)."""

from __future__ import annotations

from collections.abc import Mapping

#: status codes that are heuristically cacheable (RFC 9110 §15.1)
HEURISTICALLY_CACHEABLE = frozenset({200, 203, 204, 206, 300, 301, 308, 404, 405, 410, 414, 501})


#: status codes this cache understands (so ``must-understand`` lets them be stored)
UNDERSTOOD_STATUS = frozenset(
    {200, 203, 204, 300, 301, 302, 303, 307, 308, 404, 405, 410, 414, 501}
)


#: methods that never change the resource (RFC 9110 §9.2.1)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


#: header fields a cache never stores (RFC 9111 §3.1)
UNSTORED_FIELDS = frozenset(
    {
        "connection",
        "proxy-authenticate",
        "proxy-authentication-info",
        "proxy-authorization",
        "keep-alive",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)


def is_storable_method(method: str) -> bool:
    """Only GET responses are stored; HEAD only freshens a stored GET (RFC 9111 §3, §4.3.5)."""
    return method == "GET"


def is_final_storable_status(status: int) -> bool:
    """The status is final, and understood: 206 and 304 are not stored (RFC 9111 §3, §3.3)."""
    return 200 <= status < 600 and status not in (206, 304)


def forbids_storing(directives: Mapping[str, str | None], status: int) -> bool:
    """``no-store`` forbids storing, unless ``must-understand`` and the status is understood;
    an unqualified ``private`` forbids a shared cache (RFC 9111 §3, §5.2.2.3, §5.2.2.7)."""
    if "must-understand" in directives:
        if status not in UNDERSTOOD_STATUS:
            return True
    elif "no-store" in directives:
        return True
    return "private" in directives and not directives["private"]


def authorization_allows_sharing(directives: Mapping[str, str | None]) -> bool:
    """A response to a request with Authorization may be shared only with ``public``,
    ``s-maxage`` or ``must-revalidate`` (RFC 9111 §3.5)."""
    return any(name in directives for name in ("public", "s-maxage", "must-revalidate"))


def has_explicit_freshness(directives: Mapping[str, str | None], has_expires: bool) -> bool:
    """``public``, ``max-age``, ``s-maxage`` or ``Expires`` make a response storable whatever its
    status (RFC 9111 §3, condition on explicit freshness)."""
    return has_expires or any(name in directives for name in ("public", "max-age", "s-maxage"))


def unstored_fields(directives: Mapping[str, str | None], connection: str | None) -> set[str]:
    """Lower-case names of the fields not to store: hop-by-hop fields, fields named by
    ``Connection``, by ``no-cache="..."`` and by ``private="..."`` (RFC 9111 §3.1, §5.2.2.4,
    §5.2.2.7)."""
    names = set(UNSTORED_FIELDS)
    for source in (connection, directives.get("no-cache"), directives.get("private")):
        if source:
            names.update(name.strip().lower() for name in source.split(",") if name.strip())
    return names
