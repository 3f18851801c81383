"""Listing the files of a static folder without ever leaving it.

Directory symlinks are never followed (the version link of symlink mode points at the static
folder itself: following it would loop), file symlinks count only when they resolve inside the
folder, and the temporary links of symlink mode are skipped.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass

TEMP_LINK_PREFIX = ".staticbust-"


@dataclass(frozen=True, slots=True)
class FileStat:
    """One file of a static folder: its path relative to the folder (``/``-separated) and the
    stat fields that tell whether it changed."""

    rel: str
    path: str
    size: int
    mtime_ns: int
    ino: int


def inside(root_real: str, path: str) -> bool:
    """Whether ``path`` resolves (symlinks followed) to ``root_real`` or below it."""
    try:
        real = os.path.realpath(path)
    except (OSError, ValueError):
        return False
    return real == root_real or real.startswith(root_real.rstrip(os.sep) + os.sep)


def list_files(root: str) -> list[FileStat]:
    """Every regular file under ``root``, sorted by relative path (the same order everywhere)."""
    root_real = os.path.realpath(root)
    found: list[FileStat] = []
    pending: list[tuple[str, str]] = [(root, "")]
    while pending:
        directory, prefix = pending.pop()
        try:
            entries = list(os.scandir(directory))
        except OSError:
            continue
        for entry in entries:
            if entry.name.startswith(TEMP_LINK_PREFIX):
                continue
            rel = prefix + entry.name
            try:
                if entry.is_symlink():
                    if entry.is_dir() or not inside(root_real, entry.path):
                        continue
                    info = os.stat(entry.path)
                elif entry.is_dir(follow_symlinks=False):
                    pending.append((entry.path, rel + "/"))
                    continue
                else:
                    info = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if stat.S_ISREG(info.st_mode):
                found.append(FileStat(rel, entry.path, info.st_size, info.st_mtime_ns, info.st_ino))
    found.sort(key=lambda f: f.rel)
    return found
