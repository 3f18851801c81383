"""``flask staticbust check``: is what would be served consistent with the files on disk?"""

from __future__ import annotations

import os

from .config import Settings
from .digest import Builder, is_hashed, sources_of
from .hashing import sri_of_file
from .manifest import read_manifest


def check_folder(root: str, settings: Settings) -> list[str]:
    """The problems found (empty: all is well). Digest mode: the manifest exists, each digested
    file exists with the bytes its SRI value names, and every source file is in it."""
    if settings.mode != "digest":
        return [] if os.path.isdir(root) else [f"{root}: the static folder does not exist"]
    manifest = read_manifest(os.path.join(root, settings.manifest))
    if manifest is None:
        return [f"{settings.manifest}: no manifest; run `flask staticbust build`"]
    problems: list[str] = []
    for rel, entry in sorted(manifest.files.items()):
        path = os.path.join(root, entry.path)
        if not os.path.isfile(path):
            problems.append(f"{rel}: its digested file {entry.path} is missing")
        elif entry.integrity and sri_of_file(path) != entry.integrity:
            problems.append(f"{rel}: {entry.path} does not match its integrity value (changed?)")
    builder = Builder(root, settings)
    for rel in sources_of(root, settings, builder.previous):
        if rel not in manifest.files and not is_hashed(rel, settings):
            problems.append(f"{rel}: not in the manifest; run `flask staticbust build`")
    return problems
