"""The request target as the cache keys it: scheme, host, path and query, each checked and
encoded so that two requests the app tells apart never share a key (RFC 9111 §4, §7.1).

The WSGI server hands the app a decoded ``PATH_INFO`` (``/item/shoe%3Fref=x`` arrives as the
path ``/item/shoe?ref=x``) and the ``QUERY_STRING`` apart; a key that glued them back together
as text would give that path and the path ``/item/shoe`` with the query ``ref=x`` one key.
Here every part is encoded on its own, so that the characters that separate the parts of a
key (``?``, ``|``, ``^``, ``%`` ...) can only come from this module and the store.

A ``Host`` that is not ``host[:port]`` (RFC 3986 §3.2.2, §3.2.3), or a scheme that is not
one, keys nothing: the request bypasses the cache. Werkzeug checks the characters of a Host
only since 3.1.7, and this module checks them on every Werkzeug.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Collection, Mapping
from typing import Any
from urllib.parse import quote, unquote, urlsplit

#: RFC 3986 §3.1: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*")
#: the characters of a DNS name or IPv4 address, a subset of RFC 3986's reg-name (no
#: sub-delims, no percent-encoding: no real host has them, and they bypass the cache)
_NAME = re.compile(r"[A-Za-z0-9_~.\-]+")
#: RFC 3986 §3.2.3: port = *DIGIT (here at most five digits, 65535 at most)
_PORT = re.compile(r"[0-9]{0,5}")
#: characters left as they are in an encoded path: unreserved, sub-delims, ":", "@", "/";
#: everything else ("%", "?", "|", "^" ... included) is percent-encoded
_PATH_SAFE = "/-._~!$&'()*+,;=:@"
#: printable ASCII but "%": left as it is in a query before flask-cachecore's canonical form
_QUERY_SAFE = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) != "%")


def valid_scheme(scheme: str) -> bool:
    """Whether ``scheme`` is a URI scheme (RFC 3986 §3.1)."""
    return _SCHEME.fullmatch(scheme) is not None


def split_host(host: str) -> tuple[str, str] | None:
    """``(name, port)`` of a ``Host`` value ``host[:port]`` (RFC 9110 §7.2, RFC 3986 §3.2.2):
    a DNS name or IPv4 address, or an IPv6 address in brackets; the port digits may be empty
    (``""``). None when the value is anything else (a path, spaces, a user, a second colon).

    >>> split_host("Example.com:8080")
    ('Example.com', '8080')
    >>> split_host("victim.example/item") is None
    True
    """
    if host.startswith("["):
        end = host.find("]")
        if end < 0:
            return None
        name, rest = host[: end + 1], host[end + 1 :]
        try:
            ipaddress.IPv6Address(name[1:-1])
        except ValueError:
            return None
        if "%" in name:  # a zone id is not allowed in a Host (RFC 6874 is for URIs only)
            return None
    else:
        name, colon, port = host.partition(":")
        rest = colon + port
        if _NAME.fullmatch(name) is None:
            return None
    if not rest:
        return name, ""
    if rest[0] != ":" or _PORT.fullmatch(rest[1:]) is None:
        return None
    port = rest[1:]
    if port and int(port) > 65535:
        return None
    return name, port


def key_host(scheme: str, host: str) -> str | None:
    """The host part of a key: lower case, without an empty or default port; None when
    ``host`` is not a valid ``host[:port]``."""
    parts = split_host(host)
    if parts is None:
        return None
    name, port = parts
    name = name.lower()
    if not port or (scheme, port) in (("http", "80"), ("https", "443")):
        return name
    return f"{name}:{port}"


def host_name(host: str) -> str:
    """``host`` without its port (``[::1]:8080`` → ``[::1]``)."""
    if host.startswith("["):
        return host[: host.find("]") + 1]
    return host.partition(":")[0]


def host_is_allowed(name: str, allowed: Collection[str]) -> bool:
    """Whether the host ``name`` (lower case, no port) matches one of ``allowed``: a name
    (its port, if any, ignored), or ``.name`` for the name and all its subdomains, as in
    Flask's ``TRUSTED_HOSTS``."""
    for pattern in allowed:
        pattern = pattern.strip().lower()
        if not pattern.isascii():
            try:
                pattern = pattern.encode("idna").decode("ascii")
            except UnicodeError:
                continue
        if pattern.startswith("."):
            if name == pattern[1:] or name.endswith(pattern):
                return True
            continue
        if pattern.startswith("["):
            pattern = pattern[: pattern.find("]") + 1]
        else:
            pattern = pattern.partition(":")[0]
        if name == pattern:
            return True
    return False


def url_target(url: str, script_root: str = "") -> tuple[str, str, str, str] | None:
    """``(scheme, host, path, query)`` for the key of an absolute URL (a ``Location``, a URL
    to purge), as :func:`environ_target` gives them for a request of it to an app mounted at
    ``script_root``; None when it has no valid scheme and host."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if not valid_scheme(scheme) or not parts.netloc:
        return None
    host = key_host(scheme, parts.netloc)
    if host is None:
        return None
    # what a server decodes the path to: percent-escapes as bytes (a non-ASCII character
    # first as its UTF-8 escapes, as a client sends it), in WSGI's latin-1 text
    path = unquote(quote(parts.path, safe=_QUERY_SAFE + "%"), encoding="latin-1")
    script_name = script_root.rstrip("/")
    if script_name and (path == script_name or path.startswith(script_name + "/")):
        path = path[len(script_name) :]
    else:
        script_name = ""
    query = quote(parts.query, safe=_QUERY_SAFE + "%")
    return scheme, host, key_path(script_name, path), key_query(query)


def _wsgi_bytes(text: str) -> bytes:
    """The bytes a WSGI string stands for (PEP 3333: latin-1); text beyond latin-1 (given by
    hand, as to ``flask httpcache purge``) as UTF-8."""
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass")


def key_path(script_name: str, path_info: str) -> str:
    """The path part of a key from the decoded ``SCRIPT_NAME`` and ``PATH_INFO``: each
    percent-encoded (``?``, ``%``, ``|``, spaces, controls and non-ASCII bytes included), and
    joined by ``^`` when ``SCRIPT_NAME`` is not empty, so that an app mounted at ``/app``
    and the same URL seen by an app mounted at the root keep two keys.

    >>> key_path("", "/item/shoe?ref=evil")
    '/item/shoe%3Fref=evil'
    """
    path = quote(_wsgi_bytes(path_info), safe=_PATH_SAFE)
    if not script_name:
        return path
    return quote(_wsgi_bytes(script_name), safe=_PATH_SAFE) + "^" + path


def key_query(query: str) -> str:
    """The query as it goes to flask-cachecore's ``canonical_query``: the raw bytes beyond
    printable ASCII percent-encoded first, so that a raw byte and the escape of another text
    cannot decode to the same pair."""
    if query.isascii() and query.isprintable():
        return query
    return quote(_wsgi_bytes(query), safe=_QUERY_SAFE)


def environ_target(environ: Mapping[str, Any]) -> tuple[str, str, str, str] | None:
    """``(scheme, host, path, query)`` of a WSGI request for its key, the host as
    :func:`key_host` gives it, the path as :func:`key_path`; None when the scheme or the host
    is not valid (the request then bypasses the cache).

    The host is the ``Host`` field, else ``SERVER_NAME`` and ``SERVER_PORT`` (HTTP/1.0), as
    Werkzeug takes them.
    """
    scheme = environ.get("wsgi.url_scheme", "http")
    if not isinstance(scheme, str) or not valid_scheme(scheme):
        return None
    scheme = scheme.lower()
    host = environ.get("HTTP_HOST")
    if host is None:
        server, port = environ.get("SERVER_NAME"), environ.get("SERVER_PORT")
        if not isinstance(server, str) or not isinstance(port, str):
            return None
        if ":" in server and not server.startswith("["):
            server = f"[{server}]"
        host = f"{server}:{port}"
    if not isinstance(host, str):
        return None
    name = key_host(scheme, host)
    if name is None:
        return None
    script_name = environ.get("SCRIPT_NAME", "")
    path_info = environ.get("PATH_INFO", "")
    query = environ.get("QUERY_STRING", "")
    if not (isinstance(script_name, str) and isinstance(path_info, str)):
        return None
    if not isinstance(query, str):
        return None
    return scheme, name, key_path(script_name, path_info), key_query(query)
