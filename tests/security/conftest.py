"""What the security suites share: a place for their figures, printed at the end of every run
(whatever ``-s`` says) and written to ``.ci/.run/security-<suite>.json``, and private
memcached servers that a test may kill."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ..conftest import free_port, require, wait_until_listening

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / ".ci" / ".run"
_REPORTS = pytest.StashKey[dict[str, list[dict[str, Any]]]]()

#: ``report(suite, entry)``: ``entry["line"]`` is printed, the whole entry goes to the JSON
#: file; the ``entry["totals"]`` (name -> number) of a suite's runs are added up and printed
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
        if len(entries) > 1 and all("totals" in entry for entry in entries):
            totals = {k: sum(e["totals"][k] for e in entries) for k in entries[0]["totals"]}
            figures = ", ".join(f"{name} {value}" for name, value in totals.items())
            terminalreporter.write_line(f"{suite}: {len(entries)} runs in all: {figures}")
        terminalreporter.write_line(f"{suite}: written to {path.relative_to(REPO)}")


@dataclass
class OwnMemcached:
    """A memcached of one test's own, on a free port, which the test may kill and restart."""

    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        binary = shutil.which("memcached")
        require(binary is not None, "the memcached program")
        argv = [str(binary), "-l", "127.0.0.1", "-p", str(self.port), "-U", "0", "-m", "64"]
        if os.geteuid() == 0:
            argv += ["-u", "root"]  # memcached refuses to run as root unless told whom to run as
        self.process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until_listening(self.process, self.port, "memcached")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(5)


@pytest.fixture
def two_memcached() -> Iterator[tuple[OwnMemcached, OwnMemcached]]:
    """Two private memcached servers (never the shared ones), stopped at the end of the test."""
    pytest.importorskip("pymemcache")
    servers = (OwnMemcached(free_port()), OwnMemcached(free_port()))
    try:
        for server in servers:
            server.start()
        yield servers
    finally:
        for server in servers:
            server.kill()
