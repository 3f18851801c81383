"""Temporary files beside a build's outputs, moved into place with ``os.replace`` (a request
never sees half a file).

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


def remove(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)
