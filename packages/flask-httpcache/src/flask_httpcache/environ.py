"""What the cache reads from a request's WSGI environ: fields, the key of its target, its
Cache-Control; and the copy of an environ that runs the request again later."""

from __future__ import annotations

import sys
from collections.abc import Callable
from io import BytesIO
from typing import Any

from werkzeug.datastructures import EnvironHeaders

from . import rules
from .config import Config
from .store import Store
from .target import environ_target

#: environ flag of a background refresh (stale-while-revalidate): always goes to the view
REFRESH_FLAG = "httpcache.refresh"
#: environ key of a re-fetch after a 304 that selected no stored response (RFC 9111 §4.3.4):
#: the request goes to the view without validators, and the response handler leaves its
#: answer in the list this key holds
REFETCH_KEY = "httpcache.refetch"
#: the environ keys of the request's preconditions (RFC 9110 §13.1)
CONDITIONALS = (
    "HTTP_IF_MATCH",
    "HTTP_IF_NONE_MATCH",
    "HTTP_IF_MODIFIED_SINCE",
    "HTTP_IF_UNMODIFIED_SINCE",
    "HTTP_IF_RANGE",
)
CONDITIONALS_OR_RANGE = frozenset((*CONDITIONALS, "HTTP_RANGE"))


def environ_header(environ: dict[str, Any]) -> Callable[[str], str | None]:
    """A reader of request fields by name straight from the WSGI environ, without building a
    Request: Werkzeug's :class:`~werkzeug.datastructures.EnvironHeaders`."""
    return EnvironHeaders(environ).get


def environ_uri_key(store: Store, environ: dict[str, Any]) -> str | None:
    """The key of the request target: scheme, host, path and query, as the WSGI server (and a
    ProxyFix in front of the app, if any) gave them, each encoded apart (RFC 9111 §4, §7.1;
    see :mod:`flask_httpcache.target`). None when the request must bypass the cache: its
    scheme or ``Host`` is not valid, or its host is not one the store admits."""
    raw = (
        environ.get("wsgi.url_scheme", "http"),
        environ.get("HTTP_HOST"),
        environ.get("SERVER_NAME"),
        environ.get("SERVER_PORT"),
        environ.get("SCRIPT_NAME", ""),
        environ.get("PATH_INFO", ""),
        environ.get("QUERY_STRING", ""),
        store.config.master_salt,
    )
    key = store.environ_keys.get(raw)
    if key is None:
        target = environ_target(environ)
        if target is None or not store.admits_host(target[1]):
            return None
        key = store.uri_key(*target)
        store.environ_keys.remember(raw, key)
    return key


def path_key_of(store: Store, environ: dict[str, Any]) -> str | None:
    """The key of the request's URL without its query, when it has a query (for
    :attr:`Config.max_query_variants`); None otherwise."""
    if not environ.get("QUERY_STRING"):
        return None
    target = environ_target(environ)
    return None if target is None else store.uri_key(*target[:3], "")


def request_directives(config: Config, environ: dict[str, Any]) -> rules.Directives:
    """The request's Cache-Control directives; ``Pragma: no-cache`` only when there is no
    Cache-Control (RFC 9111 §5.4). Empty when the config ignores request directives."""
    if not config.request_controls_cache:
        return {}
    value = environ.get("HTTP_CACHE_CONTROL")
    if value is not None:
        return rules.parse_directives(value)[0]
    pragma = environ.get("HTTP_PRAGMA")
    if pragma and "no-cache" in pragma.lower():
        return {"no-cache": None}
    return {}


def refresh_environ(environ: dict[str, Any], keep_conditionals: bool = False) -> dict[str, Any]:
    """A copy of a GET request's environ that can run again later, marked as a refresh; with
    ``keep_conditionals``, the client's preconditions and Range stay."""
    copy: dict[str, Any] = {k: v for k, v in environ.items() if isinstance(v, str)}
    copy.update(
        {
            "wsgi.version": (1, 0),
            "wsgi.input": BytesIO(b""),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
            REFRESH_FLAG: True,
        }
    )
    if not keep_conditionals:
        for key in (*CONDITIONALS, "HTTP_RANGE", "HTTP_CACHE_CONTROL", "HTTP_PRAGMA"):
            copy.pop(key, None)
    return copy
