"""What ``flask staticbust build`` does, apart from the terminal: digest (digest mode), then
precompress what is served, and count it all for the summary line."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from .compress import Compressor, Counts, available
from .config import Settings
from .digest import Builder
from .hashing import build_workers, parallel_map
from .walk import list_names


@dataclass
class Summary:
    files: int = 0
    digested_written: int = 0
    compressed: int = 0
    bytes_in: int = 0
    bytes_saved: int = 0
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)

    def line(self) -> str:
        return (
            f"{self.files} files, {self.digested_written} digested files written,"
            f" {self.compressed} compressed files written, {self.bytes_saved / 1e6:.1f} MB saved"
            f" by compression, {len(self.warnings)} warnings, in {self.seconds:.2f} s"
        )


def served_files(root: str) -> list[str]:
    """The static-relative names a build compresses in route and symlink mode: every file."""
    return [rel for rel in list_names(root) if not rel.endswith((".gz", ".br", ".zst"))]


def build_folder(
    root: str,
    settings: Settings,
    start: Callable[[str, int], None] | None = None,
    step: Callable[[int], None] | None = None,
) -> Summary:
    """Digest (digest mode) and precompress ``root``. ``start(label, total)`` and ``step(n)``
    report progress (the CLI's progress bar)."""
    began = time.perf_counter()
    summary = Summary()
    compressor = Compressor(
        tuple(available(settings.compress)),
        settings.gzip_level,
        settings.brotli_quality,
        settings.compress_min_size,
    )
    if settings.mode == "digest":
        # Compressed as each file is digested, from the bytes just read and hashed.
        result = Builder(root, settings, compressor).build(start, step)
        summary.files = result.files
        summary.digested_written = result.written
        summary.warnings = result.warnings
        summary.compressed, summary.bytes_in, summary.bytes_saved = result.compressed
    elif compressor.encodings:
        targets = served_files(root)
        summary.files = len(targets)
        if start:
            start("compressing", len(targets))

        def one(rel: str) -> Counts:
            done = compressor.compress_file(os.path.join(root, rel))
            if step:
                step(1)
            return done

        for written, size, saved in parallel_map(
            one, targets, build_workers(settings.workers), threshold=2
        ):
            summary.compressed += written
            summary.bytes_in += size
            summary.bytes_saved += saved
    else:
        summary.files = len(served_files(root))
    summary.seconds = time.perf_counter() - began
    return summary
