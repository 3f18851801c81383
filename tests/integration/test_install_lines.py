"""Every ``pip install ./...`` line of the READMEs and docs works as written, from the root of
a checkout, in a fresh virtual environment: the packages are not on PyPI yet, so these lines
are the install instructions users follow today."""

from __future__ import annotations

import re
import shlex
import subprocess
import tomllib
import venv
from pathlib import Path

import pytest

from .documents import DOCUMENTS, REPO, fenced_blocks

PIP_LINE = re.compile(r"^\s*(?:\$\s+)?pip install (.+)$", re.MULTILINE)
LOCAL = re.compile(r"^\./(?P<path>[\w./-]+?)(?:\[(?P<extras>[\w,-]+)\])?$")


def install_lines() -> dict[str, list[str]]:
    """Each local install line (its arguments) -> the documents that give it."""
    found: dict[str, list[str]] = {}
    for document in DOCUMENTS:
        for fence in fenced_blocks(document):
            if fence.words[:1] not in ([], ["shell"], ["sh"], ["bash"], ["console"]):
                continue
            for line in PIP_LINE.finditer(fence.body):
                args = shlex.split(line.group(1), comments=True)
                if args and all(LOCAL.match(arg) for arg in args):
                    key = " ".join(args)
                    found.setdefault(key, []).append(str(document.relative_to(REPO)))
    return found


def test_the_readmes_give_install_lines_for_every_distribution() -> None:
    folders = {
        match.group("path").rstrip("/")
        for line in install_lines()
        for match in map(LOCAL.match, line.split())
        if match
    }
    assert folders == {"shared", *(f"packages/{p.name}" for p in (REPO / "packages").iterdir())}


def distribution_name(folder: str) -> str:
    """The name pip installs a folder under: its pyproject's (flask-appcache-sw for
    packages/flask-appcache), lower case."""
    project = tomllib.loads((REPO / folder / "pyproject.toml").read_text(encoding="utf-8"))
    return str(project["project"]["name"]).lower()


@pytest.fixture(scope="module")
def empty_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the pip that ``venv`` brings (often older than the newest: the lines
    must work with it too, and their order matters to it)."""
    where = tmp_path_factory.mktemp("install-lines") / "venv"
    venv.create(where, with_pip=True)
    return where / "bin" / "python"


def pip_install(python: Path, args: list[str], *options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(python), "-m", "pip", "install", "--disable-pip-version-check", *options, *args],
        cwd=REPO,
        capture_output=True,
        text=True,
    )


@pytest.mark.slow
@pytest.mark.parametrize("line", sorted(install_lines()))
def test_install_line_resolves_from_the_checkout(line: str, empty_venv: Path) -> None:
    """pip builds the named folders and resolves everything they need, as the line is written,
    in an environment with nothing installed (``--dry-run`` leaves it empty for the next line);
    an unknown extra fails (pip itself only warns)."""
    result = pip_install(empty_venv, line.split(), "--dry-run")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "does not provide the extra" not in result.stderr
    assert "Would install" in result.stdout
    wanted = {distribution_name(m.group("path")) for m in map(LOCAL.match, line.split()) if m}
    would = result.stdout.split("Would install", 1)[1].lower()
    for name in wanted:
        assert f"{name}-" in would, (name, would)


@pytest.mark.slow
def test_the_first_readme_line_installs_and_imports(tmp_path: Path) -> None:
    venv.create(tmp_path / "venv", with_pip=True)
    python = tmp_path / "venv" / "bin" / "python"
    result = pip_install(python, ["./shared", "./packages/flask-viewcache"])
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    check = subprocess.run(
        [str(python), "-c", "import flask_viewcache, flask_cachecore"],
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stderr
