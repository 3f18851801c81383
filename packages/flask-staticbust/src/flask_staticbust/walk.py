"""Listing the files of a static folder without ever leaving it.

Directory symlinks are never followed (the version link of symlink mode points at the static
folder itself: following it would loop), file symlinks count only when they resolve inside the
folder, and the temporary links of symlink mode are skipped.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import NamedTuple

from .fingerprint import Listing, Records

TEMP_LINK_PREFIX = ".staticbust-"


class FileStat(NamedTuple):
    """One file of a static folder: its path relative to the folder (``/``-separated) and the
    stat fields that tell whether it changed."""

    rel: str
    path: str
    size: int
    mtime_ns: int
    ino: int
    ctime_ns: int


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

    One ``lstat`` per file and none per directory (``DirEntry`` knows the type)."""
    found = [
        FileStat(rel, path, info.st_size, info.st_mtime_ns, info.st_ino, info.st_ctime_ns)
        for rel, path, info in _regular_files(root, skip)
    ]
    found.sort()
    return found


def list_names(root: str, skip: Callable[[str], bool] | None = None) -> list[str]:
    """The relative paths of :func:`list_files`, sorted, without an object per file more."""
    return sorted(rel for rel, _, _ in _regular_files(root, skip))


def _regular_files(
    root: str, skip: Callable[[str], bool] | None
) -> Iterator[tuple[str, str, os.stat_result]]:
    root_real = os.path.realpath(root)
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
                    yield prefix + name, entry.path, info


@dataclass
class Scan:
    """One walk of a folder: its files (as :func:`list_files` gives them), the listing a
    restart checks (see :mod:`flask_staticbust.fingerprint`) with its fingerprint, and the
    newest mtime of any directory or entry (for the racy rule of the stamps)."""

    files: list[FileStat]
    listing: Listing
    fingerprint: str
    newest_mtime_ns: int


def scan(root: str) -> Scan:
    """Walk ``root`` once: :func:`list_files`'s rules, plus the listing and fingerprint.

    Each directory is stat'ed before it is read, so an entry added while the walk runs leaves
    a directory mtime newer than the fingerprint's, and the next check looks again."""
    root_real = os.path.realpath(root)
    files: list[FileStat] = []
    listing = Listing()
    records = Records()
    add_record = records.add
    newest = 0
    is_regular = stat.S_ISREG
    pending: list[tuple[str, str]] = [(root, "")]
    while pending:
        directory, prefix = pending.pop()
        try:
            info = os.lstat(directory)
            scanner = os.scandir(directory)
        except OSError:
            continue
        add_record(info)
        newest = max(newest, info.st_mtime_ns)
        names: list[str] = []
        listing.dirs.append(prefix.rstrip("/"))
        listing.names.append(names)
        with scanner:
            for entry in scanner:
                name = entry.name
                if name.startswith(TEMP_LINK_PREFIX):
                    continue
                try:
                    if entry.is_dir(follow_symlinks=False):
                        pending.append((entry.path, prefix + name + "/"))
                        continue
                    if entry.is_symlink() and entry.is_dir():
                        continue
                    info = entry.stat(follow_symlinks=False)
                    if entry.is_symlink():
                        target = os.stat(entry.path) if inside(root_real, entry.path) else None
                    else:
                        target = info
                except OSError:
                    continue
                names.append(name)
                add_record(info)
                newest = max(newest, info.st_mtime_ns)
                if target is not None and is_regular(target.st_mode):
                    files.append(
                        FileStat(
                            prefix + name,
                            entry.path,
                            target.st_size,
                            target.st_mtime_ns,
                            target.st_ino,
                            target.st_ctime_ns,
                        )
                    )
    files.sort()
    return Scan(files, listing, records.digest(), newest)
