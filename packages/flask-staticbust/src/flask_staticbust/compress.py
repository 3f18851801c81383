"""Precompressed siblings (``app.css.br``, ``.zst``, ``.gz``): choosing one for a request, and
writing them at build time, in a thread pool (zlib, brotli and zstandard release the GIL while
they compress), skipping types that don't compress and files unchanged since the last build.

A sibling carries its source's mtime (``os.utime``): a sibling whose mtime equals its source's
is up to date, so a rebuild compresses only what changed.
"""

from __future__ import annotations

import contextlib
import gzip
import importlib.util
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from werkzeug.http import parse_accept_header

SUFFIXES: dict[str, str] = {"br": ".br", "zstd": ".zst", "gzip": ".gz"}
PREFERENCE = ("br", "zstd", "gzip")

# Already compressed formats: compressing them again wastes time and saves nothing.
INCOMPRESSIBLE = frozenset(
    [
        ".png",
        ".jpg",
        ".jpeg",
        ".gif",
        ".webp",
        ".avif",
        ".heic",
        ".ico",
        ".woff",
        ".woff2",
        ".zip",
        ".gz",
        ".br",
        ".zst",
        ".bz2",
        ".xz",
        ".7z",
        ".mp3",
        ".mp4",
        ".m4a",
        ".ogg",
        ".oga",
        ".ogv",
        ".webm",
        ".mov",
        ".pdf",
        ".jxl",
    ]
)


def accepted_encodings(accept_encoding: str) -> list[str]:
    """The encodings of ours the client accepts (q > 0), in our order of preference."""
    if not accept_encoding:
        return []
    accept = parse_accept_header(accept_encoding)
    return [e for e in PREFERENCE if accept[e] > 0]


def compressible(path: str) -> bool:
    return os.path.splitext(path)[1].lower() not in INCOMPRESSIBLE


def available(encodings: Sequence[str]) -> list[str]:
    return [e for e in encodings if e != "zstd" or importlib.util.find_spec("zstandard")]


@dataclass(frozen=True)
class Compressor:
    encodings: tuple[str, ...]
    gzip_level: int = 9
    brotli_quality: int = 11
    min_size: int = 256

    def codec(self, encoding: str) -> Callable[[bytes], bytes]:
        if encoding == "gzip":
            level = self.gzip_level
            return lambda data: gzip.compress(data, compresslevel=level, mtime=0)
        if encoding == "br":
            import brotli  # type: ignore[import-untyped]

            quality = self.brotli_quality
            return lambda data: bytes(brotli.compress(data, quality=quality))
        import zstandard

        return lambda data: bytes(zstandard.ZstdCompressor(level=19).compress(data))

    def compress_file(self, path: str) -> tuple[int, int, int]:
        """Write the siblings of ``path`` that are missing or stale: (written, bytes in, bytes
        saved). A sibling that would not be smaller is not kept."""
        if not compressible(path):
            return (0, 0, 0)
        info = os.stat(path)
        if info.st_size < self.min_size:
            return (0, 0, 0)
        todo = [e for e in self.encodings if not _fresh(path + SUFFIXES[e], info.st_mtime_ns)]
        if not todo:
            return (0, 0, 0)
        with open(path, "rb") as file:
            data = file.read()
        written = saved = 0
        for encoding in todo:
            packed = self.codec(encoding)(data)
            target = path + SUFFIXES[encoding]
            if len(packed) >= len(data):
                _remove(target)
                continue
            _write_atomic(target, packed, (info.st_atime_ns, info.st_mtime_ns))
            written += 1
            saved += len(data) - len(packed)
        return (written, len(data), saved)


def _fresh(sibling: str, mtime_ns: int) -> bool:
    try:
        return os.stat(sibling).st_mtime_ns == mtime_ns
    except OSError:
        return False


def _remove(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


def _write_atomic(path: str, data: bytes, times: tuple[int, int]) -> None:
    fd, temp = tempfile.mkstemp(prefix=".staticbust-", dir=os.path.dirname(path))
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
        os.chmod(temp, 0o644)
        os.utime(temp, ns=times)
        os.replace(temp, path)
    except BaseException:
        _remove(temp)
        raise
