"""A reference found in a text file: where it is, and how to rewrite it to a digested name.

The rewriters (:mod:`~flask_staticbust.rewrite_css`, :mod:`~flask_staticbust.rewrite_js`)
report spans of the file's text; :func:`apply` replaces them, leaving every other byte as it was.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import unquote

_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")


@dataclass(frozen=True, slots=True)
class Reference:
    start: int
    end: int
    text: str


def normalize_newlines(text: str) -> str:
    """The newlines tinycss2 counts lines by (CSS Syntax 3.3: CR LF, CR and FF are LF); JS
    files get the same, so every rewritten file is read one way."""
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n")


def split_url(text: str) -> tuple[str, str]:
    """``"img/a.png?v=1#x"`` -> ``("img/a.png", "?v=1#x")``."""
    cut = min((i for i in (text.find("?"), text.find("#")) if i >= 0), default=len(text))
    return text[:cut], text[cut:]


def target_of(source_rel: str, text: str) -> str | None:
    """The static-relative path a reference in ``source_rel`` names, or None when it is not a
    relative reference (an absolute URL, ``data:``, ``//host``, ``/root``, ``#fragment``)."""
    path, _ = split_url(text.strip())
    if not path or _SCHEME.match(path) or path.startswith("/"):
        return None
    joined = posixpath.normpath(posixpath.join(posixpath.dirname(source_rel), unquote(path)))
    if joined.startswith("../") or joined == ".." or joined == ".":
        return None
    return joined


def digested_text(text: str, digest: str) -> str:
    """The reference ``text`` with ``.<digest>`` before the extension of its last segment."""
    path, suffix = split_url(text)
    head, _, last = path.rpartition("/")
    stem, dot, extension = last.rpartition(".")
    name = f"{stem}.{digest}.{extension}" if dot and stem else f"{last}.{digest}"
    return (head + "/" if head or path.startswith("/") else "") + name + suffix


def apply(text: str, references: list[Reference], replace: Callable[[str], str | None]) -> str:
    """``text`` with each reference replaced by ``replace(reference.text)`` (None: unchanged)."""
    out: list[str] = []
    position = 0
    for ref in sorted(references, key=lambda r: r.start):
        new = replace(ref.text)
        if new is None or ref.start < position:
            continue
        out.append(text[position : ref.start])
        out.append(new)
        position = ref.end
    out.append(text[position:])
    return "".join(out)
