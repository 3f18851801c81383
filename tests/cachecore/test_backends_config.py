"""Backends from Flask config: Flask-Caching's names and keys, and clear errors at start-up."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from cachelib import BaseCache, FileSystemCache, NullCache, SimpleCache

from flask_cachecore import (
    CacheConfigError,
    FailSafeCache,
    JSONSerializer,
    MemoryCache,
    SignedPickleSerializer,
    make_backend,
    make_cache,
)


class CustomCache(SimpleCache):
    @classmethod
    def factory(cls, app: Any, config: Any, args: list[Any], kwargs: dict[str, Any]) -> BaseCache:
        cache = cls(*args, **kwargs)
        cache.made_by_factory = True  # type: ignore[attr-defined]
        return cache


def custom_factory(app: Any, config: Any, args: list[Any], kwargs: dict[str, Any]) -> BaseCache:
    return SimpleCache(threshold=int(config["CACHE_THRESHOLD"]))


def test_default_is_a_null_cache() -> None:
    assert isinstance(make_backend({}), NullCache)


@pytest.mark.parametrize("name", ["SimpleCache", "simple", "flask_caching.backends.SimpleCache"])
def test_simple_cache_names(name: str) -> None:
    backend = make_backend({"CACHE_TYPE": name, "CACHE_THRESHOLD": 7, "CACHE_DEFAULT_TIMEOUT": 30})
    assert isinstance(backend, MemoryCache)
    assert backend.threshold == 7
    assert backend.default_timeout == 30


def test_filesystem_cache_uses_the_chosen_serializer(tmp_path: Path) -> None:
    backend = make_backend(
        {"CACHE_TYPE": "FileSystemCache", "CACHE_DIR": str(tmp_path), "CACHE_SERIALIZER": "json"}
    )
    assert isinstance(backend, FileSystemCache)
    backend.set("k", {"a": 1})
    assert backend.get("k") == {"a": 1}
    assert any(tmp_path.iterdir())


def test_filesystem_cache_needs_a_directory() -> None:
    with pytest.raises(CacheConfigError, match="CACHE_DIR"):
        make_backend({"CACHE_TYPE": "FileSystemCache"})


def test_dotted_factory_class_and_function() -> None:
    via_class = make_backend({"CACHE_TYPE": f"{__name__}.CustomCache"})
    assert via_class.made_by_factory is True  # type: ignore[attr-defined]
    via_function = make_backend({"CACHE_TYPE": f"{__name__}.custom_factory", "CACHE_THRESHOLD": 3})
    assert isinstance(via_function, SimpleCache)


def test_cachelib_class_with_args_and_options() -> None:
    backend = make_backend(
        {"CACHE_TYPE": "cachelib.SimpleCache", "CACHE_OPTIONS": {"threshold": 9}}
    )
    assert isinstance(backend, SimpleCache)
    assert backend._threshold == 9


def test_prefix_reads_another_extensions_keys() -> None:
    backend = make_backend(
        {"HTTPCACHE_TYPE": "SimpleCache", "HTTPCACHE_THRESHOLD": 4}, "HTTPCACHE_"
    )
    assert isinstance(backend, MemoryCache)
    assert backend.threshold == 4


def test_signed_serializer_takes_the_secret_key() -> None:
    backend = make_backend(
        {"CACHE_TYPE": "SimpleCache", "CACHE_SERIALIZER": "signed-pickle", "SECRET_KEY": "k"}
    )
    assert isinstance(backend, MemoryCache)
    assert isinstance(backend.serializer, SignedPickleSerializer)


def test_make_cache_wraps_in_failsafe_unless_null_or_disabled() -> None:
    assert isinstance(make_cache({"CACHE_TYPE": "SimpleCache"}), FailSafeCache)
    assert isinstance(make_cache({"CACHE_TYPE": "NullCache"}), NullCache)
    assert isinstance(
        make_cache({"CACHE_TYPE": "SimpleCache", "CACHE_FAILSAFE": False}), MemoryCache
    )


def test_json_serializer_by_instance() -> None:
    serializer = JSONSerializer()
    backend = make_backend({"CACHE_TYPE": "SimpleCache", "CACHE_SERIALIZER": serializer})
    assert backend.serializer is serializer


@pytest.mark.parametrize(
    ("config", "key", "fragment"),
    [
        ({"CACHE_TYPE": "NoSuchCache"}, "CACHE_TYPE", "not a known backend"),
        ({"CACHE_TYPE": "no.such.module.Cache"}, "CACHE_TYPE", "cannot import"),
        ({"CACHE_TYPE": "flask_cachecore.NoSuchName"}, "CACHE_TYPE", "has no 'NoSuchName'"),
        ({"CACHE_TYPE": "os.sep"}, "CACHE_TYPE", "neither"),
        ({"CACHE_TYPE": "UWSGICache"}, "CACHE_TYPE", "not supported"),
        ({"CACHE_TYPE": 42}, "CACHE_TYPE", "dotted import path"),
        (
            {"CACHE_TYPE": "RedisCache", "CACHE_REDIS_URL": "http://x"},
            "CACHE_REDIS_URL",
            "Redis URL",
        ),
        ({"CACHE_TYPE": "RedisCache", "CACHE_REDIS_PORT": "abc"}, "CACHE_REDIS_PORT", "port"),
        ({"CACHE_TYPE": "RedisClusterCache"}, "CACHE_REDIS_CLUSTER", "startup nodes"),
        (
            {"CACHE_TYPE": "RedisClusterCache", "CACHE_REDIS_CLUSTER": "h:x"},
            "CACHE_REDIS_CLUSTER",
            "host:port",
        ),
        (
            {"CACHE_TYPE": "MemcachedCache", "CACHE_MEMCACHED_SERVERS": ["nohost"]},
            "CACHE_MEMCACHED_SERVERS",
            "host:port",
        ),
        ({"CACHE_TYPE": "SimpleCache", "CACHE_THRESHOLD": "many"}, "CACHE_THRESHOLD", "number"),
        ({"CACHE_TYPE": "SimpleCache", "CACHE_THRESHOLD": 0}, "CACHE_THRESHOLD", "at least"),
        (
            {"CACHE_TYPE": "SimpleCache", "CACHE_DEFAULT_TIMEOUT": "x"},
            "CACHE_DEFAULT_TIMEOUT",
            "number",
        ),
        ({"CACHE_TYPE": "SimpleCache", "CACHE_SERIALIZER": "yaml"}, "CACHE_SERIALIZER", "unknown"),
        (
            {"CACHE_TYPE": "SimpleCache", "CACHE_SERIALIZER": "signed-pickle"},
            "CACHE_SERIALIZER",
            "SECRET_KEY",
        ),
        ({"CACHE_TYPE": "SimpleCache", "CACHE_OPTIONS": ["x"]}, "CACHE_OPTIONS", "mapping"),
        ({"CACHE_TYPE": "SimpleCache", "CACHE_OPTIONS": {"bogus": 1}}, "CACHE_TYPE", "bogus"),
    ],
)
def test_bad_configuration_names_the_key_and_value(
    config: dict[str, Any], key: str, fragment: str
) -> None:
    with pytest.raises(CacheConfigError) as info:
        make_backend(config)
    message = str(info.value)
    assert message.startswith(f"{key}=")
    assert fragment in message
    assert info.value.key == key


@pytest.mark.parametrize(
    ("backend", "module", "extra"),
    [("RedisCache", "redis", "redis"), ("MemcachedCache", "pymemcache", "memcached")],
)
def test_missing_driver_names_the_package(
    monkeypatch: pytest.MonkeyPatch, backend: str, module: str, extra: str
) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # makes `import module` fail
    with pytest.raises(CacheConfigError) as info:
        make_backend({"CACHE_TYPE": backend})
    assert str(info.value).startswith(f"CACHE_TYPE={backend!r}")
    assert f"pip install 'flask-cachecore[{extra}]'" in str(info.value)


def test_cachelib_serializer_instance_is_used_as_given() -> None:
    from cachelib.serializers import JSONSerializer as CachelibJSON

    serializer = CachelibJSON()
    backend = make_backend({"CACHE_TYPE": "SimpleCache", "CACHE_SERIALIZER": serializer})
    assert backend.serializer is serializer  # type: ignore[attr-defined]
    backend.set("k", {"n": 1})
    assert backend.get("k") == {"n": 1}


def test_cachelib_serializer_class_is_instantiated() -> None:
    from cachelib.serializers import JSONSerializer as CachelibJSON

    backend = make_backend({"CACHE_TYPE": "SimpleCache", "CACHE_SERIALIZER": CachelibJSON})
    assert isinstance(backend.serializer, CachelibJSON)  # type: ignore[attr-defined]


def test_serializer_class_that_needs_arguments_is_a_config_error() -> None:
    from cachelib.serializers import SimpleSerializer

    class NeedsProtocol(SimpleSerializer):
        def __init__(self, protocol: int) -> None:
            self.protocol = protocol

    with pytest.raises(CacheConfigError, match=r"CACHE_SERIALIZER.*no arguments"):
        make_backend({"CACHE_TYPE": "SimpleCache", "CACHE_SERIALIZER": NeedsProtocol})


def test_object_that_is_no_serializer_is_a_config_error() -> None:
    class LooksLikeOne:
        def dumps(self, value: Any) -> bytes:
            return b""

    for value in (LooksLikeOne(), LooksLikeOne):
        with pytest.raises(CacheConfigError, match=r"CACHE_SERIALIZER.*BaseSerializer"):
            make_backend({"CACHE_TYPE": "SimpleCache", "CACHE_SERIALIZER": value})


def test_imported_backend_gets_the_chosen_serializer() -> None:
    backend = make_backend({"CACHE_TYPE": "cachelib.SimpleCache", "CACHE_SERIALIZER": "json"})
    assert type(backend) is SimpleCache
    assert isinstance(backend.serializer, JSONSerializer)


def test_imported_backend_keeps_its_serializer_by_default() -> None:
    from cachelib.serializers import SimpleSerializer

    backend = make_backend({"CACHE_TYPE": "cachelib.SimpleCache", "CACHE_SERIALIZER": "pickle"})
    assert isinstance(backend.serializer, SimpleSerializer)


def test_serializer_for_a_backend_without_one_warns() -> None:
    with pytest.warns(UserWarning, match="CACHE_SERIALIZER is ignored"):
        make_backend({"CACHE_TYPE": "NullCache", "CACHE_SERIALIZER": "json"})


def test_file_hash_method_names_the_files(tmp_path: Path) -> None:
    import hashlib

    backend = make_backend(
        {
            "CACHE_TYPE": "FileSystemCache",
            "CACHE_DIR": str(tmp_path),
            "CACHE_FILE_HASH_METHOD": hashlib.md5,
        }
    )
    backend.set("k", 1)
    assert hashlib.md5(b"k").hexdigest() in {p.name for p in tmp_path.iterdir()}


def test_file_hash_method_that_is_not_callable_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(CacheConfigError, match="CACHE_FILE_HASH_METHOD"):
        make_backend(
            {
                "CACHE_TYPE": "FileSystemCache",
                "CACHE_DIR": str(tmp_path),
                "CACHE_FILE_HASH_METHOD": "md5",
            }
        )
