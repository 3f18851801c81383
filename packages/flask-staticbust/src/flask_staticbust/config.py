"""The ``STATICBUST_*`` settings: defaults, and validation at ``init_app`` time.

Every invalid value raises :class:`~flask_staticbust.errors.ConfigError` with a message of the
form ``KEY=value: reason``, so bad configuration fails when the app starts, not on a request.
"""

from __future__ import annotations

import hashlib
import importlib.util
import re
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any

from .errors import ConfigError

MODES = ("route", "symlink", "digest")
STRATEGIES = ("content", "mtime")
OLD_VERSION_ACTIONS = ("redirect", "404")
ENCODINGS = ("br", "zstd", "gzip")

DEFAULTS: dict[str, Any] = {
    "STATICBUST_MODE": "route",
    "STATICBUST_STRATEGY": "content",
    "STATICBUST_VERSION": None,
    "STATICBUST_VERSION_LENGTH": 12,
    "STATICBUST_HOST": None,
    "STATICBUST_MAX_AGE": 31536000,
    "STATICBUST_UNKNOWN_MAX_AGE": 60,
    "STATICBUST_OLD_VERSIONS": "redirect",
    "STATICBUST_PREVIOUS_VERSIONS": (),
    "STATICBUST_AUTO_RELOAD": None,
    "STATICBUST_STAMP_DIR": None,
    "STATICBUST_DIGEST_ALGORITHM": "sha256",
    "STATICBUST_DIGEST_LENGTH": 8,
    "STATICBUST_MANIFEST": "staticbust-manifest.json",
    "STATICBUST_STRICT": False,
    "STATICBUST_JS_MODULES": False,
    "STATICBUST_VITE_MANIFEST": None,
    # a stem ending in "-" or "." and 8+ letters and digits with at least one of each (Vite,
    # esbuild, our own digests)
    "STATICBUST_HASHED_PATTERN": (
        r"[.-](?=[A-Za-z0-9_]*[0-9])(?=[A-Za-z0-9_]*[A-Za-z])[A-Za-z0-9_]{8,64}$"
    ),
    "STATICBUST_PRECOMPRESSED": True,
    "STATICBUST_COMPRESS": ("br", "gzip"),
    "STATICBUST_COMPRESS_MIN_SIZE": 256,
    "STATICBUST_GZIP_LEVEL": 9,
    "STATICBUST_BROTLI_QUALITY": 11,
    "STATICBUST_WORKERS": None,
}

_VERSION_TEXT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


@dataclass(frozen=True)
class Settings:
    """The validated settings of one app (read once, in ``init_app``)."""

    mode: str
    strategy: str
    version: str | None
    version_length: int
    host: str | None
    max_age: int
    unknown_max_age: int
    old_versions: str
    previous_versions: tuple[str, ...]
    auto_reload: bool
    stamp_dir: str | bool | None
    digest_algorithm: str
    digest_length: int
    manifest: str
    strict: bool
    js_modules: bool
    vite_manifest: str | None
    hashed_pattern: re.Pattern[str]
    precompressed: bool
    compress: tuple[str, ...]
    compress_min_size: int
    gzip_level: int
    brotli_quality: int
    workers: int | None


def _bad(key: str, value: object, reason: str) -> ConfigError:
    return ConfigError(f"{key}={value!r}: {reason}")


def _choice(config: Mapping[str, Any], key: str, choices: tuple[str, ...]) -> str:
    value = config[key]
    if value not in choices:
        raise _bad(key, value, "must be one of " + ", ".join(repr(c) for c in choices))
    return str(value)


def _int(config: Mapping[str, Any], key: str, low: int, high: int) -> int:
    value = config[key]
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _bad(key, value, f"must be an integer from {low} to {high}")
    return value


def _bool(config: Mapping[str, Any], key: str) -> bool:
    value = config[key]
    if not isinstance(value, bool):
        raise _bad(key, value, "must be True or False")
    return value


def _optional_text(config: Mapping[str, Any], key: str) -> str | None:
    value = config[key]
    if value is not None and (not isinstance(value, str) or not value):
        raise _bad(key, value, "must be a non-empty string or None")
    return value


def _version_text(key: str, value: object) -> str:
    if not isinstance(value, str) or not _VERSION_TEXT.fullmatch(value):
        raise _bad(key, value, "a version is 1 to 64 letters, digits, '.', '_' or '-'")
    return value


def _host(config: Mapping[str, Any]) -> str | None:
    value = _optional_text(config, "STATICBUST_HOST")
    if value is None:
        return None
    if "://" not in value and not value.startswith("//"):
        value = "//" + value
    scheme, _, rest = value.partition("//")
    if scheme not in ("", "http:", "https:") or not rest or "/" in rest.rstrip("/"):
        raise _bad(
            "STATICBUST_HOST",
            config["STATICBUST_HOST"],
            "must be a host like cdn.example.com or https://cdn.example.com",
        )
    return value.rstrip("/")


def _encodings(config: Mapping[str, Any]) -> tuple[str, ...]:
    value = config["STATICBUST_COMPRESS"]
    if isinstance(value, str) or not all(v in ENCODINGS for v in value):
        raise _bad("STATICBUST_COMPRESS", value, "must be a list of 'br', 'zstd', 'gzip'")
    if "zstd" in value and importlib.util.find_spec("zstandard") is None:
        raise _bad(
            "STATICBUST_COMPRESS",
            value,
            "'zstd' needs the zstandard package (pip install flask-staticbust[zstd])",
        )
    return tuple(dict.fromkeys(value))


def _pattern(config: Mapping[str, Any]) -> re.Pattern[str]:
    value = config["STATICBUST_HASHED_PATTERN"]
    try:
        return re.compile(value)
    except (re.error, TypeError) as error:
        raise _bad(
            "STATICBUST_HASHED_PATTERN", value, f"not a regular expression ({error})"
        ) from None


def read_settings(config: MutableMapping[str, Any], debug: bool) -> Settings:
    """Set the defaults in ``config`` (``setdefault``), validate, and return the settings."""
    for key, value in DEFAULTS.items():
        config.setdefault(key, value)
    version = config["STATICBUST_VERSION"]
    if version is not None:
        version = _version_text("STATICBUST_VERSION", version)
    previous = config["STATICBUST_PREVIOUS_VERSIONS"]
    if isinstance(previous, str):
        raise _bad("STATICBUST_PREVIOUS_VERSIONS", previous, "must be a list of versions")
    auto_reload = config["STATICBUST_AUTO_RELOAD"]
    if auto_reload is not None and not isinstance(auto_reload, bool):
        raise _bad(
            "STATICBUST_AUTO_RELOAD", auto_reload, "must be True, False or None (follow debug)"
        )
    stamp_dir = config["STATICBUST_STAMP_DIR"]
    if (
        stamp_dir is not None
        and stamp_dir is not False
        and not (isinstance(stamp_dir, str) and stamp_dir)
    ):
        raise _bad(
            "STATICBUST_STAMP_DIR",
            stamp_dir,
            "must be a folder, False (no stamp file) or None (the instance folder)",
        )
    algorithm = config["STATICBUST_DIGEST_ALGORITHM"]
    if algorithm not in hashlib.algorithms_guaranteed or algorithm.startswith("shake"):
        raise _bad(
            "STATICBUST_DIGEST_ALGORITHM",
            algorithm,
            "must be a hashlib algorithm such as 'sha256', 'sha1', 'blake2b'",
        )
    manifest = config["STATICBUST_MANIFEST"]
    if (
        not isinstance(manifest, str)
        or not manifest
        or manifest.startswith("/")
        or ".." in manifest.split("/")
    ):
        raise _bad(
            "STATICBUST_MANIFEST", manifest, "must be a file name relative to the static folder"
        )
    workers = config["STATICBUST_WORKERS"]
    if workers is not None:
        workers = _int(config, "STATICBUST_WORKERS", 1, 256)
    return Settings(
        mode=_choice(config, "STATICBUST_MODE", MODES),
        strategy=_choice(config, "STATICBUST_STRATEGY", STRATEGIES),
        version=version,
        version_length=_int(config, "STATICBUST_VERSION_LENGTH", 6, 64),
        host=_host(config),
        max_age=_int(config, "STATICBUST_MAX_AGE", 0, 10 * 31536000),
        unknown_max_age=_int(config, "STATICBUST_UNKNOWN_MAX_AGE", 0, 31536000),
        old_versions=_choice(config, "STATICBUST_OLD_VERSIONS", OLD_VERSION_ACTIONS),
        previous_versions=tuple(_version_text("STATICBUST_PREVIOUS_VERSIONS", v) for v in previous),
        auto_reload=debug if auto_reload is None else auto_reload,
        stamp_dir=stamp_dir,
        digest_algorithm=algorithm,
        digest_length=_int(config, "STATICBUST_DIGEST_LENGTH", 6, 64),
        manifest=manifest,
        strict=_bool(config, "STATICBUST_STRICT"),
        js_modules=_bool(config, "STATICBUST_JS_MODULES"),
        vite_manifest=_optional_text(config, "STATICBUST_VITE_MANIFEST"),
        hashed_pattern=_pattern(config),
        precompressed=_bool(config, "STATICBUST_PRECOMPRESSED"),
        compress=_encodings(config),
        compress_min_size=_int(config, "STATICBUST_COMPRESS_MIN_SIZE", 0, 1 << 30),
        gzip_level=_int(config, "STATICBUST_GZIP_LEVEL", 1, 9),
        brotli_quality=_int(config, "STATICBUST_BROTLI_QUALITY", 0, 11),
        workers=workers,
    )
