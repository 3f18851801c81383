"""``flask staticbust build`` shows a progress bar on a terminal and none otherwise."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from .helpers import write_files

SCRIPT = """
import sys
from flask import Flask
from flask_staticbust import StaticBust
from flask_staticbust.cli import staticbust_cli
app = Flask("progress", root_path=sys.argv[1], instance_path=sys.argv[1] + "/instance")
app.config["STATICBUST_MODE"] = "digest"
StaticBust(app)
with app.app_context():
    staticbust_cli.main(["build"], standalone_mode=False)
"""


def build_output(tmp_path: Path, on_a_terminal: bool) -> str:
    write_files(
        tmp_path / "static", {f"f{i}.css": f".c{i} {{ color: red }}\n" * 40 for i in range(30)}
    )
    if not on_a_terminal:
        done = subprocess.run(
            [sys.executable, "-c", SCRIPT, str(tmp_path)],
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stderr
    controller, terminal = pty.openpty()
    try:
        process = subprocess.Popen(
            [sys.executable, "-c", SCRIPT, str(tmp_path)],
            stdout=subprocess.DEVNULL,
            stderr=terminal,
        )
        os.close(terminal)
        chunks = []
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        assert process.wait(60) == 0
    finally:
        os.close(controller)
    return b"".join(chunks).decode(errors="replace")


@pytest.mark.slow
def test_progress_bar_on_a_terminal(tmp_path: Path) -> None:
    output = build_output(tmp_path, on_a_terminal=True)
    assert "digesting" in output
    assert "compressing" in output


@pytest.mark.slow
def test_quiet_off_a_terminal(tmp_path: Path) -> None:
    assert build_output(tmp_path, on_a_terminal=False) == ""
