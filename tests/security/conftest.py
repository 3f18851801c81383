"""What the security suites share: a place for their figures, printed at the end of every run
(whatever ``-s`` says) and written to ``.ci/.run/security-<suite>.json``."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / ".ci" / ".run"
_REPORTS = pytest.StashKey[dict[str, list[dict[str, Any]]]]()

#: ``report(suite, entry)``: ``entry["line"]`` is printed, the whole entry goes to the JSON file
Report = Callable[[str, dict[str, Any]], None]


@pytest.fixture
def report(request: pytest.FixtureRequest) -> Report:
    reports = request.config.stash.setdefault(_REPORTS, {})

    def add(suite: str, entry: dict[str, Any]) -> None:
        reports.setdefault(suite, []).append(entry)

    return add


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    reports = config.stash.get(_REPORTS, {})
    if not reports:
        return
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    terminalreporter.section("security suites: figures")
    for suite, entries in sorted(reports.items()):
        path = ARTIFACTS / f"security-{suite}.json"
        path.write_text(json.dumps(entries, indent=2, sort_keys=True) + "\n")
        for entry in entries:
            terminalreporter.write_line(f"{suite}: {entry['line']}")
        terminalreporter.write_line(f"{suite}: written to {path.relative_to(REPO)}")
