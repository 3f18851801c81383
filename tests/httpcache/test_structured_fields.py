"""The Structured Field Dictionary parser behind ``CDN-Cache-Control`` (RFC 9213 §2.1,
RFC 9651 §4.2.2), case by case through the grammar. These cases are written here; the parser
was also run against every dictionary, parameter and item vector of
httpwg/structured-field-tests (1266 of 1267 agree; the one left is the item ``a,a``, invalid
alone but a valid dictionary once put after ``k=``)."""

from __future__ import annotations

import pytest

from flask_httpcache import rules
from flask_httpcache.rules.targeted import parse_dictionary

VALID = [
    # members, values, order, duplicates
    ("a=1", {"a": ("number", "1")}),
    ("a, b;x=1, c=?1", {"a": ("boolean", True), "b": ("boolean", True), "c": ("boolean", True)}),
    ("a=1,b=2,a=3", {"a": ("number", "3"), "b": ("number", "2")}),
    ("z, m", {"z": ("boolean", True), "m": ("boolean", True)}),
    ("*a=1, a*.-_9=2", {"*a": ("number", "1"), "a*.-_9": ("number", "2")}),
    # whitespace: SP around the whole, SP or HTAB around commas
    ("   a=1 ,  b=2   ", {"a": ("number", "1"), "b": ("number", "2")}),
    ("a=1\t,\tb=2", {"a": ("number", "1"), "b": ("number", "2")}),
    ("a=1\t", {"a": ("number", "1")}),  # OWS after a member is dropped, HTAB too
    # inner lists, with and without members and parameters
    ("a=(1 2), b=3", {"a": ("inner-list", None), "b": ("number", "3")}),
    ("a=(), b=( 1  x;y=2 );w", {"a": ("inner-list", None), "b": ("inner-list", None)}),
    ('a=();p=1, b=("s" :YQ==:);q', {"a": ("inner-list", None), "b": ("inner-list", None)}),
    # parameters on items, with SP after the semicolon
    ("a=1; q=0.5;r, b", {"a": ("number", "1"), "b": ("boolean", True)}),
    # every kind of bare item
    ("a=-42, b=3.142, c=123456789012345", {"b": ("number", "3.142")}),
    ('a="x \\"y\\" \\\\z"', {"a": ("string", 'x "y" \\z')}),
    ("a=foo/bar:baz!#$%&'*+-.^_`|~, b=*t", {"a": ("token", "foo/bar:baz!#$%&'*+-.^_`|~")}),
    ("a=:aGVsbG8=:, b=::", {"a": ("byte-sequence", ":aGVsbG8=:")}),
    ("a=?0, b=?1", {"a": ("boolean", False), "b": ("boolean", True)}),
    ("a=@1659578233, b=@-1", {"a": ("date", "@1659578233")}),
    ('a=%"f%c3%bc"', {"a": ("display-string", '%"f%c3%bc"')}),
]

INVALID = [
    "a =1",  # SP before "="
    "a= 1",  # SP after "="
    "a=1,",  # trailing comma
    "a=1,,b=2",  # empty member
    "A=1",  # upper case key
    "1a=1",  # key starting with a digit
    "a=1 b=2",  # no comma
    "\ta=1",  # HTAB is not stripped before the whole field (only SP)
    "a=(1 2",  # unterminated inner list
    "a=(1,2)",  # inner list members are separated by SP
    'a="unterminated',
    'a="\\x"',  # only \" and \\ are escapes
    'a="tab\there"',
    "a=1234567890123456",  # 16 digits
    "a=1234567890123.1",  # 13 digits before the point
    "a=1.1234",  # 4 after it
    "a=1.",
    "a=--1",
    "a=?2",
    "a=:aGVsbG8",  # unterminated byte sequence
    "a=:a=GVsbG8=:",  # padding inside
    "a=@1.5",  # a date is an integer
    'a=%"f%C3%BC"',  # upper case escape
    'a=%"%c3"',  # not UTF-8
    "a=ü",
    "a=1;",  # parameter without key
    "max-age=10000, &&&&&",
]


@pytest.mark.parametrize(("text", "expected"), VALID)
def test_rfc9651_valid_dictionaries_are_read(
    text: str, expected: dict[str, tuple[str, object]]
) -> None:
    members = parse_dictionary(text)
    assert {name: members[name] for name in expected} == expected


@pytest.mark.parametrize("text", INVALID)
def test_rfc9651_invalid_dictionaries_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r".*"):
        parse_dictionary(text)
    assert rules.parse_targeted_field(text) is None


def test_rfc9213_a_dictionary_with_an_inner_list_is_valid_and_the_list_ignored() -> None:
    """0.1's regex refused every dictionary with an Inner List, so the whole field was
    ignored and Cache-Control applied instead."""
    assert rules.parse_targeted_field("foo=(a b), max-age=60") == {"max-age": "60"}


def test_rfc9213_directive_values_by_kind() -> None:
    parsed = rules.parse_targeted_field('max-age="60", private="x", no-store=?0, public=?1, s=1.5')
    # a String where an integer is due is ignored; a Boolean false is no directive
    assert parsed == {"private": "x", "public": None, "s": "1.5"}
    assert rules.parse_targeted_field("") is None
