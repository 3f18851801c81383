"""Every Python code block of flask-appcache's README runs as written: each in a fresh
namespace, in a folder that has the ``static/`` files the README's app serves."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# in the monorepo, or at the root of the package's sdist
README = next(
    p
    for p in (ROOT / "packages" / "flask-appcache" / "README.md", ROOT / "README.md")
    if p.exists()
)
BLOCKS = re.findall(r"^```python\n(.*?)^```$", README.read_text(), re.S | re.M)


def test_the_readme_has_python_examples() -> None:
    assert len(BLOCKS) >= 4


@pytest.mark.parametrize("number", range(len(BLOCKS)))
def test_readme_block_runs(
    number: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "static" / "css").mkdir(parents=True)
    (tmp_path / "static" / "css" / "app.css").write_text("body { margin: 0 }")
    (tmp_path / "static" / "app.js").write_text("console.log('v1')")
    monkeypatch.chdir(tmp_path)  # Flask(__name__) of an unimported module: root path = cwd
    exec(
        compile(BLOCKS[number], f"README.md block {number}", "exec"), {"__name__": "readme_example"}
    )
    printed = capsys.readouterr().out
    for comment in re.findall(r"print\(.*?\)\s+# (.+)$", BLOCKS[number], re.M):
        # what a print's comment says it prints is what it prints (up to "...")
        pattern = ".*?".join(re.escape(part) for part in comment.split("..."))
        assert re.search(pattern, printed), (comment, printed)
