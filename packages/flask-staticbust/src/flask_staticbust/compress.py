"""Precompressed siblings (``app.css.br``, ``.zst``, ``.gz``): choosing one for a request, and
writing them at build time, in a thread pool (zlib, brotli and zstandard release the GIL while
they compress), skipping types that don't compress and files unchanged since the last build.

A sibling carries its source's mtime (``os.utime``): a sibling whose mtime equals its source's
is up to date, so a rebuild compresses only what changed.
"""

from __future__ import annotations

import importlib.util
import os
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from werkzeug.datastructures import Accept

from .hashing import thread_buffer
from .tempfiles import create, open_temp, remove, replace

SUFFIXES: dict[str, str] = {"br": ".br", "zstd": ".zst", "gzip": ".gz"}
PREFERENCE = ("br", "zstd", "gzip")

Counts = tuple[int, int, int]  # siblings written, bytes of the sources, bytes saved
NOTHING: Counts = (0, 0, 0)

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
    accept = _parse_accept(accept_encoding)
    return [e for e in PREFERENCE if accept[e] > 0]


def _parse_accept(value: str) -> Accept:
    """Werkzeug 3.2 parses with ``Accept.from_header`` and deprecates ``parse_accept_header``;
    3.1 has only the function."""
    from_header = getattr(Accept, "from_header", None)
    if from_header is not None:
        parsed: Accept = from_header(value)
        return parsed
    from werkzeug.http import parse_accept_header

    return parse_accept_header(value)


def compressible(path: str) -> bool:
    return os.path.splitext(path)[1].lower() not in INCOMPRESSIBLE


def available(encodings: Sequence[str]) -> list[str]:
    return [e for e in encodings if e != "zstd" or importlib.util.find_spec("zstandard")]


class Stream(Protocol):
    def process(self, data: bytes | memoryview) -> bytes: ...
    def finish(self) -> bytes: ...


class _Gzip:
    """gzip as one zlib stream with a gzip header (``wbits=31``): no ``GzipFile`` and its
    buffer per file. zlib writes a zero mtime, so a build gives the same bytes every time."""

    def __init__(self, level: int) -> None:
        self.compressor = zlib.compressobj(level, zlib.DEFLATED, 31)

    def process(self, data: bytes | memoryview) -> bytes:
        return self.compressor.compress(data)

    def finish(self) -> bytes:
        return self.compressor.flush()


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

    def compress_file(self, path: str) -> Counts:
        """Write the siblings of ``path`` that are missing or stale, streamed through one
        buffer per thread (no file is held in memory whole): (written, bytes in, bytes saved).
        A sibling that would not be smaller is not kept."""
        if not compressible(path):
            return NOTHING
        info = os.stat(path)
        if info.st_size < self.min_size:
            return NOTHING
        return self._siblings(path, info.st_size, info.st_mtime_ns, None)

    def compress_data(self, path: str, data: bytes, mtime_ns: int, new: bool = False) -> Counts:
        """:meth:`compress_file` for a file whose bytes are in memory already (a build has just
        read, hashed and written them: they are compressed without being read again). ``new``:
        the file was created just now, so it has no sibling to check."""
        if not compressible(path) or len(data) < self.min_size:
            return NOTHING
        return self._siblings(path, len(data), mtime_ns, data, new)

    def _siblings(
        self, path: str, size: int, mtime_ns: int, data: bytes | None, new: bool = False
    ) -> Counts:
        todo = [e for e in self.encodings if new or not _fresh(path + SUFFIXES[e], mtime_ns)]
        written = saved = 0
        for encoding in todo:
            target = path + SUFFIXES[encoding]
            if data is None:
                compressed = self._write_streamed(path, target, encoding, size, mtime_ns)
            else:
                stream = self.stream(encoding)
                encoded = stream.process(data) + stream.finish()
                compressed = len(encoded)
                if compressed >= size:
                    compressed = size
                    if not new:
                        remove(target)
                elif not new or create(target, encoded, mtime_ns) is None:
                    replace(target, encoded, mtime_ns)
            if compressed < size:
                written += 1
                saved += size - compressed
        return (written, size if todo else 0, saved)

    def _write_streamed(
        self, source: str, target: str, encoding: str, size: int, mtime_ns: int
    ) -> int:
        """Compress the file ``source`` in chunks into ``target``, atomically, with the
        source's mtime; its size, or ``size`` (the source's) when it would not be smaller (and
        then no file is left)."""
        stream = self.stream(encoding)
        fd, temp = open_temp(target)
        try:
            with os.fdopen(fd, "wb") as out:
                buffer = thread_buffer()
                view = memoryview(buffer)
                with open(source, "rb") as file:
                    while count := file.readinto(buffer):
                        out.write(stream.process(view[:count]))
                out.write(stream.finish())
                compressed = out.tell()
            if compressed >= size:
                remove(temp)
                remove(target)
                return size
            os.utime(temp, ns=(mtime_ns, mtime_ns))
            os.replace(temp, target)
        except BaseException:
            remove(temp)
            raise
        return compressed


def _fresh(sibling: str, mtime_ns: int) -> bool:
    try:
        return os.stat(sibling).st_mtime_ns == mtime_ns
    except OSError:
        return False
