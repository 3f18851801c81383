"""Serializers: round trips, integers for INCR, and signed values that are never forged."""

from __future__ import annotations

import io
import logging
import pickle

import pytest

from flask_cachecore import JSONSerializer, PickleSerializer, SignedPickleSerializer
from flask_cachecore.serializers import serializer_by_name

VALUES = [None, 0, -5, 10**20, "text", b"bytes", [1, "a"], {"k": (1, 2)}, 1.5, True]


class Exploit:
    """Unpickling this calls a function of the attacker's choice."""

    called = False

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        return (_mark_called, ())


def _mark_called() -> None:
    Exploit.called = True


@pytest.mark.parametrize("serializer", [PickleSerializer(), SignedPickleSerializer("s3cret")])
@pytest.mark.parametrize("value", VALUES)
def test_pickle_serializers_round_trip(serializer: PickleSerializer, value: object) -> None:
    assert serializer.loads(serializer.dumps(value)) == value


def test_integers_are_plain_digits_for_incr() -> None:
    for serializer in (PickleSerializer(), JSONSerializer(), SignedPickleSerializer("k")):
        assert serializer.dumps(42) == b"42"
        assert serializer.loads(b"43") == 43


def test_json_round_trip_and_refuses_garbage(caplog: pytest.LogCaptureFixture) -> None:
    serializer = JSONSerializer()
    assert serializer.loads(serializer.dumps({"a": [1, None]})) == {"a": [1, None]}
    with caplog.at_level(logging.WARNING):
        assert serializer.loads(b"{not json") is None
    assert "not valid JSON" in caplog.text


@pytest.mark.parametrize("garbage", [b"!\x00\x01garbage", b"!", b"not-a-number", b"\xff\xfe"])
def test_pickle_garbage_is_a_miss(garbage: bytes) -> None:
    assert PickleSerializer().loads(garbage) is None


def test_tampered_signed_value_is_a_miss_and_never_unpickled(
    caplog: pytest.LogCaptureFixture,
) -> None:
    serializer = SignedPickleSerializer("s3cret")
    good = serializer.dumps({"user": 1})
    forged_payload = pickle.dumps(Exploit())
    forged = good[: 1 + 32] + forged_payload  # a valid tag of another payload
    Exploit.called = False
    with caplog.at_level(logging.WARNING):
        assert serializer.loads(forged) is None
    assert Exploit.called is False
    assert "signature" in caplog.text


def test_value_signed_with_another_key_is_a_miss() -> None:
    Exploit.called = False
    evil = SignedPickleSerializer("attacker").dumps(Exploit())
    assert SignedPickleSerializer("s3cret").loads(evil) is None
    assert Exploit.called is False


def test_unsigned_pickle_in_a_signed_cache_is_a_miss_and_never_unpickled() -> None:
    Exploit.called = False
    assert SignedPickleSerializer("k").loads(PickleSerializer().dumps(Exploit())) is None
    assert Exploit.called is False


def test_signed_value_from_a_fallback_key_still_verifies() -> None:
    old = SignedPickleSerializer("old-key").dumps("kept")
    assert SignedPickleSerializer("new-key", fallback_keys=["old-key"]).loads(old) == "kept"


def test_signed_serializer_needs_a_key() -> None:
    with pytest.raises(ValueError, match="secret"):
        SignedPickleSerializer("")


def test_file_interface_for_filesystem_cache() -> None:
    serializer = SignedPickleSerializer("k")
    buffer = io.BytesIO()
    serializer.dump({"a": 1}, buffer)
    buffer.seek(0)
    assert serializer.load(buffer) == {"a": 1}


def test_serializer_by_name() -> None:
    assert isinstance(serializer_by_name("json"), JSONSerializer)
    with pytest.raises(ValueError, match="SECRET_KEY"):
        serializer_by_name("signed-pickle")
    with pytest.raises(ValueError, match="unknown serializer"):
        serializer_by_name("yaml")


def test_in_process_serializer_keeps_immutable_values_and_copies_the_rest() -> None:
    from flask_cachecore import InProcessSerializer, MemoryCache

    cache = MemoryCache(serializer=InProcessSerializer())
    frozen = ("envelope", 1, ("a", b"b"), None)
    cache.set("frozen", frozen)
    assert cache.get("frozen") is frozen  # no copy, no unpickling
    cache.set("list", [1, 2])
    cache.get("list").append(3)
    assert cache.get("list") == [1, 2]  # a mutable value is still a copy
    assert cache.inc("n") == 1  # integers stay plain for INCR


def test_in_process_serializer_trusts_only_the_types_it_is_given() -> None:
    from flask_cachecore import InProcessSerializer, MemoryCache

    class Owned:
        pass

    owned = Owned()
    cache = MemoryCache(serializer=InProcessSerializer(trusted=(Owned,)))
    cache.set("owned", owned)
    assert cache.get("owned") is owned
    cache.set("dict", {"a": 1})
    assert cache.get("dict") is not cache.get("dict")
