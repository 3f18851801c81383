"""Where a listed URL's body comes from: a file under a folder (read from disk) or a view of the
app (rendered through the app's own WSGI stack, as a browser would get it)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit

from flask import Flask, url_for
from werkzeug.exceptions import HTTPException
from werkzeug.routing import BuildError, RequestRedirect

from .errors import AppcacheError


@dataclass(frozen=True)
class FileSource:
    """A file served at ``url`` (``base`` + ``relative``), hashed from ``path`` on disk."""

    url: str
    path: str
    base: str = ""
    relative: str = ""


@dataclass(frozen=True)
class ViewSource:
    """A URL rendered through the app."""

    url: str


Source = FileSource | ViewSource


def check_url(url: object) -> str:
    """A URL that can stand on one line of a manifest: a string without whitespace."""
    if not isinstance(url, str) or not url or any(c.isspace() or ord(c) < 32 for c in url):
        raise AppcacheError(f"{url!r} is not a URL that a manifest can list (empty or blank)")
    return url


def _hidden(name: str) -> bool:
    return name.startswith(".")


def walk_folder(folder: str | os.PathLike[str], base: str) -> list[FileSource]:
    """Every file under ``folder`` as served under ``base``, in sorted order (so every host
    lists the same), without dotfiles and without anything under a dot-folder (``.git``)."""
    root = os.fspath(folder)
    if not os.path.isdir(root):
        raise AppcacheError(f"add_folder({root!r}): not a folder")
    prefix = base.rstrip("/")
    found: list[FileSource] = []
    for directory, subdirs, files in os.walk(root):
        subdirs[:] = sorted(name for name in subdirs if not _hidden(name))
        relative_dir = os.path.relpath(directory, root)
        for name in sorted(files):
            if _hidden(name):
                continue
            relative = name if relative_dir == "." else os.path.join(relative_dir, name)
            path_part = quote(relative.replace(os.sep, "/"), safe="/", errors="surrogateescape")
            url = f"{prefix}/{path_part}"
            found.append(FileSource(url, os.path.join(directory, name), prefix, path_part))
    return found


def render_view(app: Flask, url: str, base_url: str) -> bytes:
    """The body of ``url`` as the app answers it. Anything but a plain 200 is an error that
    names the URL: a browser's cache update does not follow a redirect, so neither do we."""
    try:
        with app.test_client() as client:
            response = client.get(url, base_url=base_url)
    except Exception as error:
        raise AppcacheError(f"{url} cannot be cached: the view raised {error!r}") from error
    try:
        if 300 <= response.status_code < 400:
            location = response.headers.get("Location", "?")
            raise AppcacheError(
                f"{url} cannot be cached: it answers {response.status_code} (a redirect to "
                f"{location}); list the URL it redirects to instead"
            )
        if response.status_code != 200:
            raise AppcacheError(
                f"{url} cannot be cached: it answers {response.status_code}, not 200"
            )
        return response.get_data()
    finally:
        response.close()


def versioned_url(app: Flask, source: FileSource) -> str | None:
    """The URL that ``url_for`` builds for ``source``, when it differs from the bare path (a
    cache-busting extension put a version or a digest in it); else None.

    A file under the app's static URL path is built as ``url_for("static", filename=...)``;
    another one by the endpoint and arguments of the route that matches its bare path. Needs an
    active request context of ``app``. Nothing is imported from the extension that does the
    versioning: the URL that ``url_for`` builds is the whole signal.
    """
    try:
        if app.has_static_folder and source.base == (app.static_url_path or "").rstrip("/"):
            built = url_for("static", filename=unquote(source.relative, errors="surrogateescape"))
        else:
            adapter = app.url_map.bind("localhost", script_name="/")
            endpoint, values = adapter.match(unquote(urlsplit(source.url).path), method="GET")
            built = url_for(endpoint, **values)
    except (HTTPException, RequestRedirect, BuildError, ValueError, UnicodeError):
        return None
    return built if built != source.url else None
