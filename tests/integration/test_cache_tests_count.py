"""tools/cache_tests_count.py counts a cache-tests results file as the suite's results page
does (its determineTestResult, dependencies honoured), on a small suite written here."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
TOOL = REPO / "tools" / "cache_tests_count.py"


def load_tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("cache_tests_count", TOOL)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


tool = load_tool()

# the shape of the suite's `npm run --silent export`: suites, each with its tests
SUITE: list[dict[str, Any]] = [
    {
        "id": "freshness",
        "tests": [
            {"id": "req-pass", "kind": "required"},
            {"id": "req-fail", "kind": "required"},
            {"id": "no-kind-pass"},  # a test without a kind is required
            {"id": "opt-pass", "kind": "optimal"},
            {"id": "opt-fail", "kind": "optimal"},
            {"id": "check-yes", "kind": "check"},
            {"id": "check-no", "kind": "check"},
        ],
    },
    {
        "id": "other",
        "tests": [
            {"id": "setup", "kind": "required"},
            {"id": "retry", "kind": "optimal"},
            {"id": "harness", "kind": "required"},
            {"id": "abort", "kind": "check"},
            {"id": "on-failed", "kind": "required", "depends_on": ["req-fail"]},
            {"id": "on-check-no", "kind": "optimal", "depends_on": ["check-no"]},
            {"id": "on-check-yes", "kind": "required", "depends_on": ["check-yes"]},
            {"id": "on-dependency-failed", "kind": "check", "depends_on": ["on-failed"]},
            {"id": "untested", "kind": "required"},
        ],
    },
]
RESULTS: dict[str, Any] = {
    "req-pass": True,
    "req-fail": ["Assertion", "Response 2 does not come from cache"],
    "no-kind-pass": True,
    "opt-pass": True,
    "opt-fail": ["Assertion", "x"],
    "check-yes": True,
    "check-no": ["Assertion", "y"],
    "setup": ["Setup", "Response 1 status is 500, not 200"],
    "retry": ["Setup", "retry"],
    "harness": False,
    "abort": ["AbortError", "timeout"],
    "on-failed": True,  # passed itself, but what it depends on failed
    "on-check-no": True,
    "on-check-yes": ["Assertion", "z"],
    "on-dependency-failed": True,
}
EXPECTED = {
    "req-pass": "pass",
    "req-fail": "fail",
    "no-kind-pass": "pass",
    "opt-pass": "pass",
    "opt-fail": "optional_fail",
    "check-yes": "yes",
    "check-no": "no",
    "setup": "setup_fail",
    "retry": "retry",
    "harness": "harness_fail",
    "abort": "harness_fail",
    "on-failed": "dependency_fail",
    "on-check-no": "dependency_fail",
    "on-check-yes": "fail",
    "on-dependency-failed": "dependency_fail",
    "untested": "untested",
}


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    tests, results = tmp_path / "tests.json", tmp_path / "ours.json"
    tests.write_text(json.dumps(SUITE), encoding="utf-8")
    results.write_text(json.dumps(RESULTS), encoding="utf-8")
    return tests, results


def test_each_test_gets_the_result_the_suite_gives_it(files: tuple[Path, Path]) -> None:
    tests = tool.load_tests(files[0])
    assert {test_id: tool.outcome(tests, RESULTS, test_id) for test_id in tests} == EXPECTED


def test_the_summary_counts_passing_without_checks_and_required_failures_apart(
    files: tuple[Path, Path],
) -> None:
    tests = tool.load_tests(files[0])
    assert tool.summary(tool.count(tests, RESULTS)) == {
        "passing": 3,  # req-pass, no-kind-pass, opt-pass
        "required failures": 2,  # req-fail, on-check-yes
        "optional failures": 1,
        "checks yes": 1,
        "checks no": 1,
        "dependency failed": 3,
        "not run (setup, retry, harness)": 4,
        "untested": 1,
        "total": 16,
    }


def test_the_command_prints_one_row_per_results_file(files: tuple[Path, Path]) -> None:
    tests, results = files
    run = subprocess.run(
        [sys.executable, str(TOOL), "--tests", str(tests), str(results), str(results)],
        capture_output=True,
        text=True,
        check=True,
    )
    lines = run.stdout.splitlines()
    assert lines[0].startswith("| results file | passing | required failures |")
    assert lines[2:] == ["| ours.json | 3 | 2 | 1 | 1 | 1 | 3 | 4 | 1 | 16 |"] * 2


def test_the_json_output_has_the_counts_by_kind(files: tuple[Path, Path]) -> None:
    tests, results = files
    run = subprocess.run(
        [sys.executable, str(TOOL), "--json", "--tests", str(tests), str(results)],
        capture_output=True,
        text=True,
        check=True,
    )
    found = json.loads(run.stdout)["ours.json"]
    assert found["summary"]["passing"] == 3
    assert found["by kind"]["required:fail"] == 2
    assert found["by kind"]["check:dependency_fail"] == 1
    assert sum(found["by kind"].values()) == 16


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "Expecting property name"),
        ('{"id": "x"}', "not the suite's export"),
        ('[{"id": "s", "tests": [{"kind": "required"}]}]', "a test without an id"),
        ('[{"id": "s", "tests": [{"id": "t", "kind": "sometimes"}]}]', "unknown kind 'sometimes'"),
        ('[{"id": "s", "tests": [{"id": "t", "depends_on": ["gone"]}]}]', "unknown tests ['gone']"),
    ],
)
def test_a_bad_tests_file_is_an_error_naming_it(tmp_path: Path, content: str, message: str) -> None:
    tests, results = tmp_path / "tests.json", tmp_path / "ours.json"
    tests.write_text(content, encoding="utf-8")
    results.write_text("{}", encoding="utf-8")
    run = subprocess.run(
        [sys.executable, str(TOOL), "--tests", str(tests), str(results)],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 1
    assert run.stdout == ""
    assert run.stderr.startswith(f"cache_tests_count: {tests}")
    assert message in run.stderr


def test_a_results_file_that_is_not_an_object_is_an_error(files: tuple[Path, Path]) -> None:
    files[1].write_text("[true]", encoding="utf-8")
    with pytest.raises(tool.CountError, match="not a results file"):
        tool.load_results(files[1])


def test_a_dependency_loop_is_an_error_not_a_recursion_error(tmp_path: Path) -> None:
    suite = [
        {"id": "s", "tests": [{"id": "a", "depends_on": ["b"]}, {"id": "b", "depends_on": ["a"]}]}
    ]
    path = tmp_path / "tests.json"
    path.write_text(json.dumps(suite), encoding="utf-8")
    tests = tool.load_tests(path)
    with pytest.raises(tool.CountError, match="loop"):
        tool.outcome(tests, {"a": True, "b": True}, "a")
