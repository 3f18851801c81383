"""Writing a build's outputs: a file that exists is replaced through a temporary file beside it,
moved into place with ``os.replace`` (a request never sees half a file); a file that does not
exist yet (a new digested name, or its compressed siblings: no manifest names them before the
build ends) is created under its own name with ``O_EXCL``, which saves the temporary name, a
``stat`` and a rename per file. A crash can leave such a file short; the next build finds it by
its size (digested copies) or its mtime (siblings carry their source's only once complete) and
replaces it. Writes go through ``os.write``: no buffered file object per output.

Named from the target, the process and the thread (``.staticbust-app.css.<pid>.<thread>``)
rather than by :func:`tempfile.mkstemp`, whose random names cost more than writing a 10 KB file
(a build makes one per output file). Two writers never share a name; a name left by a crashed
process of the same pid and thread is replaced. The ``.staticbust-`` prefix keeps them out of
every walk of the folder.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading

from .walk import TEMP_LINK_PREFIX

_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0) | os.O_CLOEXEC
_LONGEST = 200  # a longer name keeps a temporary name within NAME_MAX (255)


def open_temp(target: str) -> tuple[int, str]:
    """A new file beside ``target`` (mode 0o644 less the umask): its descriptor and path."""
    directory, name = os.path.split(target)
    if len(name.encode("utf-8", "surrogateescape")) > _LONGEST:
        fd, temp = tempfile.mkstemp(prefix=TEMP_LINK_PREFIX, dir=directory or ".")
        os.chmod(temp, 0o644)
        return fd, temp
    temp = os.path.join(
        directory, f"{TEMP_LINK_PREFIX}{name}.{os.getpid()}.{threading.get_ident()}"
    )
    try:
        return os.open(temp, _FLAGS, 0o644), temp
    except FileExistsError:
        os.unlink(temp)
        return os.open(temp, _FLAGS, 0o644), temp


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def create(target: str, data: bytes, mtime_ns: int | None = None) -> int | None:
    """Create ``target`` holding ``data`` (with ``mtime_ns``, when given, set once it is
    complete); its mtime_ns, or None when it exists already."""
    try:
        fd = os.open(target, _FLAGS, 0o644)
    except FileExistsError:
        return None
    try:
        try:
            _write_all(fd, data)
            if mtime_ns is not None:
                os.utime(fd, ns=(mtime_ns, mtime_ns))
            return mtime_ns if mtime_ns is not None else os.fstat(fd).st_mtime_ns
        finally:
            os.close(fd)
    except BaseException:
        remove(target)
        raise


def replace(target: str, data: bytes, mtime_ns: int | None = None) -> int:
    """Write ``data`` to ``target`` atomically, through a temporary file; its mtime_ns."""
    fd, temp = open_temp(target)
    try:
        try:
            _write_all(fd, data)
            if mtime_ns is not None:
                os.utime(fd, ns=(mtime_ns, mtime_ns))
            written = mtime_ns if mtime_ns is not None else os.fstat(fd).st_mtime_ns
        finally:
            os.close(fd)
        os.replace(temp, target)
    except BaseException:
        remove(temp)
        raise
    return written


def remove(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)
