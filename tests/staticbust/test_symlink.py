"""Symlink mode: ``static/<version> -> .``, made atomically, cleaned up safely, never looped."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from flask_staticbust import StaticBust, SymlinkError, get_state

from .helpers import make_app, static_url_of, write_files


def current_version(app: object) -> str:
    folder = get_state(app).folder("static")  # type: ignore[arg-type]
    assert folder is not None
    return folder.ensure().version


def test_link_points_at_the_static_folder_and_serves_through_it(tmp_path: Path) -> None:
    app = make_app(tmp_path, STATICBUST_MODE="symlink")
    version = current_version(app)
    static = Path(app.static_folder or "")
    link = static / version
    assert link.is_symlink()
    assert os.readlink(link) == "."
    assert (link / "css" / "app.css").read_text() == "body { color: red }\n"
    response = app.test_client().get(static_url_of(app, "css/app.css"))
    assert response.status_code == 200
    assert "immutable" in response.headers["Cache-Control"]
    assert not [p for p in os.listdir(static) if p.startswith(".staticbust-")]


def test_the_link_does_not_change_the_version_nor_loop(tmp_path: Path) -> None:
    route = make_app(tmp_path / "route", {"a.css": "a", "b/c.js": "c"})
    linked = make_app(tmp_path / "linked", {"a.css": "a", "b/c.js": "c"}, STATICBUST_MODE="symlink")
    assert current_version(linked) == current_version(route)
    second = make_app(tmp_path / "linked", {}, STATICBUST_MODE="symlink")  # the link exists now
    assert current_version(second) == current_version(route)


def test_old_links_are_removed_only_when_they_point_at_static(tmp_path: Path) -> None:
    app = make_app(tmp_path, init=False, STATICBUST_MODE="symlink")
    static = Path(app.static_folder or "")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    os.symlink(".", static / "0ld0ld0ld0ld")
    os.symlink(str(static), static / "absolute0ld1")
    os.symlink(str(elsewhere), static / "someones")
    (static / "realdir").mkdir()
    StaticBust(app)
    names = set(os.listdir(static))
    assert "0ld0ld0ld0ld" not in names
    assert "absolute0ld1" not in names
    assert {"someones", "realdir", current_version(app)} <= names


def test_a_real_folder_named_like_the_version_is_an_error(tmp_path: Path) -> None:
    app = make_app(tmp_path, init=False, STATICBUST_MODE="symlink", STATICBUST_VERSION="v1")
    (Path(app.static_folder or "") / "v1").mkdir()
    with pytest.raises(SymlinkError, match="not a link to the static folder"):
        StaticBust(app)


@pytest.fixture
def read_only(tmp_path: Path) -> Iterator[Path]:
    """A static folder nobody may write to: ``chmod`` for a user, ``chattr +i`` for root."""
    app_root = tmp_path / "app"
    static = app_root / "static"
    write_files(static, {"css/app.css": "body {}"})
    if os.geteuid() != 0:
        static.chmod(0o555)
        yield static
        static.chmod(0o755)
        return
    chattr = shutil.which("chattr")
    if chattr is None or subprocess.run([chattr, "+i", str(static)]).returncode != 0:
        pytest.skip("root needs chattr +i (e2fsprogs, ext4) to make a read-only folder")
    try:
        yield static
    finally:
        subprocess.run([chattr, "-i", str(static)], check=True)


def test_read_only_folder_is_a_clear_error_suggesting_route_mode(
    tmp_path: Path, read_only: Path
) -> None:
    app = make_app(tmp_path, {}, init=False, STATICBUST_MODE="symlink")
    assert app.static_folder == str(read_only)
    with pytest.raises(SymlinkError) as caught:
        StaticBust(app)
    message = str(caught.value)
    assert "cannot create the link" in message
    assert "STATICBUST_MODE='route'" in message
    route = make_app(tmp_path, {}, STATICBUST_MODE="route")
    assert route.test_client().get(static_url_of(route, "css/app.css")).status_code == 200


def test_debug_change_makes_the_new_link_and_removes_the_old(tmp_path: Path) -> None:
    app = make_app(tmp_path, STATICBUST_MODE="symlink", DEBUG=True)
    static = Path(app.static_folder or "")
    old = current_version(app)
    write_files(static, {"css/app.css": "body { color: blue }\n"})
    app.test_client().get("/")
    new = current_version(app)
    assert new != old
    assert (static / new).is_symlink()
    assert not (static / old).exists()


WORKER = """
import os, sys, time
from pathlib import Path
from flask import Flask
from flask_staticbust import StaticBust

here = Path(sys.argv[1])
(here / f"ready-{sys.argv[2]}").touch()
while not (here / "go").exists():  # the barrier: every worker starts its init_app together
    time.sleep(0.001)
app = Flask("worker", root_path=str(here / "app"), instance_path=str(here / "instance"))
app.config["STATICBUST_MODE"] = "symlink"
StaticBust(app)
print(app.extensions["staticbust"].folder("static").version)
"""


@pytest.mark.slow
def test_eight_processes_starting_at_once_all_succeed(tmp_path: Path) -> None:
    files = {f"css/f{i}.css": f"a{i}" * 500 for i in range(200)}
    write_files(tmp_path / "app" / "static", files)
    script = tmp_path / "worker.py"
    script.write_text(textwrap.dedent(WORKER))
    workers = [
        subprocess.Popen(
            [sys.executable, str(script), str(tmp_path), str(i)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(8)
    ]
    deadline = time.monotonic() + 60
    while len(list(tmp_path.glob("ready-*"))) < 8:
        assert time.monotonic() < deadline, "the workers did not start"
        assert all(w.poll() is None for w in workers), [w.communicate() for w in workers]
        time.sleep(0.01)
    (tmp_path / "go").touch()
    results = [w.communicate(timeout=60) for w in workers]
    assert [w.returncode for w in workers] == [0] * 8, results
    versions = {out.strip() for out, _ in results}
    assert len(versions) == 1
    static = tmp_path / "app" / "static"
    links = [p for p in static.iterdir() if p.is_symlink()]
    assert [p.name for p in links] == list(versions)
    assert not [p for p in os.listdir(static) if p.startswith(".staticbust-")]


def test_a_restart_keeps_the_link_and_the_folders_mtime(tmp_path: Path) -> None:
    """A link already in place is left alone: replacing it would change the static folder's
    mtime, and every restart would then list the folder again instead of trusting the stamps."""
    app = make_app(tmp_path, STATICBUST_MODE="symlink")
    static = Path(app.static_folder or "")
    version = get_state(app).folder("static").version  # type: ignore[union-attr]
    link, folder = os.lstat(static / version), os.lstat(static)
    again = make_app(tmp_path, {}, STATICBUST_MODE="symlink")
    assert get_state(again).folder("static").version == version  # type: ignore[union-attr]
    assert os.lstat(static / version).st_ino == link.st_ino
    assert os.lstat(static).st_mtime_ns == folder.st_mtime_ns
