"""Hashing files: streamed with :func:`hashlib.file_digest` (which releases the GIL on large
reads), in a thread pool when there are many, so a cold start of a large tree uses every core."""

from __future__ import annotations

import base64
import hashlib
import os
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


SMALL = 1 << 20


def file_hexdigest(path: str, algorithm: str = "sha256", size_hint: int = -1) -> str:
    """The hex digest of a file. A small file is read in one ``os.read`` (``file_digest``
    allocates a 256 KiB buffer per call, which costs more than hashing 10 KB), a large one
    streamed by ``file_digest``."""
    if 0 <= size_hint < SMALL:
        data = read_small(path)
        if data is not None:
            return hashlib.new(algorithm, data).hexdigest()
    with open(path, "rb") as file:
        return hashlib.file_digest(file, algorithm).hexdigest()


def read_small(path: str) -> bytes | None:
    """The bytes of a file under :data:`SMALL`, read with one ``os.read`` (no buffered file
    object, its ``fstat``, ``lseek`` and ``ioctl``); None for a larger file."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0) | os.O_CLOEXEC)
    try:
        data = os.read(fd, SMALL)
    finally:
        os.close(fd)
    return data if len(data) < SMALL else None


def sri_of_bytes(data: bytes) -> str:
    """The Subresource Integrity value (``sha384-<base64>``) of ``data``."""
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode("ascii")


def sri_of_file(path: str) -> str:
    with open(path, "rb") as file:
        digest = hashlib.file_digest(file, "sha384").digest()
    return "sha384-" + base64.b64encode(digest).decode("ascii")


_local = threading.local()


def thread_buffer() -> bytearray:
    """A 256 KiB buffer of the calling thread's own, reused for every file it streams."""
    buffer: bytearray | None = getattr(_local, "buffer", None)
    if buffer is None:
        buffer = _local.buffer = bytearray(1 << 18)
    return buffer


def default_workers() -> int:
    return min(8, os.cpu_count() or 1)


def build_workers(workers: int | None) -> int:
    """The threads of ``flask staticbust build``: ``workers``, or by default twice the CPUs,
    up to 8. A build waits on the disk (creating 20,000 files) about as long as it computes:
    while one thread waits, another compresses."""
    return workers or min(8, 2 * (os.cpu_count() or 1))


def parallel_map(
    func: Callable[[T], R], items: Sequence[T], workers: int | None = None, threshold: int = 64
) -> list[R]:
    """``[func(i) for i in items]``, in threads when there are at least ``threshold`` items."""
    count = workers or default_workers()
    if len(items) < threshold or count == 1:
        return [func(item) for item in items]
    # One task per thread, each over every count-th item: Executor.map over the items would
    # create a Future (with its lock and condition) for each of 10,000 files up front.
    parts = [items[start::count] for start in range(count)]
    with ThreadPoolExecutor(max_workers=count) as pool:
        done = list(pool.map(lambda part: [func(item) for item in part], parts))
    results: list[R] = []
    for index in range(len(items)):
        results.append(done[index % count][index // count])
    return results


def combined_hexdigest(parts: Iterable[str]) -> str:
    """One sha256 over ``parts`` joined by newlines (the version of a list of entries)."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode("utf-8", "surrogateescape"))
        digest.update(b"\n")
    return digest.hexdigest()
