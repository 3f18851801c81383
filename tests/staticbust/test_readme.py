"""Every Python block of the package README runs as written.

A block starting with ``# app.py`` is saved as ``app.py`` (the later blocks import it); the others
are executed, each in a fresh namespace, in a folder holding the static files the README's app
names."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# in the monorepo, or at the root of the package's sdist
README = next(
    p
    for p in (ROOT / "packages" / "flask-staticbust" / "README.md", ROOT / "README.md")
    if p.exists()
)
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), re.DOTALL)


@pytest.fixture
def readme_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    (tmp_path / "static" / "css").mkdir(parents=True)
    (tmp_path / "static" / "js").mkdir()
    (tmp_path / "static" / "css" / "app.css").write_text("body { margin: 0 }\n")
    (tmp_path / "static" / "js" / "app.js").write_text("console.log('hello');\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    sys.modules.pop("app", None)


def test_the_readme_has_python_blocks() -> None:
    assert len(BLOCKS) >= 4


def test_readme_python_blocks_run(readme_folder: Path) -> None:
    for number, block in enumerate(BLOCKS):
        if block.startswith("# app.py"):
            (readme_folder / "app.py").write_text(block)
            continue
        code = compile(block, f"README.md block {number}", "exec")
        exec(code, {"__name__": f"readme_block_{number}"})


def test_readme_config_table_lists_every_setting() -> None:
    from flask_staticbust.config import DEFAULTS

    text = README.read_text()
    missing = [key for key in DEFAULTS if f"`{key}`" not in text]
    assert not missing
