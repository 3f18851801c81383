"""The ``APPCACHE_*`` settings of one app, read and checked once in ``init_app``.

A bad value fails there with a message that names the key ("APPCACHE_UPDATE='sometimes': ..."),
never later in a request.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

DEFAULTS: dict[str, Any] = {
    "APPCACHE_URL": "/manifest.appcache",
    "APPCACHE_TEMPLATE": "manifest.appcache",
    "APPCACHE_URL_BASE": "http://localhost",
    "APPCACHE_UPDATED": None,
    "APPCACHE_FALLBACK": {},
    "APPCACHE_NETWORK": ["*"],
    "APPCACHE_WORKER_URL": "/sw.js",
    "APPCACHE_WORKER_SCOPE": None,
    "APPCACHE_UPDATE": "prompt",
    "APPCACHE_KILL_SWITCH": False,
    "APPCACHE_INTEGRITY": True,
    "APPCACHE_CACHE_NAME": "flask-appcache",
    "APPCACHE_RUNTIME_CACHE": False,
    "APPCACHE_RUNTIME_MAX_ENTRIES": 50,
    "APPCACHE_RUNTIME_MAX_BYTES": 5_000_000,
    "APPCACHE_WEBMANIFEST": None,
    "APPCACHE_WEBMANIFEST_URL": "/manifest.webmanifest",
}

UPDATE_MODES = ("prompt", "auto")


@dataclass(frozen=True)
class Settings:
    """What the extension reads from ``app.config``; see the README's config table."""

    url: str
    template: str
    url_base: str
    updated: str | None
    fallback: tuple[tuple[str, str], ...]
    network: tuple[str, ...]
    worker_url: str | None
    worker_scope: str | None
    update: str
    kill_switch: bool
    integrity: bool
    cache_name: str
    runtime_cache: bool
    runtime_max_entries: int
    runtime_max_bytes: int
    webmanifest: Mapping[str, Any] | None
    webmanifest_url: str


def _fail(key: str, value: object, reason: str) -> ValueError:
    return ValueError(f"{key}={value!r}: {reason}")


def _path(config: Mapping[str, Any], key: str, optional: bool = False) -> str | None:
    value = config[key]
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value.startswith("/") or any(c.isspace() for c in value):
        raise _fail(key, value, "must be a path starting with '/', without spaces")
    return value


def _str(config: Mapping[str, Any], key: str) -> str:
    value = config[key]
    if not isinstance(value, str) or not value:
        raise _fail(key, value, "must be a non-empty string")
    return value


def _flag(config: Mapping[str, Any], key: str) -> bool:
    value = config[key]
    if not isinstance(value, bool):
        raise _fail(key, value, "must be True or False")
    return value


def _count(config: Mapping[str, Any], key: str) -> int:
    value = config[key]
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _fail(key, value, "must be a positive integer")
    return value


def _fallback(config: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    key = "APPCACHE_FALLBACK"
    value = config[key]
    if not isinstance(value, Mapping):
        raise _fail(
            key, value, "must be a mapping of URL prefix to fallback page, like {'/': '/offline'}"
        )
    pairs = []
    for prefix, page in value.items():
        for part in (prefix, page):
            if (
                not isinstance(part, str)
                or not part.startswith("/")
                or any(c.isspace() for c in part)
            ):
                raise _fail(key, value, f"{part!r} is not a path starting with '/', without spaces")
        pairs.append((prefix, page))
    # longest prefix first: the service worker and the reader take the first that matches
    return tuple(sorted(pairs, key=lambda pair: (-len(pair[0]), pair[0])))


def _network(config: Mapping[str, Any]) -> tuple[str, ...]:
    key = "APPCACHE_NETWORK"
    value = config[key]
    if isinstance(value, str) or not all(isinstance(item, str) for item in value):
        raise _fail(key, value, "must be a list of URL prefixes (or '*')")
    for item in value:
        if item != "*" and (not item.startswith("/") or any(c.isspace() for c in item)):
            raise _fail(key, value, f"{item!r} is neither '*' nor a path starting with '/'")
    return tuple(value)


def read_settings(config: Mapping[str, Any]) -> Settings:
    """Check every ``APPCACHE_*`` key of ``config`` (defaults already set) into ``Settings``."""
    update = config["APPCACHE_UPDATE"]
    if update not in UPDATE_MODES:
        raise _fail("APPCACHE_UPDATE", update, f"must be one of {', '.join(UPDATE_MODES)}")
    updated = config["APPCACHE_UPDATED"]
    if updated is not None and (not isinstance(updated, str) or "\n" in updated):
        raise _fail("APPCACHE_UPDATED", updated, "must be None or a one-line string")
    webmanifest = config["APPCACHE_WEBMANIFEST"]
    if webmanifest is not None and not isinstance(webmanifest, Mapping):
        raise _fail(
            "APPCACHE_WEBMANIFEST", webmanifest, "must be None or a mapping (name, icons, ...)"
        )
    cache_name = _str(config, "APPCACHE_CACHE_NAME")
    if not all(c.isalnum() or c in "-_." for c in cache_name):
        raise _fail("APPCACHE_CACHE_NAME", cache_name, "may hold letters, digits, '-', '_', '.'")
    url = _path(config, "APPCACHE_URL")
    worker_url = _path(config, "APPCACHE_WORKER_URL", optional=True)
    if url == worker_url:
        raise _fail("APPCACHE_WORKER_URL", worker_url, "is the same URL as APPCACHE_URL")
    return Settings(
        url=str(url),
        template=_str(config, "APPCACHE_TEMPLATE"),
        url_base=_str(config, "APPCACHE_URL_BASE"),
        updated=updated,
        fallback=_fallback(config),
        network=_network(config),
        worker_url=worker_url,
        worker_scope=_path(config, "APPCACHE_WORKER_SCOPE", optional=True),
        update=update,
        kill_switch=_flag(config, "APPCACHE_KILL_SWITCH"),
        integrity=_flag(config, "APPCACHE_INTEGRITY"),
        cache_name=cache_name,
        runtime_cache=_flag(config, "APPCACHE_RUNTIME_CACHE"),
        runtime_max_entries=_count(config, "APPCACHE_RUNTIME_MAX_ENTRIES"),
        runtime_max_bytes=_count(config, "APPCACHE_RUNTIME_MAX_BYTES"),
        webmanifest=webmanifest,
        webmanifest_url=str(_path(config, "APPCACHE_WEBMANIFEST_URL")),
    )
