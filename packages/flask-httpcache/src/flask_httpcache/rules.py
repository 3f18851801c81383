"""The rules of RFC 9111 (HTTP Caching) and RFC 9110 (conditional requests), one function each.

Every function here is pure: it takes header values and times and returns a decision, so the
rules can be tested without Flask. The functions are named by the rule they implement and their
docstrings name the section.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime

from werkzeug.datastructures import ETags
from werkzeug.http import parse_date, parse_list_header, unquote_header_value

from flask_cachecore.compat import parse_etags

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
#: fields a 304 carries from the stored response (RFC 9110 §15.4.5)
NOT_MODIFIED_FIELDS = ("cache-control", "content-location", "date", "etag", "expires", "vary")

Directives = dict[str, str | None]


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


def delta_seconds(value: str | None) -> int | None:
    """A delta-seconds argument (RFC 9111 §1.2.2): a non-negative integer, else None.

    Values too large to represent are capped at 2**31 as the RFC asks.
    """
    if value is None or not value.isdigit() or not value.isascii():
        return None
    return min(int(value), 2**31)


def http_timestamp(value: str | None) -> float | None:
    """An HTTP-date as seconds since the epoch, or None if it is absent or invalid (§4.2)."""
    if not value:
        return None
    parsed: datetime | None = parse_date(value)
    return parsed.timestamp() if parsed is not None else None


_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_DAY = r"(?:mon|tue|wed|thu|fri|sat|sun)"
_LONG_DAY = r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
_MONTH = "(" + "|".join(_MONTHS) + ")"
_TIME = r"(\d{2}):(\d{2}):(\d{2})"
_IMF_FIXDATE = re.compile(rf"{_DAY}, (\d{{2}}) {_MONTH} (\d{{4}}) {_TIME} gmt", re.IGNORECASE)
_RFC850_DATE = re.compile(rf"{_LONG_DAY}, (\d{{2}})-{_MONTH}-(\d{{2}}) {_TIME} gmt", re.IGNORECASE)
_ASCTIME_DATE = re.compile(rf"{_DAY} {_MONTH} ([ \d]\d) {_TIME} (\d{{4}})", re.IGNORECASE)


def strict_http_date(value: str) -> float | None:
    """An HTTP-date in one of the three formats of RFC 9110 §5.6.7 (IMF-fixdate, obsolete
    RFC 850, asctime), names in any case; anything else is None.

    Fills a gap of Werkzeug's ``parse_date``, which also accepts ``UTC``, other time zones,
    missing commas and dashes: a cache must treat such an ``Expires`` as already expired
    (RFC 9111 §5.3).
    """
    value = value.strip()
    match = _IMF_FIXDATE.fullmatch(value)
    if match:
        day, month, year, hour, minute, second = match.groups()
    elif match := _RFC850_DATE.fullmatch(value):
        day, month, short_year, hour, minute, second = match.groups()
        # RFC 9110 §5.6.7: a two-digit year more than 50 years ahead is in the past century
        now_year = datetime.now(UTC).year
        year_number = now_year - now_year % 100 + int(short_year)
        if year_number > now_year + 50:
            year_number -= 100
        year = str(year_number)
    elif match := _ASCTIME_DATE.fullmatch(value):
        month, day, hour, minute, second, year = match.groups()
    else:
        return None
    try:
        moment = datetime(
            int(year),
            _MONTHS.index(month.lower()) + 1,
            int(day),
            int(hour),
            int(minute),
            int(second),
            tzinfo=UTC,
        )
    except ValueError:
        return None
    return moment.timestamp()


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


def forbids_serving_stale(directives: Mapping[str, str | None]) -> bool:
    """``must-revalidate``, ``proxy-revalidate``, ``s-maxage`` (which implies
    ``proxy-revalidate``) and ``no-cache`` forbid serving stale in a shared cache
    (RFC 9111 §4.2.4, §5.2.2.2, §5.2.2.8, §5.2.2.10)."""
    if "no-cache" in directives and not directives["no-cache"]:
        return True
    return any(name in directives for name in ("must-revalidate", "proxy-revalidate", "s-maxage"))


#: request fields defined as comma-separated lists (RFC 9110 §5.6.1): their elements may be
#: compared without the whitespace around them, and empty elements dropped
LIST_FIELDS = frozenset(
    {
        "accept",
        "accept-charset",
        "accept-encoding",
        "accept-language",
        "cache-control",
        "if-match",
        "if-none-match",
        "pragma",
        "te",
    }
)
#: of those, the fields whose whole value is case-insensitive: content codings (RFC 9110
#: §8.4.1), charsets (§8.3.2) and language ranges (RFC 4647 §2), with their ``q`` weights
CASELESS_FIELDS = frozenset({"accept-charset", "accept-encoding", "accept-language"})


def split_commas(value: str) -> list[str]:
    """``value`` split at its commas outside quoted strings (RFC 9110 §5.6.1, §5.6.4).

    >>> split_commas('a, "b,c" ,d')
    ['a', ' "b,c" ', 'd']
    """
    if '"' not in value:
        return value.split(",")
    parts: list[str] = []
    start, quoted, escaped = 0, False, False
    for position, char in enumerate(value):
        if escaped:
            escaped = False
        elif quoted:
            if char == "\\":
                escaped = True
            elif char == '"':
                quoted = False
        elif char == '"':
            quoted = True
        elif char == ",":
            parts.append(value[start:position])
            start = position + 1
    parts.append(value[start:])
    return parts


def normalize_field_value(name: str, value: str | None) -> str | None:
    """A request field value as Vary compares it (RFC 9111 §4.1): normalised only where the
    change cannot alter its meaning. Every value loses the whitespace around it (RFC 9110
    §5.5) and around its commas outside quoted strings, which is also how servers join several
    field lines (RFC 9110 §5.3); a list field (:data:`LIST_FIELDS`) also loses its empty
    elements (§5.6.1); only the fields of :data:`CASELESS_FIELDS` are compared in lower
    case. Everything else is compared byte for byte: ``X-Api-Key: SECRETALICE`` does not
    match ``SecretAlice``. None (absent) stays distinct from "" (empty).

    >>> normalize_field_value("accept-encoding", " GZIP ,br,, ")
    'gzip, br'
    >>> normalize_field_value("x-api-key", " SecretAlice ")
    'SecretAlice'
    """
    if value is None:
        return None
    name = name.lower()
    if "," in value:
        elements = [part.strip(" \t") for part in split_commas(value)]
        if name in LIST_FIELDS:
            elements = [element for element in elements if element]
        value = ", ".join(elements)
    else:
        value = value.strip(" \t")
    return value.lower() if name in CASELESS_FIELDS else value


def vary_names(values: Iterable[str]) -> tuple[str, ...] | None:
    """The request fields nominated by Vary, sorted and lower case; None for ``Vary: *``
    (which never matches, RFC 9111 §4.1)."""
    names: set[str] = set()
    for value in values:
        for name in value.split(","):
            name = name.strip().lower()
            if name == "*":
                return None
            if name:
                names.add(name)
    return tuple(sorted(names))


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
    tag = etag.strip()
    tag = tag[2:] if tag.startswith("W/") else tag
    return bool(etags.contains_weak(tag.strip('"')))


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


def _opaque_tag(etag: str) -> tuple[str, bool]:
    """An entity tag's opaque part and whether it is weak (RFC 9110 §8.8.3)."""
    etag = etag.strip()
    weak = etag[:2] in ("W/", "w/")
    return (etag[2:] if weak else etag).strip(), weak


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
        tag, weak = _opaque_tag(new_etag)
        if stored_etag:
            stored_tag, stored_weak = _opaque_tag(stored_etag)
            return stored_tag == tag and (weak or not stored_weak)
        if not weak:
            return False
    if new_last_modified:
        new_date = http_timestamp(new_last_modified)
        return new_date is not None and new_date == http_timestamp(stored_last_modified)
    return not new_etag


def is_no_cache(directives: Mapping[str, str | None]) -> bool:
    """An unqualified ``no-cache``: the stored response must be validated before every reuse
    (RFC 9111 §5.2.2.4); a qualified one only strips the fields it names."""
    return "no-cache" in directives and not directives["no-cache"]


_INTEGER_DIRECTIVES = frozenset(
    {"max-age", "s-maxage", "stale-while-revalidate", "stale-if-error", "min-fresh"}
)
_SF_KEY = r"[a-z*][a-z0-9_\-.*]*"
_SF_BARE_ITEM = (
    r'(?:-?\d{1,12}\.\d{1,3}|-?\d{1,15}|"(?:[^"\\\x00-\x1f\x7f]|\\["\\])*"'
    r"|[A-Za-z*][!#$%&'*+\-.^_`|~0-9A-Za-z:/]*|:[A-Za-z0-9+/=]*:|\?[01])"
)
_SF_PARAMS = rf"(?:;[ ]*{_SF_KEY}(?:={_SF_BARE_ITEM})?)*"
_SF_MEMBER = re.compile(rf"({_SF_KEY})(?:=({_SF_BARE_ITEM}))?{_SF_PARAMS}")


def parse_targeted_field(value: str) -> Directives | None:
    """The directives of a targeted cache-control field such as ``CDN-Cache-Control``: a
    Structured Field Dictionary (RFC 9213 §2.1, RFC 8941 §3.2); None when it is not a valid
    one, so that the field is ignored.

    Written here because Werkzeug has no Structured Fields parser.
    """
    directives: Directives = {}
    position, text = 0, value.strip(" \t")
    if not text:
        return None
    while True:
        match = _SF_MEMBER.match(text, position)
        if match is None:
            return None
        name, item = match.group(1), match.group(2)
        if item is None or item == "?1":
            directives[name] = None
        elif item == "?0":
            directives.pop(name, None)
        elif item.startswith('"'):
            if name not in _INTEGER_DIRECTIVES:  # a string where an integer is due: ignored
                directives[name] = item[1:-1].replace('\\"', '"').replace("\\\\", "\\")
        else:
            directives[name] = item
        position = match.end()
        rest = text[position:].lstrip(" \t")
        if not rest:
            return directives
        if not rest.startswith(","):
            return None
        position = len(text) - len(rest) + 1
        while position < len(text) and text[position] in " \t":
            position += 1
        if position == len(text):
            return None  # a trailing comma


def targeted_directives(
    field_values: Callable[[str], list[str]], targets: Iterable[str]
) -> Directives | None:
    """The directives of the first targeted field (in ``targets`` order) with a valid,
    non-empty value; the cache then ignores Cache-Control and Expires (RFC 9213 §2.2)."""
    for name in targets:
        values = field_values(name)
        if values:
            parsed = parse_targeted_field(", ".join(values))
            if parsed:
                return parsed
    return None
