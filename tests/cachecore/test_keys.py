"""Stable keys: the same in every process, never from memory addresses, bounded in length."""

from __future__ import annotations

import dataclasses
import datetime
import enum
import os
import subprocess
import sys
import textwrap

import pytest

from flask_cachecore import (
    KeyNamespace,
    UnkeyableError,
    args_token,
    canonical_query,
    fit_key,
    function_key,
    hash_tag,
    request_key,
    stable_repr,
)
from flask_cachecore.keys import MEMCACHED_KEY_LIMIT


class Color(enum.Enum):
    RED = 1


@dataclasses.dataclass
class Point:
    x: int
    y: int


class User:
    def __init__(self, user_id: int) -> None:
        self.user_id = user_id

    def __cache_key__(self) -> object:
        return self.user_id


class Opaque:
    pass


def sample(a: object, b: object = None) -> None:
    pass


def test_dict_and_set_order_do_not_change_the_key() -> None:
    assert stable_repr({"a": 1, "b": 2}) == stable_repr({"b": 2, "a": 1})
    assert stable_repr({3, 1, 2}) == stable_repr({2, 3, 1}) == "set{1, 2, 3}"


def test_types_are_kept_apart() -> None:
    reprs = [stable_repr(v) for v in (1, "1", 1.0, True, b"1", (1,), [1], {1}, None)]
    assert len(set(reprs)) == len(reprs)


def test_str_subclass_differs_from_str() -> None:
    class Name(str):
        pass

    assert stable_repr(Name("a")) != stable_repr("a")


def test_enum_dataclass_date_and_cache_key_objects() -> None:
    assert stable_repr(Color.RED).endswith("Color.RED")
    assert stable_repr(Point(1, 2)) == stable_repr(Point(1, 2)) != stable_repr(Point(2, 1))
    assert stable_repr(datetime.date(2024, 1, 2)) == "datetime.date(2024, 1, 2)"
    assert stable_repr(User(7)) == stable_repr(User(7)) != stable_repr(User(8))


def test_object_known_only_by_address_is_refused_with_advice() -> None:
    with pytest.raises(UnkeyableError, match="__cache_key__"):
        stable_repr(Opaque())


def test_functions_and_classes_key_by_qualified_name() -> None:
    assert stable_repr(sample).endswith("test_keys.sample")
    assert stable_repr(Opaque).endswith("test_keys.Opaque")


def test_args_token_sorts_keywords_and_separates_positional() -> None:
    assert args_token((1,), {"b": 2, "a": 1}) == args_token((1,), {"a": 1, "b": 2})
    assert args_token((1, 2), {}) != args_token((1,), {"b": 2})


def test_function_key_names_the_function_and_differs_by_argument() -> None:
    key = function_key(sample, (1,), {})
    assert key.startswith(f"{sample.__module__}.sample:")
    assert key != function_key(sample, (2,), {})
    assert "0x" not in key


SCRIPT = textwrap.dedent(
    """
    import datetime, sys
    from flask_cachecore import function_key, request_key, stable_repr
    def f(): pass
    value = ({"x", "y", "z"}, {"b": frozenset({1, 2}), "a": [1.5, None]}, datetime.date(2020, 1, 1))
    print(stable_repr(value))
    print(function_key(f, (value,), {"k": {"q", "r"}}))
    print(request_key("GET", "https", "Example.org", "/p", "b=1&a=2"))
    """
)


def test_same_keys_in_two_processes_with_different_hash_seeds() -> None:
    outputs = []
    for seed in ("1", "4242"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        result = subprocess.run(
            [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, check=True
        )
        outputs.append(result.stdout)
    assert outputs[0] == outputs[1]
    assert outputs[0].count("\n") == 3


def test_canonical_query_sorts_names_but_keeps_value_order() -> None:
    assert canonical_query("b=2&a=1&b=1") == "a=1&b=2&b=1"
    assert canonical_query("a=%7e") == canonical_query("a=~")
    assert canonical_query(b"x=1&y") == "x=1&y="


def test_request_key_normalises_method_scheme_host_and_default_port() -> None:
    a = request_key("get", "HTTP", "Example.COM:80", "/p", "y=1&x=2")
    b = request_key("GET", "http", "example.com", "/p", "x=2&y=1")
    assert a == b == "GET http://example.com/p?x=2&y=1"
    assert request_key("GET", "https", "example.com:8443", "/p") == "GET https://example.com:8443/p"


def test_request_key_keeps_method_host_scheme_and_path_apart() -> None:
    keys = {
        request_key("GET", "http", "a", "/p"),
        request_key("HEAD", "http", "a", "/p"),
        request_key("GET", "https", "a", "/p"),
        request_key("GET", "http", "b", "/p"),
        request_key("GET", "http", "a", "/q"),
    }
    assert len(keys) == 5


def test_fit_key_leaves_short_safe_keys_alone() -> None:
    assert fit_key("view:/a?b=1") == "view:/a?b=1"


@pytest.mark.parametrize("key", ["x" * 400, "has space", "uni\u00e9code", "tab\there", "nl\n"])
def test_fit_key_bounds_and_cleans_keys_for_memcached(key: str) -> None:
    fitted = fit_key(key)
    assert len(fitted.encode()) <= MEMCACHED_KEY_LIMIT
    assert all(33 <= ord(c) <= 126 for c in fitted)
    assert fit_key(key) == fitted


def test_fit_key_keeps_two_long_keys_apart() -> None:
    assert fit_key("x" * 300 + "a") != fit_key("x" * 300 + "b")


def test_namespaces_keep_extensions_apart() -> None:
    assert KeyNamespace("viewcache").key("a") != KeyNamespace("httpcache").key("a")
    with pytest.raises(ValueError, match="namespace"):
        KeyNamespace("bad:name")


def test_hash_tag_wraps_and_cleans() -> None:
    assert hash_tag("fn") == "{fn}"
    assert hash_tag("a{b}") == "{a(b)}"
