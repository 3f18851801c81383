"""Targeted cache-control fields such as ``CDN-Cache-Control`` (RFC 9213)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from .fields import Directives

_INTEGER_DIRECTIVES = frozenset(
    {"max-age", "s-maxage", "stale-while-revalidate", "stale-if-error", "min-fresh"}
)
_LCALPHA = frozenset("abcdefghijklmnopqrstuvwxyz")
_DIGITS = frozenset("0123456789")
_ALPHA = _LCALPHA | frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_KEY_FIRST = _LCALPHA | {"*"}
_KEY_CHARS = _LCALPHA | _DIGITS | frozenset("_-.*")
#: tchar (RFC 9110 §5.6.2) plus ":" and "/" (RFC 9651 §3.3.4)
_TOKEN_CHARS = _ALPHA | _DIGITS | frozenset("!#$%&'*+-.^_`|~:/")
_BASE64 = re.compile(r"[A-Za-z0-9+/]*={0,2}")
_HEX = frozenset("0123456789abcdef")


#: a bare item's kind and value, as :class:`_Reader` reads it
Item = tuple[str, str | bool | None]


class StructuredFieldError(ValueError):
    """The text is not a Structured Field of the expected type."""


class _Reader:
    """The text of a Structured Field and a position in it, read by RFC 9651 §4.2's
    algorithms. A bare item comes back as an :data:`Item`: its kind and its text (a String
    unescaped, a Boolean as True or False); an Inner List as ``("inner-list", None)``."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.at = 0

    def peek(self) -> str:
        return self.text[self.at : self.at + 1]

    def skip(self, chars: str) -> None:
        while self.peek() and self.peek() in chars:
            self.at += 1

    def key(self) -> str:
        """§4.2.3.3: lcalpha or "*", then lcalpha, DIGIT, "_", "-", ".", "*"."""
        start = self.at
        if self.peek() not in _KEY_FIRST or not self.peek():
            raise StructuredFieldError("key")
        while self.peek() and self.peek() in _KEY_CHARS:
            self.at += 1
        return self.text[start : self.at]

    def parameters(self) -> None:
        """§4.2.3.2, read and dropped: no cache directive has parameters."""
        while self.peek() == ";":
            self.at += 1
            self.skip(" ")
            self.key()
            if self.peek() == "=":
                self.at += 1
                self.bare_item()

    def item_or_inner_list(self) -> Item:
        """§4.2.1.1; an Inner List (§4.2.1.2) is read and given as None."""
        if self.peek() != "(":
            value = self.bare_item()
            self.parameters()
            return value
        self.at += 1
        while True:
            self.skip(" ")
            if self.peek() == ")":
                self.at += 1
                self.parameters()
                return "inner-list", None
            self.bare_item()
            self.parameters()
            if self.peek() not in (" ", ")") or not self.peek():
                raise StructuredFieldError("inner list")

    def bare_item(self) -> Item:
        """§4.2.3.1: Integer or Decimal, String, Token, Byte Sequence, Boolean, Date,
        Display String."""
        first = self.peek()
        if first == "-" or (first and first in _DIGITS):
            return "number", self.number()
        if first == '"':
            return "string", self.string()
        if first == "*" or (first and first in _ALPHA):
            start = self.at
            self.at += 1
            while self.peek() and self.peek() in _TOKEN_CHARS:
                self.at += 1
            return "token", self.text[start : self.at]
        if first == ":":
            end = self.text.find(":", self.at + 1)
            if end < 0 or not _BASE64.fullmatch(self.text, self.at + 1, end):
                raise StructuredFieldError("byte sequence")
            value = self.text[self.at : end + 1]
            self.at = end + 1
            return "byte-sequence", value
        if first == "?":
            flag = self.text[self.at + 1 : self.at + 2]
            if flag not in ("0", "1"):
                raise StructuredFieldError("boolean")
            self.at += 2
            return "boolean", flag == "1"
        if first == "@":
            start = self.at
            self.at += 1
            if "." in self.number():
                raise StructuredFieldError("date")
            return "date", self.text[start : self.at]
        if first == "%":
            return "display-string", self.display_string()
        raise StructuredFieldError("bare item")

    def number(self) -> str:
        """§4.2.4: at most 15 digits, or 12 before and 1 to 3 after a ".", with a sign."""
        start = self.at
        if self.peek() == "-":
            self.at += 1
        digits_start = self.at
        while self.peek() and self.peek() in _DIGITS | {"."}:
            self.at += 1
        number = self.text[digits_start : self.at]
        whole, dot, fraction = number.partition(".")
        if (
            not whole
            or "." in fraction
            or (not dot and len(whole) > 15)
            or (dot and (len(whole) > 12 or not 1 <= len(fraction) <= 3))
        ):
            raise StructuredFieldError("number")
        return self.text[start : self.at]

    def string(self) -> str:
        """§4.2.5: printable ASCII between quotes, only ``\\"`` and ``\\\\`` escaped."""
        chars: list[str] = []
        self.at += 1
        while True:
            char = self.peek()
            self.at += 1
            if not char:
                raise StructuredFieldError("string")
            if char == "\\":
                char = self.peek()
                self.at += 1
                if char not in ('"', "\\") or not char:
                    raise StructuredFieldError("string escape")
            elif char == '"':
                return "".join(chars)
            elif not " " <= char <= "~":
                raise StructuredFieldError("string character")
            chars.append(char)

    def display_string(self) -> str:
        """RFC 9651 §4.2.10: ``%"`` printable ASCII with ``%xx`` (lower-case hex) UTF-8
        escapes ``"``, given as its text."""
        start = self.at
        if self.text[self.at : self.at + 2] != '%"':
            raise StructuredFieldError("display string")
        self.at += 2
        octets = bytearray()
        while True:
            char = self.peek()
            self.at += 1
            if not char or not " " <= char <= "~":
                raise StructuredFieldError("display string character")
            if char == '"':
                try:
                    octets.decode("utf-8")
                except UnicodeDecodeError:
                    raise StructuredFieldError("display string encoding") from None
                return self.text[start : self.at]
            if char == "%":
                pair = self.text[self.at : self.at + 2]
                if len(pair) != 2 or not set(pair) <= _HEX:
                    raise StructuredFieldError("display string escape")
                octets.append(int(pair, 16))
                self.at += 2
            else:
                octets.extend(char.encode("ascii"))


def parse_dictionary(value: str) -> dict[str, Item]:
    """A Structured Field Dictionary (RFC 9651 §4.2.2, which RFC 8941 defined first): each
    member's bare item as :class:`_Reader` gives it, parameters dropped, the last of a
    duplicated key winning.

    Written here because Werkzeug has no Structured Fields parser; checked against the
    dictionary, parameter and item vectors of httpwg/structured-field-tests.

    :raises ValueError: when ``value`` is not one.

    >>> parse_dictionary('max-age=60, a=(1 2);x, b="?"')
    {'max-age': ('number', '60'), 'a': ('inner-list', None), 'b': ('string', '?')}
    """
    if not value.isascii():
        raise StructuredFieldError("not ASCII")
    reader = _Reader(value.strip(" "))
    members: dict[str, Item] = {}
    while reader.peek():
        name = reader.key()
        if reader.peek() == "=":
            reader.at += 1
            members[name] = reader.item_or_inner_list()
        else:
            reader.parameters()
            members[name] = "boolean", True
        reader.skip(" \t")
        if not reader.peek():
            break
        if reader.peek() != ",":
            raise StructuredFieldError("member separator")
        reader.at += 1
        reader.skip(" \t")
        if not reader.peek():
            raise StructuredFieldError("trailing comma")
    return members


def parse_targeted_field(value: str) -> Directives | None:
    """The directives of a targeted cache-control field such as ``CDN-Cache-Control``: a
    Structured Field Dictionary (RFC 9213 §2.1); None when it is not a valid one, so that
    the field is ignored.

    A Boolean true (or no value) is a directive without argument, a Boolean false is no
    directive; a String where an integer is due, or an Inner List, is ignored (RFC 9213
    §2.1: a directive of the wrong type is ignored).
    """
    try:
        members = parse_dictionary(value)
    except ValueError:
        return None
    if not members:
        return None
    directives: Directives = {}
    for name, (kind, item) in members.items():
        if item is True:
            directives[name] = None
        elif isinstance(item, str) and not (kind == "string" and name in _INTEGER_DIRECTIVES):
            directives[name] = item
    return directives


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
