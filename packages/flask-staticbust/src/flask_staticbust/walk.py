"""Listing the files of a static folder without ever leaving it.

Directory symlinks are never followed (the version link of symlink mode points at the static
folder itself: following it would loop), file symlinks count only when they resolve inside the
folder, and the temporary links of symlink mode are skipped.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from typing import NamedTuple

TEMP_LINK_PREFIX = ".staticbust-"


class FileStat(NamedTuple):
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


def list_files(root: str, skip: Callable[[str], bool] | None = None) -> list[FileStat]:
    """Every regular file under ``root``, sorted by relative path (the same order everywhere),
    but those whose relative path ``skip`` is true for (never made into objects at all).

    One ``lstat`` per file and none per directory (``DirEntry`` knows the type): this runs on
    every start-up, and on every request in debug mode."""
    root_real = os.path.realpath(root)
    found: list[FileStat] = []
    pending: list[tuple[str, str]] = [(root, "")]
    is_regular = stat.S_ISREG
    while pending:
        directory, prefix = pending.pop()
        try:
            scanner = os.scandir(directory)
        except OSError:
            continue
        with scanner:
            for entry in scanner:
                name = entry.name
                if name.startswith(TEMP_LINK_PREFIX):
                    continue
                try:
                    if entry.is_dir(follow_symlinks=False):
                        pending.append((entry.path, prefix + name + "/"))
                        continue
                    if entry.is_symlink():
                        if entry.is_dir() or not inside(root_real, entry.path):
                            continue
                        info = os.stat(entry.path)
                    else:
                        info = entry.stat(follow_symlinks=False)
                except OSError:
                    continue
                if is_regular(info.st_mode) and not (skip and skip(prefix + name)):
                    found.append(
                        FileStat(
                            prefix + name, entry.path, info.st_size, info.st_mtime_ns, info.st_ino
                        )
                    )
    found.sort()
    return found
