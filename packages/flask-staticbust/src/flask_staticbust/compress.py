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
import io
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from werkzeug.http import parse_accept_header

from .hashing import thread_buffer

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


class Stream(Protocol):
    def process(self, data: bytes | memoryview) -> bytes: ...
    def finish(self) -> bytes: ...


class _Gzip:
    """gzip as a stream (``mtime=0``: the same bytes on every build)."""

    def __init__(self, level: int) -> None:
        self.out = io.BytesIO()
        self.file = gzip.GzipFile(
            filename="", mode="wb", fileobj=self.out, compresslevel=level, mtime=0
        )

    def process(self, data: bytes | memoryview) -> bytes:
        self.file.write(data)
        chunk = self.out.getvalue()
        self.out.seek(0)
        self.out.truncate()
        return chunk

    def finish(self) -> bytes:
        self.file.close()
        return self.out.getvalue()


class _Zstd:
    def __init__(self) -> None:
        import zstandard

        self.compressor = zstandard.ZstdCompressor(level=19).compressobj()

    def process(self, data: bytes | memoryview) -> bytes:
        return bytes(self.compressor.compress(data))

    def finish(self) -> bytes:
        return bytes(self.compressor.flush())


@dataclass(frozen=True)
class Compressor:
    encodings: tuple[str, ...]
    gzip_level: int = 9
    brotli_quality: int = 11
    min_size: int = 256

    def stream(self, encoding: str) -> Stream:
        if encoding == "gzip":
            return _Gzip(self.gzip_level)
        if encoding == "br":
            import brotli  # type: ignore[import-untyped]

            compressor: Stream = brotli.Compressor(quality=self.brotli_quality)
            return compressor
        return _Zstd()

    def compress_file(self, path: str) -> tuple[int, int, int]:
        """Write the siblings of ``path`` that are missing or stale: (written, bytes in, bytes
        saved). A sibling that would not be smaller is not kept. Streamed through one buffer
        per thread, so no file is held in memory whole."""
        if not compressible(path):
            return (0, 0, 0)
        info = os.stat(path)
        if info.st_size < self.min_size:
            return (0, 0, 0)
        todo = [e for e in self.encodings if not _fresh(path + SUFFIXES[e], info.st_mtime_ns)]
        written = saved = 0
        for encoding in todo:
            target = path + SUFFIXES[encoding]
            size = self._write(path, target, encoding, (info.st_atime_ns, info.st_mtime_ns))
            if size < info.st_size:
                written += 1
                saved += info.st_size - size
        return (written, info.st_size if todo else 0, saved)

    def _write(self, source: str, target: str, encoding: str, times: tuple[int, int]) -> int:
        """Compress ``source`` into ``target`` (atomically); its size, or the source's size
        when it would not be smaller (and then no file is left)."""
        stream = self.stream(encoding)
        buffer = thread_buffer()
        view = memoryview(buffer)
        fd, temp = tempfile.mkstemp(prefix=".staticbust-", dir=os.path.dirname(target))
        try:
            with os.fdopen(fd, "wb") as out, open(source, "rb") as file:
                while count := file.readinto(buffer):
                    out.write(stream.process(view[:count]))
                out.write(stream.finish())
                size = out.tell()
            if size >= os.stat(source).st_size:
                _remove(temp)
                _remove(target)
                return os.stat(source).st_size
            os.chmod(temp, 0o644)
            os.utime(temp, ns=times)
            os.replace(temp, target)
        except BaseException:
            _remove(temp)
            raise
        return size


def _fresh(sibling: str, mtime_ns: int) -> bool:
    try:
        return os.stat(sibling).st_mtime_ns == mtime_ns
    except OSError:
        return False


def _remove(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)
