"""The version of a static folder: from content (default), from modification times, or given.

Content: a sha256 over the sorted relative paths and each file's sha256, so the same files give
the same version on every host and in every process. File hashes come from the stamp cache when a
file's size, mtime_ns, inode and ctime_ns are unchanged (see :mod:`flask_staticbust.stamps`), and
a restart whose folder has the fingerprint of the stamps (no directory or file changed: see
:mod:`flask_staticbust.fingerprint`) takes the stamps' version without listing the folder.

mtime (the original article's method): the newest modification time, in whole seconds. It costs
no reading, but differs between hosts that unpacked the same files at different times, goes
backwards when an older file replaces a newer one, and misses a change within the same second.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field

from .fingerprint import fingerprint
from .hashing import SMALL, combined_hexdigest, file_hexdigest, parallel_map
from .stamps import RACY_NS, Stamp, StampHeader, read_header, read_stamps, write_stamps
from .walk import FileStat, scan

HISTORY = 20


def mtime_version(files: list[FileStat]) -> str:
    return str(max((f.mtime_ns for f in files), default=0) // 1_000_000_000)


@dataclass
class ContentVersioner:
    """Computes a folder's content version, keeping the stamps in memory between calls and in
    ``stamp_path`` between processes."""

    root: str
    stamp_path: str | None
    length: int
    workers: int | None = None
    stamps: dict[str, Stamp] | None = None
    header: StampHeader = field(default_factory=StampHeader)
    loaded: bool = False

    def compute(self) -> str:
        if not self.loaded:
            self.header = read_header(self.stamp_path)
            self.loaded = True
        header = self.header
        if (
            not header.racy
            and header.version
            and header.fingerprint
            and fingerprint(self.root, header.listing) == header.fingerprint
        ):
            return header.version
        # The walk stats each directory before reading it and each file before hashing it:
        # whatever changes meanwhile leaves stats that no longer match the fingerprint stored
        # below, so the next call walks again.
        found = scan(self.root)
        files = found.files
        if self.stamps is None:
            self.stamps = read_stamps(self.stamp_path)
        known = self.stamps
        fresh: dict[str, Stamp] = {}
        to_hash: list[FileStat] = []
        for f in files:
            stamp = known.get(f.rel)
            if stamp is not None and stamp[:4] == (f.size, f.mtime_ns, f.ino, f.ctime_ns):
                fresh[f.rel] = stamp
            else:
                to_hash.append(f)
        # Threads for large files only: file_digest releases the GIL while it reads and hashes
        # them; for small files the hand-off between threads costs more than the hash.
        large = [f for f in to_hash if f.size >= SMALL]
        small = [f for f in to_hash if f.size < SMALL]
        hashed = [
            *parallel_map(_hash_file, large, self.workers, threshold=2),
            *map(_hash_file, small),
        ]
        for f, digest in zip([*large, *small], hashed, strict=True):
            if digest is not None:
                fresh[f.rel] = (f.size, f.mtime_ns, f.ino, f.ctime_ns, digest)
        combined = combined_hexdigest(f"{rel}\0{fresh[rel][4]}" for rel in sorted(fresh))
        version = combined[: self.length]
        previous = self.header.previous
        if self.header.version and self.header.version != version:
            previous = [self.header.version, *[v for v in previous if v != version]][:HISTORY]
        self.header = StampHeader(
            found.fingerprint,
            version,
            previous,
            listing=found.listing,
            newest_mtime_ns=found.newest_mtime_ns,
        )
        write_stamps(self.stamp_path, self.header, fresh)
        trusted_before = time.time_ns() - RACY_NS  # the stamps' racy rule holds in memory too
        self.stamps = {rel: s for rel, s in fresh.items() if s[1] < trusted_before}
        return version


def _hash_file(f: FileStat) -> str | None:
    try:
        return file_hexdigest(f.path, size_hint=f.size)
    except OSError:
        return None  # removed while we listed it: not part of the version


def stamp_name(root: str) -> str:
    """The stamp file name of one static folder (several folders share an instance folder)."""
    return (
        "staticbust-"
        + hashlib.sha256(root.encode("utf-8", "surrogateescape")).hexdigest()[:16]
        + ".stamps"
    )
