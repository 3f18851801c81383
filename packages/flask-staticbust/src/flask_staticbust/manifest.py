"""The digest manifest (written by ``flask staticbust build``) and Vite's ``manifest.json``.

Ours maps each source name to its digested name and SRI value, and keeps the earlier digested
names of each file (newest first) for ``flask staticbust clean --keep N``::

    {"format": 1, "algorithm": "sha256",
     "files": {"css/app.css": {"path": "css/app.3f2a9c1b.css", "integrity": "sha384-..."}},
     "history": {"css/app.css": ["css/app.3f2a9c1b.css", "css/app.0b1c2d3e.css"]}}
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

logger = logging.getLogger(__name__)

FORMAT = 1


@dataclass(slots=True)
class ManifestEntry:
    path: str
    integrity: str


@dataclass
class Manifest:
    algorithm: str = "sha256"
    files: dict[str, ManifestEntry] = field(default_factory=dict)
    history: dict[str, list[str]] = field(default_factory=dict)

    def lines(self) -> Iterator[str]:
        files = ((rel, e.path, e.integrity) for rel, e in sorted(self.files.items()))
        return manifest_lines(self.algorithm, files, sorted(self.history.items()))

    def to_json(self) -> str:
        return "".join(self.lines())


def manifest_lines(
    algorithm: str,
    files: Iterable[tuple[str, str, str]],
    history: Iterable[tuple[str, list[str]]],
) -> Iterator[str]:
    """The manifest as JSON, one file per line, from ``files`` ((source, digested name, SRI))
    and ``history`` ((source, names newest first)), each sorted by source: written and read a
    line at a time, so a manifest of 10,000 files is never one 3 MB string nor a tree of parsed
    objects."""
    head = {"format": FORMAT, "algorithm": algorithm}
    yield json.dumps(head)[:-1] + ',\n"files": {\n'
    items = (
        f"{json.dumps(rel)}: {json.dumps({'path': path, 'integrity': sri})}"
        for rel, path, sri in files
    )
    yield from _joined(items)
    yield '},\n"history": {\n'
    yield from _joined(f"{json.dumps(rel)}: {json.dumps(paths)}" for rel, paths in history)
    yield "}}\n"


def _joined(items: Iterable[str]) -> Iterator[str]:
    """Each item on a line of its own, all but the last followed by a comma."""
    previous: str | None = None
    for item in items:
        if previous is not None:
            yield previous + ",\n"
        previous = item
    if previous is not None:
        yield previous + "\n"


def _read_lines(path: str) -> Manifest | None:
    """Read the manifest a line at a time, as :meth:`Manifest.lines` writes it; None if the
    file is laid out otherwise (edited by hand: :func:`read_manifest` then parses it whole)."""
    manifest = Manifest()
    section = ""
    with open(path, encoding="utf-8") as file:
        first = file.readline()
        if not first.startswith('{"format": 1, ') or not first.endswith(",\n"):
            return None
        manifest.algorithm = str(json.loads(first[:-2] + "}")["algorithm"])
        for line in file:
            if line in ('"files": {\n', '"history": {\n'):
                section = line[1:-5]
            elif line in ("},\n", "}}\n"):
                section = ""
            elif section == "files":
                key, value = json.loads("{" + line.rstrip().rstrip(",") + "}").popitem()
                manifest.files[str(key)] = ManifestEntry(
                    str(value["path"]), str(value["integrity"])
                )
            elif section == "history":
                key, value = json.loads("{" + line.rstrip().rstrip(",") + "}").popitem()
                manifest.history[str(key)] = [str(p) for p in value]
            else:
                return None
    return manifest


def read_manifest(path: str) -> Manifest | None:
    """The manifest at ``path``, or None if there is none; a damaged one is logged and ignored."""
    try:
        fast = _read_lines(path)
        if fast is not None:
            return fast
        with open(path, encoding="utf-8") as file:
            data: Any = json.load(file)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        logger.warning("flask-staticbust: ignoring the unreadable manifest %s (%s)", path, error)
        return None
    try:
        files = {
            str(k): ManifestEntry(str(v["path"]), str(v.get("integrity", "")))
            for k, v in data["files"].items()
        }
        history = {str(k): [str(p) for p in v] for k, v in data.get("history", {}).items()}
        return Manifest(str(data.get("algorithm", "sha256")), files, history)
    except (KeyError, TypeError, AttributeError) as error:
        logger.warning("flask-staticbust: ignoring the malformed manifest %s (%s)", path, error)
        return None


def write_manifest(path: str, manifest: Manifest | Iterable[str]) -> None:
    """Write ``manifest`` (or the lines of one) atomically: a request never reads half of it."""
    lines = manifest.lines() if isinstance(manifest, Manifest) else manifest
    directory = os.path.dirname(path) or "."
    fd, temp = tempfile.mkstemp(prefix=".staticbust-manifest-", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.writelines(lines)
        os.chmod(temp, 0o644)
        os.replace(temp, path)
    except BaseException:
        os.unlink(temp)
        raise


def read_vite_manifest(path: str) -> dict[str, list[str]]:
    """Vite's ``manifest.json``: each source name -> [its built file, then its css and assets].

    Vite writes the built names relative to its ``outDir``: that must be the static folder."""
    try:
        with open(path, encoding="utf-8") as file:
            data: Any = json.load(file)
        names: dict[str, list[str]] = {}
        for source, chunk in data.items():
            built = [str(chunk["file"])]
            built += [str(p) for p in chunk.get("css", [])]
            built += [str(p) for p in chunk.get("assets", [])]
            names[str(source)] = built
        return names
    except FileNotFoundError:
        return {}
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        logger.warning(
            "flask-staticbust: ignoring the unreadable Vite manifest %s (%s)", path, error
        )
        return {}


@dataclass(frozen=True)
class NameTable:
    """What serving needs from the manifests: source -> served name, served name -> SRI, and
    every content-addressed name (current or kept by ``clean``), which are served immutable."""

    names: dict[str, str]
    integrity: dict[str, str]
    immutable: frozenset[str]


def name_table(manifest: Manifest | None, vite: dict[str, list[str]]) -> NameTable:
    names: dict[str, str] = {}
    immutable: set[str] = set()
    for source, built in vite.items():
        names[source] = built[0]
        immutable.update(built)
    integrity: dict[str, str] = {}
    if manifest is not None:
        for source, entry in manifest.files.items():
            names[source] = entry.path
            if entry.integrity:
                integrity[entry.path] = entry.integrity
            immutable.add(entry.path)
        for paths in manifest.history.values():
            immutable.update(paths)
    return NameTable(names, integrity, frozenset(immutable))
