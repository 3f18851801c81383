"""The state of one static folder (the app's, or a blueprint's): its current version, the
versions it had before, and in digest mode its name table. Computed once, and again only when
auto-reload (debug) marks it stale at the start of a request."""

from __future__ import annotations

import os
import threading

from .config import Settings
from .hashing import sri_of_file
from .manifest import NameTable, name_table, read_manifest, read_vite_manifest
from .symlink import make_version_link, remove_old_links
from .versions import ContentVersioner, mtime_version, stamp_name
from .walk import list_files


class Folder:
    """One static folder. ``prefix`` (``"<version>/"``) and ``table`` are read on the hot path
    of ``url_for``; everything else happens under ``lock`` when the folder is stale."""

    def __init__(self, root: str, settings: Settings, stamp_dir: str | None) -> None:
        self.root = os.path.abspath(root)
        self.root_real = os.path.realpath(root)
        self.settings = settings
        stamp_path = os.path.join(stamp_dir, stamp_name(self.root_real)) if stamp_dir else None
        self.versioner = ContentVersioner(
            self.root, stamp_path, settings.version_length, settings.workers
        )
        self.lock = threading.Lock()
        self.stale = True
        self.version = ""
        self.prefix = ""
        self.previous: frozenset[str] = frozenset()
        self.table = NameTable({}, {}, frozenset())
        self.names: dict[str, str] = self.table.names  # url_for's lookup (digest mode)
        self._manifest_stamp: tuple[tuple[int, int], tuple[int, int]] | None = None
        self._sri: dict[tuple[str, int, int], str] = {}

    def refresh(self) -> None:
        """Recompute what changed (called when stale)."""
        with self.lock:
            if not self.stale:
                return
            if self.settings.mode == "digest":
                self._load_tables()
            else:
                self._set_version(self._compute_version())
            self.stale = False

    def ensure(self) -> Folder:
        if self.stale:
            self.refresh()
        return self

    def _compute_version(self) -> str:
        settings = self.settings
        if settings.version is not None:
            return settings.version
        if not os.path.isdir(self.root):
            return "0"
        if settings.strategy == "mtime":
            return mtime_version(list_files(self.root))
        return self.versioner.compute()

    def _set_version(self, version: str) -> None:
        if version == self.version:
            return
        if self.settings.mode == "symlink" and os.path.isdir(self.root):
            make_version_link(self.root, version)
            remove_old_links(self.root, keep=version)
        old = {self.version} if self.version else set()
        self.previous = frozenset(
            (old | set(self.versioner.header.previous) | set(self.settings.previous_versions))
            - {version}
        )
        self.version = version
        self.prefix = version + "/"

    def _load_tables(self) -> None:
        settings = self.settings
        manifest_path = os.path.join(self.root, settings.manifest)
        vite_path = (
            os.path.join(self.root, settings.vite_manifest) if settings.vite_manifest else None
        )
        stamp = (_stat_stamp(manifest_path), _stat_stamp(vite_path) if vite_path else (0, 0))
        if stamp == self._manifest_stamp:
            return
        self.table = name_table(
            read_manifest(manifest_path), read_vite_manifest(vite_path) if vite_path else {}
        )
        self.names = self.table.names
        self._manifest_stamp = stamp

    def sri(self, served: str, path: str) -> str:
        """The SRI value of the served file ``served`` at ``path`` (from the manifest, or hashed
        once per size and mtime)."""
        known = self.table.integrity.get(served)
        if known:
            return known
        info = os.stat(path)
        key = (served, info.st_size, info.st_mtime_ns)
        value = self._sri.get(key)
        if value is None:
            value = self._sri[key] = sri_of_file(path)
        return value


def _stat_stamp(path: str) -> tuple[int, int]:
    try:
        info = os.stat(path)
    except OSError:
        return (0, 0)
    return (info.st_mtime_ns, info.st_size)
