"""Fuzz (hypothesis, derandomized: the same examples on every run) of every header parser
and key builder of flask-httpcache (``rules``, ``target``, the store's keys) and of
flask-cachecore's ``keys``: any text gives a value or one of the documented errors, never
another exception; and the key builders keep apart what the app tells apart."""

from __future__ import annotations

import string
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flask_cachecore import MemoryCache, keys
from flask_cachecore.errors import UnkeyableError
from flask_httpcache import Store, rules, target

FUZZ = settings(
    max_examples=200,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
#: any text, header-like text (printable ASCII and obs-text) and WSGI strings (latin-1)
text = st.text(max_size=80)
header_text = st.text(
    alphabet=st.sampled_from(string.printable + "\x00\x7f\x80\xa0\xe9\xff"), max_size=80
)
wsgi = st.text(alphabet=st.characters(max_codepoint=0xFF), max_size=60)
maybe = st.none() | header_text


@FUZZ
@given(value=maybe, name=header_text)
def test_cache_control_and_list_parsers_take_any_text(value: str | None, name: str) -> None:
    directives, duplicated = rules.parse_directives(value)
    assert all(isinstance(k, str) for k in directives)
    assert duplicated <= set(directives)
    normal = rules.normalize_field_value(name, value)
    assert (normal is None) == (value is None)
    names = rules.vary_names([value or ""])
    assert names is None or all(n == n.strip().lower() and n for n in names)
    rules.unstored_fields(directives, value)
    rules.forbids_storing(directives, 200)
    rules.forbids_serving_stale(directives)
    rules.is_no_cache(directives)


@FUZZ
@given(value=maybe, other=maybe, date=st.floats(allow_nan=False, allow_infinity=False))
def test_date_age_and_freshness_parsers_take_any_text(
    value: str | None, other: str | None, date: float
) -> None:
    rules.delta_seconds(value)
    rules.http_timestamp(value)
    if value is not None:
        rules.strict_http_date(value)
    assert rules.age_value([value] if value is not None else []) >= 0
    directives, duplicated = rules.parse_directives(other)
    date = max(min(date, 2.0**40), -(2.0**40))
    lifetime = rules.freshness_lifetime(directives, duplicated, value, date, value is not None)
    assert lifetime is None or lifetime >= 0
    assert rules.heuristic_freshness(200, date, value, 0.1, 86400) >= 0


@FUZZ
@given(header=maybe, etag=maybe, stored=maybe, modified=st.none() | st.floats(0, 2**33))
def test_validator_parsers_take_any_text(
    header: str | None, etag: str | None, stored: str | None, modified: float | None
) -> None:
    rules.etag_matches_weakly(header, etag)
    rules.etag_matches_strongly(header, etag)
    rules.not_modified_since(header, modified)
    rules.unmodified_since_fails(header, modified)
    rules.validation_selects(stored, header, etag, stored)
    fields = {"If-Match": header, "If-None-Match": etag, "If-Modified-Since": stored}
    outcome = rules.precondition_outcome("GET", fields.get, etag, modified)
    assert outcome in (None, 304, 412)


@FUZZ
@given(value=header_text)
def test_structured_field_parser_takes_any_text(value: str) -> None:
    parsed = rules.parse_targeted_field(value)
    assert parsed is None or isinstance(parsed, dict)
    assert rules.targeted_directives(lambda name: [value], ["CDN-Cache-Control"]) in (None, parsed)


@FUZZ
@given(host=header_text, scheme=st.sampled_from(["http", "https", "ftp"]), allowed=st.lists(text))
def test_host_parsers_take_any_text(host: str, scheme: str, allowed: list[str]) -> None:
    parts = target.split_host(host)
    key = target.key_host(scheme, host)
    assert (parts is None) == (key is None)
    if key is not None:
        # a valid host never brings a character that separates the parts of a key
        assert not set(key) & set("/?#@|^% \t\r\n\x00")
        target.host_is_allowed(target.host_name(key), allowed)


@FUZZ
@given(script=wsgi, path=wsgi, other_script=wsgi, other_path=wsgi)
def test_key_path_keeps_apart_what_the_app_sees_apart(
    script: str, path: str, other_script: str, other_path: str
) -> None:
    one = target.key_path(script, path)
    assert one.isascii()
    assert not set(one) & set("?#| \x00")
    if (script, path) != (other_script, other_path):
        assert one != target.key_path(other_script, other_path)


@FUZZ
@given(query=wsgi, other=wsgi)
def test_key_query_gives_ascii_and_keeps_raw_bytes_apart_from_escapes(
    query: str, other: str
) -> None:
    encoded = target.key_query(query)
    assert encoded.isascii()
    canonical = keys.canonical_query(encoded)
    assert canonical.isascii()
    if keys.canonical_query(target.key_query(other)) == canonical:
        # the same canonical query: the same pairs of bytes to the app (order aside)
        from urllib.parse import parse_qsl

        def pairs(q: str) -> list[tuple[bytes, bytes]]:
            raw = target.key_query(q)
            decoded = parse_qsl(raw, keep_blank_values=True, errors="surrogateescape")
            return sorted(
                (k.encode("utf-8", "surrogateescape"), v.encode("utf-8", "surrogateescape"))
                for k, v in decoded
            )

        assert pairs(query) == pairs(other)


environ_values = st.fixed_dictionaries(
    {},
    optional={
        "wsgi.url_scheme": header_text,
        "HTTP_HOST": header_text,
        "SERVER_NAME": header_text,
        "SERVER_PORT": header_text,
        "SCRIPT_NAME": wsgi,
        "PATH_INFO": wsgi,
        "QUERY_STRING": wsgi,
    },
)


@FUZZ
@given(environ=environ_values, url=header_text, root=wsgi)
def test_store_keys_take_any_environ_and_url(environ: dict[str, Any], url: str, root: str) -> None:
    from flask_httpcache.environ import environ_uri_key

    store = Store(MemoryCache())
    key = environ_uri_key(store, environ)
    assert key is None or len(key) <= keys.MEMCACHED_KEY_LIMIT
    url_key = store.url_key(url, root)
    assert url_key is None or url_key.startswith("httpcache:")
    store.variant_digest([environ.get("HTTP_HOST"), None, ""])


@FUZZ
@given(
    method=text,
    scheme=text,
    host=text,
    path=text,
    query=text | st.binary(max_size=40),
    name=text,
)
def test_cachecore_key_builders_take_any_text(
    method: str, scheme: str, host: str, path: str, query: str | bytes, name: str
) -> None:
    assert keys.canonical_query(query).isascii()
    keys.canonical_host(scheme, host)
    key = keys.request_key(method, scheme, host, path, query)
    assert keys.fit_key(key) == keys.fit_key(key)
    assert len(keys.fit_key(key)) <= keys.MEMCACHED_KEY_LIMIT
    keys.digest(key)
    keys.hash_tag(name)
    try:
        namespace = keys.KeyNamespace(name)
    except ValueError:
        assert not name or ":" in name
    else:
        assert len(namespace.key(key, path)) <= keys.MEMCACHED_KEY_LIMIT


values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | text | st.binary(max_size=20),
    lambda children: (
        st.lists(children, max_size=4)
        | st.tuples(children, children)
        | st.dictionaries(text, children, max_size=4)
        | st.frozensets(st.integers() | text, max_size=4)
    ),
    max_leaves=8,
)


@settings(FUZZ, max_examples=80)
@given(args=st.lists(values, max_size=4), kwargs=st.dictionaries(st.text(max_size=8), values))
def test_cachecore_stable_repr_takes_any_plain_value(
    args: list[object], kwargs: dict[str, object]
) -> None:
    token = keys.args_token(args, kwargs)
    assert token == keys.args_token(list(args), dict(kwargs))
    keys.function_key(test_cachecore_stable_repr_takes_any_plain_value, args, kwargs)


def test_cachecore_stable_repr_raises_only_the_documented_error() -> None:
    with pytest.raises(UnkeyableError):
        keys.stable_repr(object())
