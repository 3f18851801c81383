"""Symlink mode: ``static/<version> -> .`` (the static folder itself), made safely.

The link is made under a temporary name unique to the process and moved into place with
``os.replace``, which is atomic: eight workers starting together each replace the link with an
identical one, and none sees an error. Old links are removed only when they point at the static
folder, so a real folder or a link of somebody else's is never touched.
"""

from __future__ import annotations

import contextlib
import logging
import os
import uuid

from .errors import SymlinkError
from .walk import TEMP_LINK_PREFIX

logger = logging.getLogger(__name__)


def points_at(link: str, root_real: str) -> bool:
    try:
        return os.path.islink(link) and os.path.realpath(link) == root_real
    except (OSError, ValueError):
        return False


def make_version_link(root: str, version: str) -> str:
    """Create or replace ``root/version`` as a link to ``root``; return the link's path."""
    root_real = os.path.realpath(root)
    link = os.path.join(root, version)
    if points_at(link, root_real):
        # Already there (a restart): left as it is, so the folder's mtime doesn't change and
        # the next start's stamp check still holds (see flask_staticbust.fingerprint).
        return link
    if os.path.lexists(link):
        raise SymlinkError(
            f"STATICBUST_MODE='symlink': {link} exists and is not a link to the static folder;"
            " remove it or use STATICBUST_MODE='route'"
        )
    temp = os.path.join(root, f"{TEMP_LINK_PREFIX}{version}-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    try:
        os.symlink(".", temp)
        os.replace(temp, link)
    except OSError as error:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise SymlinkError(
            f"STATICBUST_MODE='symlink': cannot create the link {link} ({error.strerror});"
            " the static folder must be writable in symlink mode; use STATICBUST_MODE='route',"
            " which serves versioned URLs without writing anything"
        ) from error
    return link


def remove_old_links(root: str, keep: str) -> list[str]:
    """Remove the links in ``root`` that point at ``root`` itself, except ``keep``."""
    root_real = os.path.realpath(root)
    removed: list[str] = []
    try:
        entries = list(os.scandir(root))
    except OSError:
        return removed
    for entry in entries:
        if entry.name == keep or entry.name.startswith(TEMP_LINK_PREFIX):
            continue
        if entry.is_symlink() and points_at(entry.path, root_real):
            try:
                os.unlink(entry.path)
                removed.append(entry.name)
            except FileNotFoundError:
                pass  # another worker removed it first
            except OSError as error:
                logger.warning(
                    "flask-staticbust: cannot remove the old link %s (%s)", entry.path, error
                )
    return removed
