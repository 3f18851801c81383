"""Every Python code block of flask-httpcache's README.md runs as written (none is marked as
a fragment), each in a fresh namespace, and prints what its comments say it prints."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# in the monorepo, or at the root of the package's sdist
README = next(
    p
    for p in (ROOT / "packages" / "flask-httpcache" / "README.md", ROOT / "README.md")
    if p.exists()
)
TEXT = README.read_text(encoding="utf-8")
BLOCKS = re.findall(r"^```python\n(.*?)^```$", TEXT, re.S | re.M)


def test_the_readme_has_python_examples_and_no_fragment() -> None:
    assert len(BLOCKS) >= 4
    assert re.findall(r"^```(?:python|py) .*$|<!--\s*fragment\s*-->", TEXT, re.M) == []


def run_blocks(capsys: pytest.CaptureFixture[str]) -> list[str]:
    """Run the blocks in order in one namespace (a later block may use what an earlier one
    made); what each printed."""
    namespace: dict[str, object] = {"__name__": "readme_example"}
    printed = []
    for number, block in enumerate(BLOCKS):
        exec(compile(block, f"README.md block {number}", "exec"), namespace)
        printed.append(capsys.readouterr().out)
    return printed


def test_readme_blocks_run_and_print_what_they_say(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # Flask(__name__) of an unimported module: root path = cwd
    for block, printed in zip(BLOCKS, run_blocks(capsys), strict=True):
        for comment in re.findall(r"print\(.*?\)\s+# (.+)$", block, re.M):
            # what a print's comment says it prints is what it prints (up to "...")
            pattern = ".*?".join(re.escape(part) for part in comment.split("..."))
            assert re.search(pattern, printed), (comment, printed)


def test_the_examples_that_say_stored_and_hit_cache_for_real(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The minimal example and the install-order example store, then hit (in 0.1 the
    install-order example stored nothing while every response said ``stored``)."""
    monkeypatch.chdir(tmp_path)
    outputs = [out.splitlines() for out in run_blocks(capsys)]
    caching = [lines for lines in outputs if any("stored" in line for line in lines)]
    assert len(caching) == 2
    for lines in caching:
        assert lines[0].endswith("; stored")
        assert "; hit; " in lines[1]
