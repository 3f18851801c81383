"""Unit tests of the pure RFC rules, named by section."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from werkzeug.http import http_date

from flask_httpcache import StoredResponse, rules

from .helpers import START

LM = "Wed, 01 Jan 2020 00:00:00 GMT"


def test_s5_2_directive_names_are_case_insensitive_and_arguments_unquoted() -> None:
    directives, duplicated = rules.parse_directives('Max-Age=5, PRIVATE="a, b", foo')
    assert directives == {"max-age": "5", "private": "a, b", "foo": None}
    assert duplicated == frozenset()


def test_s4_2_1_duplicated_max_age_means_stale() -> None:
    directives, duplicated = rules.parse_directives("max-age=60, max-age=30")
    assert rules.freshness_lifetime(directives, duplicated, None, START, False) == 0


def test_s4_2_1_invalid_max_age_means_stale() -> None:
    directives, duplicated = rules.parse_directives("max-age=abc")
    assert rules.freshness_lifetime(directives, duplicated, None, START, False) == 0


def test_s4_2_1_s_maxage_wins_over_max_age_and_expires() -> None:
    directives, dup = rules.parse_directives("max-age=10, s-maxage=20")
    expires = http_date(START + 99)
    assert rules.freshness_lifetime(directives, dup, expires, START, True) == 20
    directives, dup = rules.parse_directives("max-age=10")
    assert rules.freshness_lifetime(directives, dup, expires, START, True) == 10


def test_s4_2_1_expires_minus_date() -> None:
    assert rules.freshness_lifetime({}, frozenset(), http_date(START + 30), START, True) == 30


def test_s5_3_invalid_expires_means_already_expired() -> None:
    assert rules.freshness_lifetime({}, frozenset(), "0", START, True) == 0


def test_s4_2_1_no_explicit_freshness() -> None:
    assert rules.freshness_lifetime({}, frozenset(), None, START, False) is None


def test_s4_2_2_heuristic_is_ten_percent_of_date_minus_last_modified() -> None:
    assert rules.heuristic_freshness(200, START, http_date(START - 1000), 0.1, 10**6) == 100
    assert rules.heuristic_freshness(200, START, http_date(START - 1000), 0.5, 10**6) == 100
    assert rules.heuristic_freshness(500, START, http_date(START - 1000), 0.1, 10**6) == 0
    assert rules.heuristic_freshness(200, START, None, 0.1, 10**6) == 0


def test_s4_2_3_current_age() -> None:
    # apparent age 5 (response_time - date); Age 10 + delay 2 = 12 wins; resident 3
    assert rules.current_age(START - 5, 10, START - 2, START, START + 3) == 15


@given(
    date=st.floats(-1e4, 1e4),
    age=st.integers(0, 10**6),
    delay=st.floats(0, 100),
    resident=st.floats(-10, 1e5),
)
def test_s4_2_3_a_stored_response_computes_the_same_current_age(
    date: float, age: int, delay: float, resident: float
) -> None:
    """``StoredResponse.current_age`` (inlined for the hit path) agrees with the rule."""
    response_time = START
    entry = StoredResponse(200, [], b"", START - delay, response_time, START + date, age, 60, {})
    now = START + resident
    expected = rules.current_age(START + date, age, START - delay, response_time, now)
    assert entry.current_age(now) == pytest.approx(expected, rel=0, abs=1e-6)


def test_s5_1_age_takes_the_first_value_and_ignores_invalid() -> None:
    assert rules.age_value(["30, 40"]) == 30
    assert rules.age_value(["abc"]) == 0
    assert rules.age_value(["-5"]) == 0
    assert rules.age_value([]) == 0


def test_s1_2_2_delta_seconds_caps_huge_values() -> None:
    assert rules.delta_seconds("9" * 30) == 2**31
    assert rules.delta_seconds("1.5") is None


def test_s4_1_vary_values_normalised_absent_differs_from_empty() -> None:
    normal = rules.normalize_field_value
    assert normal("Accept-Encoding", " GZIP,  br ") == normal("accept-encoding", "gzip,br")
    assert normal("accept-encoding", None) != normal("accept-encoding", "")


def test_s4_1_vary_values_of_unknown_fields_compare_byte_for_byte() -> None:
    normal = rules.normalize_field_value
    assert normal("X-Api-Key", "SECRETALICE") != normal("X-Api-Key", "SecretAlice")
    assert normal("Cookie", "s=AbC") != normal("Cookie", "s=abc")
    assert normal("X-Api-Key", "Secret Alice") != normal("X-Api-Key", "SecretAlice")
    assert normal("X-Api-Key", "a,,b") != normal("X-Api-Key", "a,b")
    assert normal("X-Api-Key", " \tkey\t ") == "key"  # RFC 9110 §5.5: no surrounding OWS
    # the whitespace around commas is how servers join field lines: never significant
    assert normal("Foo", " 1, 2 ") == normal("Foo", "1,2")


def test_s4_1_list_fields_are_compared_by_element_and_keep_case_where_it_counts() -> None:
    normal = rules.normalize_field_value
    assert normal("Accept", "text/html,  application/json,") == "text/html, application/json"
    assert normal("Accept", "text/html;level=A") != normal("Accept", "text/html;level=a")
    assert normal("Accept-Language", "EN-us, fr") == normal("accept-language", "en-US,fr")
    assert normal("If-None-Match", '"a,b" , "c"') == '"a,b", "c"'


def test_s4_1_vary_star_never_matches() -> None:
    assert rules.vary_names(["Accept, *"]) is None
    assert rules.vary_names(["Accept-Encoding, accept"]) == ("accept", "accept-encoding")


def test_s3_1_unstored_fields_include_connection_and_qualified_directives() -> None:
    names = rules.unstored_fields({"no-cache": "X-A", "private": "X-B"}, "X-C, close")
    assert {"x-a", "x-b", "x-c", "connection", "proxy-authenticate"} <= names


def test_s3_must_understand_overrides_no_store_for_understood_status() -> None:
    assert not rules.forbids_storing({"must-understand": None, "no-store": None}, 200)
    assert rules.forbids_storing({"must-understand": None, "no-store": None}, 299)
    assert rules.forbids_storing({"private": None}, 200)
    assert not rules.forbids_storing({"private": "X-A"}, 200)


def test_rfc9110_s13_2_2_precondition_order() -> None:
    headers = {"If-Match": '"b"', "If-None-Match": '"a"'}
    assert rules.precondition_outcome("GET", headers.get, '"a"', None) == 412
    headers = {"If-None-Match": 'W/"a"'}
    assert rules.precondition_outcome("GET", headers.get, '"a"', None) == 304
    assert rules.precondition_outcome("PUT", headers.get, '"a"', None) == 412
    headers = {"If-Modified-Since": http_date(START)}
    assert rules.precondition_outcome("GET", headers.get, None, START - 1) == 304
    assert rules.precondition_outcome("GET", headers.get, None, START + 1) is None
    headers = {"If-Unmodified-Since": http_date(START)}
    assert rules.precondition_outcome("GET", headers.get, None, START + 1) == 412


def test_rfc9110_s13_1_1_if_match_is_strong() -> None:
    assert not rules.etag_matches_strongly('W/"a"', 'W/"a"')
    assert rules.etag_matches_strongly("*", '"a"')
    assert not rules.etag_matches_strongly("*", None)


def test_rfc9110_s5_6_7_http_date_formats_strictly() -> None:
    fixdate = rules.strict_http_date("Thu, 18 Aug 2050 02:01:18 GMT")
    assert fixdate is not None
    assert rules.strict_http_date("Thursday, 18-Aug-50 02:01:18 GMT") == fixdate
    assert rules.strict_http_date("Thu Aug 18 02:01:18 2050") == fixdate
    assert rules.strict_http_date("THU, 18 AUG 2050 02:01:18 gmt") == fixdate
    for invalid in (
        "Thu, 18 Aug 2050 02:01:18 UTC",
        "Thu, 18 Aug 2050 02:01:18 AEST",
        "Thu, 18 Aug 50 02:01:18 GMT",
        "Thu 18 Aug 2050 02:01:18 GMT",
        "Thu, 18  Aug  2050 02:01:18 GMT",
        "Thu, 18-Aug-2050 02:01:18 GMT",
        "Thu, 18 Aug 2050 02.01.18 GMT",
        "Thu, 18 Aug 2050 2:01:18 GMT",
        "Thu, 31 Feb 2050 02:01:18 GMT",
        "0",
    ):
        assert rules.strict_http_date(invalid) is None, invalid


def test_rfc9213_targeted_field_is_a_structured_dictionary() -> None:
    assert rules.parse_targeted_field("max-age=60, private") == {"max-age": "60", "private": None}
    assert rules.parse_targeted_field("max-age=10000, &&&&&") is None
    assert rules.parse_targeted_field("Max-Age=5") is None
    assert rules.parse_targeted_field("max-age=5,") is None
    assert rules.parse_targeted_field('max-age="5"') == {}
    assert rules.parse_targeted_field("no-store=?0, public=?1") == {"public": None}


@pytest.mark.parametrize(
    ("stored_etag", "stored_modified", "new_etag", "new_modified", "selected"),
    [
        ('"a"', None, '"a"', None, True),
        ('"a"', None, '"b"', None, False),
        ('W/"a"', None, '"a"', None, False),  # a strong validator never matches a weak one
        ('"a"', None, 'W/"a"', None, True),
        ('W/"a"', None, 'W/"b"', None, False),
        ('"a"', LM, '"b"', LM, False),  # the strong ETag decides first
        (None, LM, None, LM, True),
        (None, LM, None, "Sun, 06 Nov 1994 08:49:38 GMT", False),
        (None, LM, 'W/"x"', LM, True),  # no stored ETag: Last-Modified decides
        ('"a"', LM, None, None, True),  # no validator in the 304: the one validated
        (None, None, '"a"', None, False),
    ],
)
def test_s4_3_4_validation_selects(
    stored_etag: str | None,
    stored_modified: str | None,
    new_etag: str | None,
    new_modified: str | None,
    selected: bool,
) -> None:
    assert (
        rules.validation_selects(stored_etag, stored_modified, new_etag, new_modified) is selected
    )


def test_rfc9110_s5_5_etag_lists_are_parsed_without_surrounding_whitespace() -> None:
    """Werkzeug 3.1.8's parse_etags never returns for a value ending in a line feed."""
    assert rules.etag_matches_weakly('"x"\n', '"x"')
    assert rules.etag_matches_strongly('"x"\n', '"x"')
    assert not rules.etag_matches_weakly("x\n", '"y"')
