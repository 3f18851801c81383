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
import hashlib
import io
import logging
import os
import posixpath
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field

from .config import Settings
from .errors import BuildError
from .hashing import parallel_map, sri_of_bytes, thread_buffer
from .manifest import Manifest, ManifestEntry, read_manifest, write_manifest
from .references import Reference, apply, digested_text, target_of
from .rewrite_css import css_references, normalize_newlines
from .rewrite_js import js_references
from .walk import FileStat, list_files

logger = logging.getLogger(__name__)

REWRITTEN = {".css": "css", ".js": "js", ".mjs": "js"}
SIBLINGS = (".gz", ".br", ".zst")


@dataclass
class BuildResult:
    manifest: Manifest
    outputs: list[str] = field(default_factory=list)  # every digested (served) name
    written: int = 0
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Digested:
    entry: ManifestEntry
    written: bool
    digest: str  # "" when the name already carried a hash and is kept


def is_hashed(rel: str, settings: Settings) -> bool:
    stem = posixpath.splitext(posixpath.basename(rel))[0]
    return settings.hashed_pattern.search(stem) is not None


def sources_of(root: str, settings: Settings, previous: Manifest | None) -> list[FileStat]:
    """The files to digest: not our manifest, Vite's, an earlier build's output, nor a
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

    return list_files(root, skip)


def references_of(rel: str, text: str, settings: Settings) -> list[Reference]:
    kind = REWRITTEN.get(posixpath.splitext(rel)[1].lower())
    if kind == "css":
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


class Builder:
    """One run of the build over one static folder."""

    def __init__(self, root: str, settings: Settings) -> None:
        self.root = root
        self.settings = settings
        self.manifest_path = os.path.join(root, settings.manifest)
        self.previous = read_manifest(self.manifest_path)
        self.warnings: list[str] = []

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
            start("digesting", len(sources))
        by_rel = {f.rel: f for f in sources}
        # References only, not the texts: a tree of 40 MB of CSS and JS is read again when its
        # turn comes rather than held in memory.
        texts: dict[str, list[Reference]] = {}
        deps: dict[str, list[str]] = {}
        for f in sources:
            if f.rel.endswith(tuple(REWRITTEN)) and not is_hashed(f.rel, settings):
                text = self._read_text(f)
                if text is None:
                    continue
                refs = references_of(f.rel, text, settings)
                targets = []
                for ref in refs:
                    target = target_of(f.rel, ref.text)
                    if target is None or target == f.rel:
                        continue
                    if target not in by_rel:
                        self.warn(
                            f"{f.rel}: references {ref.text!r} ({target}), which does not exist"
                        )
                        continue
                    targets.append(target)
                texts[f.rel] = refs
                deps[f.rel] = sorted(set(targets))
        order = dependency_order(deps)  # raises on a cycle before anything is written
        entries: dict[str, ManifestEntry] = {}
        digests: dict[str, str] = {}  # rel -> the digest in its name (none: name kept)
        written = 0

        plain = [f for f in sources if f.rel not in texts]

        def digest_plain(f: FileStat) -> tuple[str, Digested]:
            done = self._digest_file(f)
            if progress:
                progress(1)
            return f.rel, done

        results = parallel_map(digest_plain, plain, settings.workers)
        digests.update((rel, done.digest) for rel, done in results if done.digest)
        for rel in order:
            if rel not in texts:
                continue
            text = self._read_text(by_rel[rel])
            if text is None:
                continue
            done = self._digest_text(by_rel[rel], text, texts[rel], digests)
            results.append((rel, done))
            if done.digest:
                digests[rel] = done.digest
            if progress:
                progress(1)
        for rel, done in results:
            entries[rel] = done.entry
            written += done.written
        manifest = Manifest(settings.digest_algorithm, entries, self._history(entries))
        write_manifest(self.manifest_path, manifest)
        outputs = sorted(e.path for e in entries.values())
        return BuildResult(manifest, outputs, written, self.warnings)

    def _read_text(self, f: FileStat) -> str | None:
        try:
            with open(f.path, "rb") as file:
                raw = file.read()
        except OSError as error:
            self.warn(f"{f.rel}: cannot be read ({error.strerror})")
            return None
        try:
            return normalize_newlines(raw.decode("utf-8-sig"))
        except UnicodeDecodeError:
            self.warn(f"{f.rel}: not UTF-8, digested without rewriting its references")
            return None

    def _hash(self, data: bytes) -> str:
        return hashlib.new(self.settings.digest_algorithm, data).hexdigest()[
            : self.settings.digest_length
        ]

    def _digest_text(
        self, f: FileStat, text: str, refs: list[Reference], digests: dict[str, str]
    ) -> Digested:
        def replace(reference: str) -> str | None:
            target = target_of(f.rel, reference)
            digest = digests.get(target) if target else None
            return digested_text(reference, digest) if digest else None

        data = apply(text, refs, replace).encode("utf-8")
        digest = self._hash(data)
        name = digested_text(f.rel, digest)
        return Digested(ManifestEntry(name, sri_of_bytes(data)), self._write(name, data), digest)

    def _digest_file(self, f: FileStat) -> Digested:
        algorithm, length = self.settings.digest_algorithm, self.settings.digest_length
        if is_hashed(f.rel, self.settings):
            with open(f.path, "rb") as file:
                sri = _sri_and_digest(file, algorithm)[0]
            return Digested(ManifestEntry(f.rel, sri), False, "")
        # Streamed through one buffer per thread and copied by the kernel (copyfile): the bulk
        # of a tree never passes through Python objects, which keeps the peak memory flat.
        with open(f.path, "rb") as file:
            sri, digest = _sri_and_digest(file, algorithm)
        name = digested_text(f.rel, digest[:length])
        return Digested(ManifestEntry(name, sri), self._copy(f.path, name), digest[:length])

    def _exists(self, name: str) -> bool:
        return os.path.isfile(os.path.join(self.root, name))

    def _write(self, name: str, data: bytes) -> bool:
        """Write ``name`` unless it exists: a digested name's content never changes."""
        if self._exists(name):
            return False
        target = os.path.join(self.root, name)
        fd, temp = tempfile.mkstemp(prefix=".staticbust-", dir=os.path.dirname(target))
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(data)
            os.chmod(temp, 0o644)
            os.replace(temp, target)
        except BaseException:
            os.unlink(temp)
            raise
        return True

    def _copy(self, source: str, name: str) -> bool:
        if self._exists(name):
            return False
        target = os.path.join(self.root, name)
        fd, temp = tempfile.mkstemp(prefix=".staticbust-", dir=os.path.dirname(target))
        os.close(fd)
        try:
            shutil.copyfile(source, temp)
            os.chmod(temp, 0o644)
            os.replace(temp, target)
        except BaseException:
            os.unlink(temp)
            raise
        return True

    def _history(self, entries: dict[str, ManifestEntry]) -> dict[str, list[str]]:
        """Each file's digested names, newest first (the current one, then the earlier)."""
        old = self.previous.history if self.previous is not None else {}
        return {
            rel: [entry.path, *[p for p in old.get(rel, []) if p != entry.path]]
            for rel, entry in entries.items()
        }


def _sri_and_digest(stream: io.BufferedReader, algorithm: str) -> tuple[str, str]:
    sri = hashlib.sha384()
    digest = hashlib.new(algorithm)
    buffer = thread_buffer()
    view = memoryview(buffer)
    while count := stream.readinto(buffer):
        sri.update(view[:count])
        digest.update(view[:count])
    return "sha384-" + base64.b64encode(sri.digest()).decode("ascii"), digest.hexdigest()
