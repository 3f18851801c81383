"""Serving static files: which file a static URL names, and the headers of the answer.

Flask's own static views still send the file (``send_from_directory``, with ``safe_join``);
this module runs before them, as a URL value preprocessor, to strip the version, refuse any path
that resolves outside the folder (``..``, absolute paths, NUL bytes, symlinks pointing out), pick a
precompressed sibling the client accepts, and after them, to set the caching headers.
"""

from __future__ import annotations

import mimetypes
import os
import re
from dataclasses import dataclass

from flask import Response, redirect, url_for
from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.security import safe_join

from .compress import SUFFIXES, accepted_encodings
from .folders import Folder
from .walk import inside

_VERSION_LIKE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


@dataclass
class Served:
    """What the preprocessor decided for one request, read back by :func:`finish`."""

    immutable: bool = False
    unknown_version: bool = False
    encoding: str | None = None
    mimetype: str | None = None
    vary: bool = False


def resolve(folder: Folder, filename: str, accept: str, endpoint: str, served: Served) -> str:
    """The file name to hand to Flask's static view; ``served`` records how to answer. Raises
    ``NotFound`` for anything outside the folder, and a redirect for a known old version."""
    settings = folder.settings
    if "\x00" in filename or "\\" in filename:
        raise NotFound()
    if settings.mode == "digest":
        served.immutable = filename in folder.table.immutable
    else:
        head, sep, rest = filename.partition("/")
        if sep and rest:
            if head == folder.version:
                filename, served.immutable = rest, True
            elif head in folder.previous:
                if settings.old_versions == "404":
                    served.unknown_version = True
                    raise NotFound()
                target = url_for(endpoint, filename=rest)
                response = redirect(target, 302)
                response.headers["Cache-Control"] = "no-cache"
                raise HTTPException(response=response)
            elif _VERSION_LIKE.fullmatch(head) and not os.path.lexists(
                os.path.join(folder.root, head)
            ):
                served.unknown_version = True
                raise NotFound()
    path = safe_join(folder.root, filename)
    if path is None or not inside(folder.root_real, path) or not os.path.isfile(path):
        raise NotFound()
    if settings.precompressed:
        filename = _pick_encoding(path, filename, accept, served)
    return filename


def _pick_encoding(path: str, filename: str, accept: str, served: Served) -> str:
    siblings = [e for e, suffix in SUFFIXES.items() if os.path.isfile(path + suffix)]
    if not siblings:
        return filename
    served.vary = True
    for encoding in accepted_encodings(accept):
        if encoding in siblings and inside(
            os.path.dirname(os.path.realpath(path)), path + SUFFIXES[encoding]
        ):
            served.encoding = encoding
            served.mimetype = mimetypes.guess_type(filename)[0] or "application/octet-stream"
            return filename + SUFFIXES[encoding]
    return filename


def finish(response: Response, served: Served, max_age: int, unknown_max_age: int) -> Response:
    """Set the headers of a static answer (see :class:`Served`)."""
    if served.unknown_version:
        response.headers["Cache-Control"] = f"public, max-age={unknown_max_age}"
        return response
    if served.vary:
        response.vary.add("Accept-Encoding")
    if response.status_code not in (200, 206, 304):
        return response
    if served.encoding is not None:
        response.headers["Content-Encoding"] = served.encoding
        if served.mimetype is not None and response.status_code != 304:
            response.mimetype = served.mimetype
    if served.immutable:
        response.headers["Cache-Control"] = f"public, max-age={max_age}, immutable"
        response.headers.pop("Expires", None)
    return response
