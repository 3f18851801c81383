"""Every ```python block of the READMEs and the docs runs as written.

The blocks of one file run in order in one namespace (a later block may use what an earlier
one defined), in a temporary directory. A block that is not meant to run alone is marked as a
fragment: ```python fragment, or an HTML comment ``<!-- fragment -->`` on the line before the
fence; it is skipped. Shell blocks and blocks of other languages are not run. A document whose
blocks need files around them is run by its package's own test instead (``RUN_ELSEWHERE``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from .documents import DOCUMENTS, REPO, fenced_blocks

FRAGMENT_COMMENT = re.compile(r"<!--\s*fragment\s*-->\s*$")
RUN_ELSEWHERE = {
    # it writes app.py and needs the static files the app names
    "packages/flask-staticbust/README.md": "tests/staticbust/test_readme.py",
    # its blocks need the static files its app serves
    "packages/flask-appcache/README.md": "tests/appcache/test_readme.py",
    # every block runs, none may be a fragment, and what they print is checked
    "packages/flask-httpcache/README.md": "tests/httpcache/test_readme.py",
}


@dataclass(frozen=True)
class Block:
    path: Path
    line: int
    source: str


def python_blocks(path: Path) -> tuple[list[Block], int]:
    """The runnable python blocks of ``path``, and how many were marked as fragments."""
    blocks, fragments = [], 0
    for fence in fenced_blocks(path):
        if fence.words[:1] not in (["python"], ["py"]):
            continue
        if "fragment" in fence.words[1:] or FRAGMENT_COMMENT.search(fence.line_before):
            fragments += 1
            continue
        blocks.append(Block(path, fence.line, fence.body))
    return blocks, fragments


def test_the_collector_finds_blocks_and_honours_fragment_marks(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "```python\nx = 1\n```\n\n```python fragment\nundefined_name\n```\n\n"
        "<!-- fragment -->\n```python\nalso_undefined\n```\n\n```\npip install x\n```\n"
        "````python\ny = '```'\n````\n"
    )
    blocks, fragments = python_blocks(page)
    assert [b.source for b in blocks] == ["x = 1\n", "y = '```'\n"]
    assert [b.line for b in blocks] == [2, 18]
    assert fragments == 2


def test_documents_run_elsewhere_have_their_test() -> None:
    for document, test in RUN_ELSEWHERE.items():
        assert (REPO / document).exists(), document
        assert document.rsplit("/", 1)[-1] in (REPO / test).read_text(encoding="utf-8"), test


@pytest.mark.parametrize(
    "path",
    [p for p in DOCUMENTS if python_blocks(p)[0] and str(p.relative_to(REPO)) not in RUN_ELSEWHERE],
    ids=lambda p: str(p.relative_to(REPO)),
)
def test_python_blocks_run(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": "doc_block"}
    for block in python_blocks(path)[0]:
        where = f"{path.relative_to(REPO)}:{block.line}"
        code = compile(block.source, where, "exec")
        try:
            exec(code, namespace)
        except Exception as error:
            pytest.fail(f"the block at {where} raised {error!r}")
