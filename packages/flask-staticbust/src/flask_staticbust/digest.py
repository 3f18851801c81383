"""Digest mode's build: ``app.css`` -> ``app.3f2a9c1b.css`` beside it, references rewritten, a
manifest of both names and each file's SRI value.

A file's digest covers the digests of the files it references: files are digested in dependency
order (what a file references first), its references rewritten to their digested names before
it is hashed, so changing an image changes the name of the CSS that uses it. A reference cycle
(``a.css`` imports ``b.css``, which imports ``a.css``) cannot have such names: the build stops
with an error naming the cycle. A file referring to itself is left as it is. A reference to a
missing file (a source map not shipped, typically) is a warning naming both files, or an error
with ``STATICBUST_STRICT``. Files whose names carry a hash already (a Vite or esbuild build,
``STATICBUST_HASHED_PATTERN``) keep their names and bytes.
"""

from __future__ import annotations

import base64
import bisect
import hashlib
import io
import logging
import os
import posixpath
import shutil
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from .compress import NOTHING, Compressor, Counts
from .config import Settings
from .errors import BuildError
from .hashing import build_workers, parallel_map, read_small, thread_buffer
from .manifest import Manifest, manifest_lines, read_manifest, write_manifest
from .references import Reference, apply, digested_text, normalize_newlines, target_of
from .rewrite_js import js_references
from .tempfiles import create, open_temp, remove, replace
from .walk import list_names

logger = logging.getLogger(__name__)

REWRITTEN = {".css": "css", ".js": "js", ".mjs": "js"}
SIBLINGS = (".gz", ".br", ".zst")
SRI_BYTES = 48  # sha384


@dataclass
class BuildResult:
    files: int = 0  # the files served (digested names, and names kept as they were)
    written: int = 0  # digested files written (the others existed: same name, same bytes)
    compressed: Counts = NOTHING  # from Compressor: siblings written, bytes in, bytes saved
    warnings: list[str] = field(default_factory=list)


def is_hashed(rel: str, settings: Settings) -> bool:
    stem = posixpath.splitext(posixpath.basename(rel))[0]
    return settings.hashed_pattern.search(stem) is not None


def sources_of(root: str, settings: Settings, previous: Manifest | None) -> list[str]:
    """The files to digest, sorted: not our manifest, Vite's, an earlier build's output, nor a
    precompressed sibling of another file."""
    outputs: set[str] = set()
    if previous is not None:
        outputs.update(e.path for rel, e in previous.files.items() if e.path != rel)
        for rel, paths in previous.history.items():
            outputs.update(p for p in paths if p != rel)
    outputs.update(n for n in (settings.manifest, settings.vite_manifest) if n)

    def skip(rel: str) -> bool:
        # Filtered during the walk: a rebuild's tree is three times the sources (digested
        # copies and compressed siblings), which need no object each.
        if rel in outputs:
            return True
        return rel.endswith(SIBLINGS) and os.path.isfile(os.path.join(root, rel.rsplit(".", 1)[0]))

    return list_names(root, skip)


def references_of(rel: str, text: str, settings: Settings) -> list[Reference]:
    kind = REWRITTEN.get(posixpath.splitext(rel)[1].lower())
    if kind == "css":
        from .rewrite_css import css_references  # tinycss2 is loaded only for a CSS file

        return css_references(text)
    if kind == "js":
        return js_references(text, settings.js_modules)
    return []


def dependency_order(deps: dict[str, list[str]]) -> list[str]:
    """Every file after the files it references (depth first, in sorted order: the same
    order on every host). Raises :class:`BuildError` naming the first cycle found."""
    order: list[str] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    for start in sorted(deps):
        if state.get(start) == 2:
            continue
        stack: list[tuple[str, int]] = [(start, 0)]
        path: list[str] = [start]
        state[start] = 1
        while stack:
            node, index = stack[-1]
            children = deps.get(node, [])
            if index < len(children):
                stack[-1] = (node, index + 1)
                child = children[index]
                if state.get(child) == 1:
                    cycle = [*path[path.index(child) :], child]
                    raise BuildError("reference cycle: " + " -> ".join(cycle))
                if state.get(child) != 2:
                    state[child] = 1
                    stack.append((child, 0))
                    path.append(child)
            else:
                stack.pop()
                path.pop()
                state[node] = 2
                order.append(node)
    return order


class Results:
    """Each source's digest and SRI value, by its index in the sorted sources, packed in two
    byte arrays (56 bytes a file with the default length) rather than an object per file: the
    manifest is written from them at the end, a line at a time."""

    def __init__(self, count: int, length: int) -> None:
        self.length = length
        self.digests = bytearray(count * length)  # ASCII hex; all zero bytes: name kept
        self.sris = bytearray(count * SRI_BYTES)

    def set(self, index: int, digest: str, sri: bytes) -> None:
        length = self.length
        if digest:
            self.digests[index * length : (index + 1) * length] = digest.encode("ascii")
        self.sris[index * SRI_BYTES : (index + 1) * SRI_BYTES] = sri

    def digest(self, index: int) -> str:
        length = self.length
        return self.digests[index * length : (index + 1) * length].decode("ascii").strip("\0")

    def sri(self, index: int) -> str:
        raw = self.sris[index * SRI_BYTES : (index + 1) * SRI_BYTES]
        return "sha384-" + base64.b64encode(raw).decode("ascii")


class Builder:
    """One run of the build over one static folder: each file is read once, hashed (its name's
    digest and its SRI value in the same pass), written under its digested name and compressed
    from the same bytes, in a thread pool (hashlib and zlib release the GIL)."""

    def __init__(self, root: str, settings: Settings, compressor: Compressor | None = None) -> None:
        self.root = root
        self.settings = settings
        self.compressor = compressor or Compressor(())
        self.manifest_path = os.path.join(root, settings.manifest)
        self.previous = read_manifest(self.manifest_path)
        self.warnings: list[str] = []
        self.lock = threading.Lock()
        self.written = 0
        self.compressed: Counts = NOTHING

    def warn(self, message: str) -> None:
        if self.settings.strict:
            raise BuildError(message)
        logger.warning("flask-staticbust: %s", message)
        self.warnings.append(message)

    def build(
        self,
        start: Callable[[str, int], None] | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> BuildResult:
        settings = self.settings
        sources = sources_of(self.root, settings, self.previous)
        if start:
            label = "digesting and compressing" if self.compressor.encodings else "digesting"
            start(label, len(sources))
        known = set(sources)
        # References only, not the texts: a tree of 40 MB of CSS and JS is read again when its
        # turn comes rather than held in memory. Only the texts that reference files keep
        # their references (and have dependencies).
        texts: list[str] = []
        refs_of: dict[str, list[Reference]] = {}
        deps: dict[str, list[str]] = {}
        for rel in sources:
            if rel.endswith(tuple(REWRITTEN)) and not is_hashed(rel, settings):
                text = self._read_text(rel)
                if text is None:
                    continue
                texts.append(rel)
                targets = set()
                refs = references_of(rel, text, settings)
                for ref in refs:
                    target = target_of(rel, ref.text)
                    if target is None or target == rel:
                        continue
                    if target not in known:
                        self.warn(
                            f"{rel}: references {ref.text!r} ({target}), which does not exist"
                        )
                        continue
                    targets.add(target)
                if targets:
                    refs_of[rel] = refs
                    deps[rel] = sorted(targets)
        del known
        results = Results(len(sources), settings.digest_length)
        referenced = {target for targets in deps.values() for target in targets}
        digests: dict[str, str] = {}  # the digests of referenced files (none: name kept)

        def record(rel: str, digest: str, sri: bytes) -> None:
            # Called from the pool's threads: each writes its own slices of the results, and
            # `digests` gains the names a later level reads.
            results.set(bisect.bisect_left(sources, rel), digest, sri)
            if rel in referenced and digest:
                digests[rel] = digest
            if progress:
                progress(1)

        def digest_plain(rel: str) -> None:
            record(rel, *self._digest_file(rel))

        def digest_text(rel: str) -> None:
            record(rel, *self._digest_text(rel, refs_of.get(rel, []), digests))

        workers = build_workers(settings.workers)
        is_text = set(texts)
        parallel_map(digest_plain, [rel for rel in sources if rel not in is_text], workers)
        del is_text
        # Texts after what they reference, a level at a time (a level's files reference only
        # files of the levels before it), each level in the thread pool.
        for level in _levels(texts, dependency_order(deps), deps):
            parallel_map(digest_text, level, workers)
        write_manifest(self.manifest_path, self._manifest_lines(sources, results))
        return BuildResult(len(sources), self.written, self.compressed, self.warnings)

    def _manifest_lines(self, sources: list[str], results: Results) -> Iterator[str]:
        old = self.previous.history if self.previous is not None else {}

        def served(index: int, rel: str) -> str:
            digest = results.digest(index)
            return digested_text(rel, digest) if digest else rel

        files = ((rel, served(i, rel), results.sri(i)) for i, rel in enumerate(sources))
        history = (
            (rel, [name, *[p for p in old.get(rel, []) if p != name]])
            for rel, name in ((rel, served(i, rel)) for i, rel in enumerate(sources))
        )
        return manifest_lines(self.settings.digest_algorithm, files, history)

    def _read_text(self, rel: str) -> str | None:
        path = os.path.join(self.root, rel)
        try:
            raw = read_small(path)
            if raw is None:  # a large bundle
                with open(path, "rb") as file:
                    raw = file.read()
        except OSError as error:
            self.warn(f"{rel}: cannot be read ({error.strerror})")
            return None
        try:
            return normalize_newlines(raw.decode("utf-8-sig"))
        except UnicodeDecodeError:
            self.warn(f"{rel}: not UTF-8, digested without rewriting its references")
            return None

    def _digest_text(
        self, rel: str, refs: list[Reference], digests: dict[str, str]
    ) -> tuple[str, bytes]:
        text = self._read_text(rel)
        if text is None:  # changed since it was scanned: digested as it is now
            return self._digest_file(rel)

        def replace(reference: str) -> str | None:
            target = target_of(rel, reference)
            digest = digests.get(target) if target else None
            return digested_text(reference, digest) if digest else None

        data = apply(text, refs, replace).encode("utf-8") if refs else text.encode("utf-8")
        digest = hashlib.new(self.settings.digest_algorithm, data).hexdigest()
        digest = digest[: self.settings.digest_length]
        self._store(digested_text(rel, digest), data)
        return digest, hashlib.sha384(data).digest()

    def _digest_file(self, rel: str) -> tuple[str, bytes]:
        """(digest, raw SRI digest) of a file served with its bytes as they are, written and
        compressed under its digested name (its own name when it carries a hash already)."""
        algorithm, length = self.settings.digest_algorithm, self.settings.digest_length
        path = os.path.join(self.root, rel)
        kept = is_hashed(rel, self.settings)
        data = read_small(path)
        if data is None:  # large: streamed through one buffer per thread, copied by the kernel
            with open(path, "rb") as file:
                sri, digest = _sri_and_digest(file, None if kept else algorithm)
        if data is not None:
            sri = hashlib.sha384(data).digest()
            digest = "" if kept else hashlib.new(algorithm, data).hexdigest()
        if kept:
            self._add(0, self.compressor.compress_file(path))
            return "", sri
        digest = digest[:length]
        if data is not None:
            self._store(digested_text(rel, digest), data)
        else:
            target = os.path.join(self.root, digested_text(rel, digest))
            self._add(int(self._copy(path, target)), self.compressor.compress_file(target))
        return digest, sri

    def _add(self, written: int, compressed: Counts) -> None:
        with self.lock:
            self.written += written
            self.compressed = (
                self.compressed[0] + compressed[0],
                self.compressed[1] + compressed[1],
                self.compressed[2] + compressed[2],
            )

    def _store(self, name: str, data: bytes) -> None:
        """Write ``data`` as ``name`` unless a build wrote it before (a digested name's content
        never changes; a shorter file is what a crash left), then its compressed siblings from
        the same bytes."""
        target = os.path.join(self.root, name)
        written = 1
        mtime_ns = create(target, data)
        new = mtime_ns is not None
        if mtime_ns is None:
            info = os.stat(target)
            if info.st_size == len(data):
                written, mtime_ns = 0, info.st_mtime_ns
            else:
                mtime_ns = replace(target, data)
        self._add(written, self.compressor.compress_data(target, data, mtime_ns, new))

    def _copy(self, source: str, target: str) -> bool:
        if os.path.isfile(target):
            return False
        fd, temp = open_temp(target)
        os.close(fd)
        try:
            shutil.copyfile(source, temp)
            os.replace(temp, target)
        except BaseException:
            remove(temp)
            raise
        return True


def _levels(texts: list[str], order: list[str], deps: dict[str, list[str]]) -> list[list[str]]:
    """``texts`` grouped by depth: a text's level is one more than the deepest text it
    references (0: it references none); ``order`` has every file of ``deps`` after the files
    it references."""
    level = dict.fromkeys(texts, 0)
    for rel in order:
        if rel in deps:
            level[rel] = 1 + max((level[d] for d in deps[rel] if d in level), default=-1)
    groups: list[list[str]] = [[] for _ in range(max(level.values(), default=-1) + 1)]
    for rel in texts:  # sorted, as the sources are
        groups[level[rel]].append(rel)
    return groups


def _sri_and_digest(stream: io.BufferedReader, algorithm: str | None) -> tuple[bytes, str]:
    """The raw SRI digest (sha384) and the hex digest by ``algorithm`` (None: none, "") of a
    stream, in one pass."""
    sri = hashlib.sha384()
    digest = hashlib.new(algorithm) if algorithm else None
    buffer = thread_buffer()
    view = memoryview(buffer)
    while count := stream.readinto(buffer):
        sri.update(view[:count])
        if digest is not None:
            digest.update(view[:count])
    return sri.digest(), digest.hexdigest() if digest is not None else ""
