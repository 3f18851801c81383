"""The stamp file: file stats -> content hashes, so a restart with unchanged files hashes nothing.

It lives outside the static folder (in the app's instance folder by default). Line one is the
header: the version, the folder's listing (its directories and their entries' names) and the
fingerprint of their stats (see :mod:`flask_staticbust.fingerprint`); line two the per-file
hashes, by size, mtime_ns, inode and ctime_ns. A restart whose stats give the same fingerprint
reads line one only and lists no directory. Stamps written within :data:`RACY_NS` of the newest
mtime of a file or directory are not trusted (git's "racy clean" rule: a change in the same clock
tick keeps size and mtime): that file is hashed again, and the next start walks the folder. A
folder that cannot be written leaves the stamps in memory only.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any

from .fingerprint import Listing

logger = logging.getLogger(__name__)

RACY_NS = 2_000_000_000
FORMAT = 2

Stamp = tuple[int, int, int, int, str]  # size, mtime_ns, inode, ctime_ns, hexdigest


@dataclass
class StampHeader:
    fingerprint: str = ""
    version: str = ""
    previous: list[str] = field(default_factory=list)
    racy: bool = True
    listing: Listing = field(default_factory=Listing)
    newest_mtime_ns: int = 0


def read_header(path: str | None) -> StampHeader:
    if path is None:
        return StampHeader()
    try:
        with open(path, encoding="utf-8") as file:
            header: Any = json.loads(file.readline())
        if header.get("format") != FORMAT:
            return StampHeader()
        # Not checked name by name (10,000 of them): a listing that is not of strings makes
        # the fingerprint fail, which costs a walk, never a wrong version.
        dirs, names = header["dirs"], header["names"]
        if not (isinstance(dirs, list) and isinstance(names, list) and len(dirs) == len(names)):
            return StampHeader()
        return StampHeader(
            str(header["fingerprint"]),
            str(header["version"]),
            [str(v) for v in header["previous"]],
            bool(header["racy"]),
            Listing(dirs, names),
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError, UnicodeError):
        return StampHeader()


def read_stamps(path: str | None) -> dict[str, Stamp]:
    """The per-file stamps, without the racy ones (see the module docstring)."""
    if path is None:
        return {}
    try:
        with open(path, encoding="utf-8") as file:
            header = json.loads(file.readline())
            entries = json.loads(file.readline())
        written_ns = int(header["written_ns"])
        return {
            str(rel): (int(s[0]), int(s[1]), int(s[2]), int(s[3]), str(s[4]))
            for rel, s in entries.items()
            if int(s[1]) < written_ns - RACY_NS
        }
    except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError, UnicodeError):
        return {}


def write_stamps(path: str | None, header: StampHeader, stamps: dict[str, Stamp]) -> bool:
    """Write atomically (temporary file + ``os.replace``); False if the folder is not writable."""
    written_ns = time.time_ns()
    header.racy = header.newest_mtime_ns >= written_ns - RACY_NS or any(
        s[1] >= written_ns - RACY_NS for s in stamps.values()
    )
    if path is None:
        return False
    head = {
        "format": FORMAT,
        "fingerprint": header.fingerprint,
        "version": header.version,
        "previous": header.previous,
        "racy": header.racy,
        "written_ns": written_ns,
        "dirs": header.listing.dirs,
        "names": header.listing.names,
    }
    directory = os.path.dirname(path)
    try:
        os.makedirs(directory, exist_ok=True)
        fd, temp = tempfile.mkstemp(prefix=".stamps-", dir=directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as file:
                file.write(json.dumps(head, separators=(",", ":")) + "\n")
                file.write(json.dumps(stamps, separators=(",", ":")) + "\n")
            os.replace(temp, path)
        except BaseException:
            os.unlink(temp)
            raise
    except OSError as error:
        logger.warning(
            "flask-staticbust: cannot write the stamp file %s (%s); hashes stay in memory",
            path,
            error,
        )
        return False
    return True
