"""The READMEs and docs pages whose code blocks the tests run, and their fenced blocks."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DOCUMENTS = [
    REPO / "README.md",
    REPO / "shared" / "README.md",
    *sorted((REPO / "packages").glob("*/README.md")),
    *sorted(
        path
        for path in (REPO / "docs").rglob("*.md")
        if not {"_build", "_generated"} & set(path.relative_to(REPO / "docs").parts)
    ),
]
FENCE = re.compile(
    r"^(?P<fence>```+)(?P<info>[^\n`]*)\n(?P<body>.*?)^(?P=fence)[ \t]*$", re.M | re.S
)


@dataclass(frozen=True)
class Fenced:
    """One fenced block: its info string's words, its text, the line its text starts on, and
    the line before the opening fence."""

    words: list[str]
    body: str
    line: int
    line_before: str


def fenced_blocks(path: Path) -> Iterator[Fenced]:
    text = path.read_text(encoding="utf-8")
    for fence in FENCE.finditer(text):
        before = text[: fence.start()].rstrip("\n").rsplit("\n", 1)[-1]
        line = text.count("\n", 0, fence.start("body")) + 1
        yield Fenced(fence.group("info").split(), fence.group("body"), line, before)
