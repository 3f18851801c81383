"""``flask staticbust clean --keep N``: remove all but the newest N digested names of each file
(and their precompressed siblings), so old digests don't pile up while a rolling deploy's old
pages still find the assets they name."""

from __future__ import annotations

import contextlib
import os

from .config import Settings
from .manifest import read_manifest, write_manifest

SIBLING_SUFFIXES = ("", ".gz", ".br", ".zst")


def clean_folder(root: str, settings: Settings, keep: int) -> list[str]:
    """Remove the old digests beyond ``keep`` (>= 1: the current one stays); the removed names."""
    if keep < 1:
        raise ValueError("keep must be at least 1: the current digest is always kept")
    path = os.path.join(root, settings.manifest)
    manifest = read_manifest(path)
    if manifest is None:
        return []
    current = {e.path for e in manifest.files.values()}
    removed: list[str] = []
    for rel, names in sorted(manifest.history.items()):
        kept, old = names[:keep], names[keep:]
        for name in old:
            if name in current or name == rel:
                continue  # still served for some file: never remove it
            for suffix in SIBLING_SUFFIXES:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(os.path.join(root, name + suffix))
                    removed.append(name + suffix)
        manifest.history[rel] = kept
    for rel in [r for r in manifest.history if r not in manifest.files]:
        del manifest.history[rel]  # the file itself is gone: nothing to keep for it
    write_manifest(path, manifest)
    return removed
