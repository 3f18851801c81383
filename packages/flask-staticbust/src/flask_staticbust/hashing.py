"""Hashing files: streamed with :func:`hashlib.file_digest` (which releases the GIL on large
reads), in a thread pool when there are many, so a cold start of a large tree uses every core."""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def file_hexdigest(path: str, algorithm: str = "sha256") -> str:
    with open(path, "rb") as file:
        return hashlib.file_digest(file, algorithm).hexdigest()


def sri_of_bytes(data: bytes) -> str:
    """The Subresource Integrity value (``sha384-<base64>``) of ``data``."""
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode("ascii")


def sri_of_file(path: str) -> str:
    with open(path, "rb") as file:
        digest = hashlib.file_digest(file, "sha384").digest()
    return "sha384-" + base64.b64encode(digest).decode("ascii")


def default_workers() -> int:
    return min(8, os.cpu_count() or 1)


def parallel_map(
    func: Callable[[T], R], items: Sequence[T], workers: int | None = None, threshold: int = 64
) -> list[R]:
    """``[func(i) for i in items]``, in threads when there are at least ``threshold`` items."""
    count = workers or default_workers()
    if len(items) < threshold or count == 1:
        return [func(item) for item in items]
    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(func, items, chunksize=16))


def combined_hexdigest(parts: Iterable[str]) -> str:
    """One sha256 over ``parts`` joined by newlines (the version of a list of entries)."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode("utf-8", "surrogateescape"))
        digest.update(b"\n")
    return digest.hexdigest()
