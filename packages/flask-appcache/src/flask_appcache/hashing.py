"""Content digests: one per listed URL, and the manifest's hash over all of them.

One SHA-256 per body gives both the service worker's ``revision`` (its first 20 hex digits, which
is plenty to notice a change) and the ``integrity`` value of Subresource Integrity
(``sha256-<base64>``). Files are hashed from disk; ``FileDigests`` remembers each file's digest
by its stat (inode, size, mtime), so hashing a folder again in debug mode only reads what changed.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass

REVISION_LENGTH = 20


@dataclass(frozen=True)
class Digest:
    """The SHA-256 of one body."""

    sha256: bytes

    @property
    def revision(self) -> str:
        return self.sha256.hex()[:REVISION_LENGTH]

    @property
    def integrity(self) -> str:
        """The Subresource Integrity metadata of the body (W3C SRI, section 3.5)."""
        return "sha256-" + base64.b64encode(self.sha256).decode("ascii")


def digest_bytes(data: bytes) -> Digest:
    return Digest(hashlib.sha256(data).digest())


class FileDigests:
    """Digests of files from disk, remembered while a file's stat stays the same."""

    def __init__(self) -> None:
        self._known: dict[str, tuple[tuple[int, int, int], Digest]] = {}

    def digest(self, path: str) -> Digest:
        stat = os.stat(path)
        mark = (stat.st_ino, stat.st_size, stat.st_mtime_ns)
        known = self._known.get(path)
        if known is not None and known[0] == mark:
            return known[1]
        with open(path, "rb") as file:
            digest = Digest(hashlib.file_digest(file, "sha256").digest())
        self._known[path] = (mark, digest)
        return digest


def combined_hash(pairs: Iterable[tuple[str, Digest]]) -> str:
    """The hash of a whole list: its URLs in order, each with its body's digest.

    Any change of a body, of a URL or of the order changes it; the same list gives the same
    hash in every process (no ``hash()``, no set order, no time).
    """
    total = hashlib.sha256()
    for url, digest in pairs:
        total.update(url.encode("utf-8", "surrogateescape"))
        total.update(b"\0")
        total.update(digest.sha256)
    return total.hexdigest()
