"""Targeted cache-control fields such as ``CDN-Cache-Control`` (RFC 9213)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from .fields import Directives

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
