"""Key rules for the query: parameters the cache ignores, and the order the view sees.

An ignored parameter (``utm_source``, ``fbclid`` ...) is not only left out of the key: it is
removed from the ``QUERY_STRING`` of the request before the view runs, as Varnish strips
such parameters before the backend sees them. A parameter the key ignores but the view
could read would let one client's value reach every client of that key (RFC 9111 §7.1); a
parameter that is gone for the view cannot.

Matching: ``fnmatch`` patterns (``*``, ``?``, ``[...]``) against the parameter's name as the
view would read it (percent-decoded, ``+`` as a space), ASCII case-insensitively:
``utm_*`` removes ``utm_source``, ``UTM_Source`` and ``utm%5Fsource``.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from fnmatch import fnmatchcase
from typing import Any
from urllib.parse import unquote_plus

from flask import Request

from .config import Config

#: environ key set once the rules have rewritten (or kept) the request's query
APPLIED_FLAG = "httpcache.query_rules"


def parameter_name(pair: str) -> str:
    """The decoded name of one ``name=value`` pair of a raw query string."""
    return unquote_plus(pair.partition("=")[0], errors="surrogateescape")


def is_ignored(name: str, patterns: tuple[str, ...]) -> bool:
    """Whether the decoded parameter ``name`` matches one of the (lower-case) patterns."""
    lower = name.lower()
    return any(fnmatchcase(lower, pattern) for pattern in patterns)


def rewrite_query(query: str, ignored: tuple[str, ...], sort: bool) -> str:
    """``query`` without the pairs whose name is ignored, and with the others sorted by name
    (stable: values of one name keep their order) when ``sort``; the pairs themselves are
    kept byte for byte.

    >>> rewrite_query("b=2&utm_source=x&a=1", ("utm_*",), sort=True)
    'a=1&b=2'
    """
    pairs = [pair for pair in query.split("&") if pair]
    if ignored:
        pairs = [pair for pair in pairs if not is_ignored(parameter_name(pair), ignored)]
    if sort:
        pairs.sort(key=parameter_name)
    return "&".join(pairs)


def keyed_target(target: tuple[str, str, str, str], config: Config) -> tuple[str, str, str, str]:
    """A ``(scheme, host, path, query)`` target as a request of it is keyed: its query
    without the parameters :attr:`Config.ignored_query_parameters` ignores."""
    patterns = tuple(config.ignored_query_parameters)
    if not patterns:
        return target
    scheme, host, path, query = target
    return scheme, host, path, rewrite_query(query, patterns, sort=False)


def apply_query_rules(environ: MutableMapping[str, Any], config: Config) -> bool:
    """Rewrite the request's ``QUERY_STRING`` by :attr:`Config.ignored_query_parameters` and
    :attr:`Config.sort_query`, once per request; True when it changed."""
    if APPLIED_FLAG in environ:
        return False
    environ[APPLIED_FLAG] = True
    query = environ.get("QUERY_STRING")
    if not query or not isinstance(query, str):
        return False
    rewritten = rewrite_query(query, tuple(config.ignored_query_parameters), config.sort_query)
    if rewritten == query:
        return False
    environ["QUERY_STRING"] = rewritten
    for name in ("REQUEST_URI", "RAW_URI"):  # what servers pass besides (gunicorn, uWSGI)
        raw = environ.get(name)
        if isinstance(raw, str) and "?" in raw:
            path = raw.partition("?")[0]
            environ[name] = f"{path}?{rewritten}" if rewritten else path
    return True


def query_rules_change(environ: MutableMapping[str, Any], config: Config) -> bool:
    """Whether the rules would change this request's query and have not run yet (the view
    then saw the query as it came)."""
    if APPLIED_FLAG in environ:
        return False
    query = environ.get("QUERY_STRING")
    if not query or not isinstance(query, str):
        return False
    patterns = tuple(config.ignored_query_parameters)
    return rewrite_query(query, patterns, config.sort_query) != query


def has_query_rules(config: Config) -> bool:
    return bool(config.ignored_query_parameters) or config.sort_query


def apply_to_request(request: Request, config: Config) -> tuple[bool, bool]:
    """:func:`apply_query_rules` on a request Flask built already: its query string and what
    Werkzeug computed from it (``args``, ``values``, ``url``, ``full_path``, cached on first
    use) follow the rewritten ``QUERY_STRING``. ``(changed, read)``: whether the query
    changed, and whether something had read its parsed values before (a hook that ran
    earlier: the answer may then depend on the parameters the key leaves out)."""
    if not apply_query_rules(request.environ, config):
        return False, False
    request.query_string = request.environ["QUERY_STRING"].encode("latin-1")
    cached = vars(request)
    read = False
    for name in ("args", "values", "url", "full_path"):
        if name in cached:
            read = True
            del cached[name]
    return True, read
