"""Field values and dates as HTTP defines them (RFC 9110 §5, §5.6.7; RFC 9111 §1.2.2, §4.1)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime

from werkzeug.http import parse_date

Directives = dict[str, str | None]


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
