"""The restart check of the content version: a fingerprint of the stamps' listing, made without
listing a directory, must change whenever a file or directory changes (size, mtime, ctime,
inode: the guarantee the README states), with statx and with the lstat fallback alike."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from flask_staticbust import fingerprint as fingerprint_module
from flask_staticbust.fingerprint import fingerprint
from flask_staticbust.stamps import read_header
from flask_staticbust.versions import ContentVersioner
from flask_staticbust.walk import scan


@pytest.fixture(params=["statx", "lstat"])
def method(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Each test runs with the statx trick (where the machine has it) and without it."""
    saved = list(fingerprint_module._statx)
    fingerprint_module._statx[:] = [] if request.param == "statx" else [None]
    if request.param == "statx":
        fingerprint_module._statx_for(str(tmp_path))
        if fingerprint_module._statx[0] is None:
            pytest.skip("no statx here: the lstat fallback is the only method")
    yield str(request.param)
    fingerprint_module._statx[:] = saved


def _age(root: Path, seconds: int = 60) -> None:
    """Every file and folder older than the stamps' racy window."""
    then = time.time() - seconds
    for path in [root, *root.rglob("*")]:
        os.utime(path, (then, then), follow_symlinks=False)


def _tree(root: Path) -> Path:
    for rel, text in {"a.css": "aaaa", "sub/b.js": "bbbb", "sub/deep/c.svg": "cccc"}.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (root / "empty").mkdir()
    _age(root)
    return root


def _version(root: Path, stamp: Path) -> str:
    return ContentVersioner(str(root), str(stamp), 12).compute()


def test_the_check_gives_the_walks_fingerprint(method: str, tmp_path: Path) -> None:
    root = _tree(tmp_path / "static")
    found = scan(str(root))
    assert fingerprint(str(root), found.listing) == found.fingerprint
    assert sorted(found.listing.dirs) == ["", "empty", "sub", "sub/deep"]


def test_statx_and_lstat_give_the_same_fingerprint(tmp_path: Path) -> None:
    root = _tree(tmp_path / "static")
    listing = scan(str(root)).listing
    saved = list(fingerprint_module._statx)
    try:
        fingerprint_module._statx[:] = [None]
        with_lstat = fingerprint(str(root), listing)
        fingerprint_module._statx[:] = []
        fingerprint_module._statx_for(str(root))
        with_statx = fingerprint(str(root), listing)
    finally:
        fingerprint_module._statx[:] = saved
    assert with_lstat == with_statx


def test_a_restart_with_unchanged_files_lists_no_directory(
    method: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, stamp = _tree(tmp_path / "static"), tmp_path / "instance" / "s.stamps"
    version = _version(root, stamp)
    assert not read_header(str(stamp)).racy

    def no_listing(path: object) -> None:
        raise AssertionError(f"a restart with unchanged files listed {path}")

    monkeypatch.setattr(os, "scandir", no_listing)
    assert _version(root, stamp) == version


@pytest.mark.parametrize(
    "change",
    [
        "content, same size, mtime reset (cp -p)",
        "content and mtime",
        "file added deep down",
        "file added in an empty folder",
        "file removed",
        "file renamed",
        "file replaced by a copy",
        "folder added",
        "folder renamed",
    ],
)
def test_every_change_gives_a_new_version(method: str, tmp_path: Path, change: str) -> None:
    root, stamp = _tree(tmp_path / "static"), tmp_path / "instance" / "s.stamps"
    version = _version(root, stamp)
    target = root / "sub" / "b.js"
    if change.startswith("content, same size"):
        info = target.stat()
        target.write_text("BBBB")
        os.utime(target, ns=(info.st_atime_ns, info.st_mtime_ns))  # only the ctime tells
    elif change == "content and mtime":
        target.write_text("bbbbb")
    elif change == "file added deep down":
        (root / "sub" / "deep" / "new.css").write_text("x")
    elif change == "file added in an empty folder":
        (root / "empty" / "new.css").write_text("x")
    elif change == "file removed":
        target.unlink()
    elif change == "file renamed":
        target.rename(root / "sub" / "renamed.js")
    elif change == "file replaced by a copy":
        copy = root / "sub" / "copy.tmp"
        shutil.copy2(target, copy)
        copy.write_text("BBBB")
        os.replace(copy, target)
    elif change == "folder added":
        (root / "sub" / "new").mkdir()
        (root / "sub" / "new" / "d.css").write_text("d")
    elif change == "folder renamed":
        (root / "sub" / "deep").rename(root / "sub" / "deeper")
    assert _version(root, stamp) != version


def test_a_folder_changed_just_before_the_stamps_is_not_trusted(
    method: str, tmp_path: Path
) -> None:
    """git's racy rule, for folders too: a folder whose mtime is within the racy window of the
    stamps may still change in the same clock tick, so the next start walks the folder."""
    root, stamp = _tree(tmp_path / "static"), tmp_path / "instance" / "s.stamps"
    _version(root, stamp)
    assert not read_header(str(stamp)).racy
    (root / "sub" / "new.css").write_text("x")  # sub's mtime: now
    _version(root, stamp)
    assert read_header(str(stamp)).racy
    (root / "sub" / "new2.css").write_text("y")
    assert "sub/new2.css" in [f.rel for f in scan(str(root)).files]
    first = _version(root, stamp)
    (root / "sub" / "new2.css").unlink()
    assert _version(root, stamp) != first


@pytest.mark.parametrize(
    "damage",
    [
        ('"names":', '"names": 5, "x":'),  # not a list
        ('"names":[', '"names":[[1, null],'),  # names that are not strings
        ('"names":[', '"names":[["a.css\\u0000b.js"],'),  # a NUL: more names than counted
    ],
)
def test_a_damaged_listing_falls_back_to_the_walk(
    method: str, tmp_path: Path, damage: tuple[str, str]
) -> None:
    root, stamp = _tree(tmp_path / "static"), tmp_path / "instance" / "s.stamps"
    version = _version(root, stamp)
    head, rest = stamp.read_text().split("\n", 1)
    assert damage[0] in head
    if damage[1].startswith('"names":[['):  # one group more than folders: drop the last
        head = head.replace('"dirs":[', '"dirs":["",', 1)
    stamp.write_text(head.replace(damage[0], damage[1], 1) + "\n" + rest)
    assert _version(root, stamp) == version
    assert not read_header(str(stamp)).racy  # rewritten whole by the walk


def test_a_listed_file_gone_gives_no_fingerprint(method: str, tmp_path: Path) -> None:
    root = _tree(tmp_path / "static")
    listing = scan(str(root)).listing
    (root / "sub" / "b.js").unlink()
    assert fingerprint(str(root), listing) is None
