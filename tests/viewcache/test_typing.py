"""Decorated functions type-check in a user's code under ``mypy --strict``
(``typing_check.py``), and misuses are reported (``typing_misuse.py``)."""

from __future__ import annotations

import re
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
REPO = HERE.parent.parent
ERROR_LINE = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+): error: .*\[(?P<code>[a-z-]+)\]$")

pytest.importorskip("mypy")


def mypy_errors(path: Path, cache_dir: Path) -> tuple[dict[int, set[str]], str]:
    """``{line: {error codes}}`` that ``mypy --strict`` reports in ``path``, and its output.
    Run from the repository root, so the repository's mypy settings apply."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--cache-dir",
            str(cache_dir),
            "--show-error-codes",
            "--no-pretty",
            str(path),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    errors: dict[int, set[str]] = {}
    for line in result.stdout.splitlines():
        found = ERROR_LINE.match(line)
        if found and Path(found["file"]).name == path.name:
            errors.setdefault(int(found["line"]), set()).add(found["code"])
    return errors, result.stdout + result.stderr


def expected_errors(path: Path) -> dict[int, set[str]]:
    expected: dict[int, set[str]] = {}
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if "  # error: " in line:
            expected[number] = {line.rsplit("# error: ", 1)[1].strip()}
    return expected


@pytest.mark.slow
def test_decorated_functions_keep_their_types_under_mypy_strict(tmp_path: Path) -> None:
    errors, output = mypy_errors(HERE / "typing_check.py", tmp_path / "mypy")
    assert errors == {}, output
    assert "Success" in output, output


@pytest.mark.slow
def test_mypy_strict_reports_each_misuse_of_a_decorated_function(tmp_path: Path) -> None:
    path = HERE / "typing_misuse.py"
    expected = expected_errors(path)
    assert len(expected) == 6
    errors, output = mypy_errors(path, tmp_path / "mypy")
    assert errors == expected, output


def test_the_typed_user_code_runs() -> None:
    runpy.run_path(str(HERE / "typing_check.py"))
