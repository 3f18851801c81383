"""Count a results file of the HTTP cache tests suite (github.com/http-tests/cache-tests) the
way the suite's results page does, so a figure on docs/conformance.md can be recounted.

    python tools/cache_tests_count.py --tests tests.json results/nginx.json [more.json ...]

``tests.json`` is the suite's test list as its own export prints it, at the suite's commit the
results are from: ``npm run --silent export > tests.json`` in a checkout of the suite. A results
file is what the suite's ``npm run --silent cli --base=URL`` prints, or one of the files it
publishes under ``results/``: test id -> ``true``, or a list whose first item says why not.

Each test gets the result of the suite's ``determineTestResult`` (test-engine/lib/results.mjs),
dependencies honoured as on the results page: untested, dependency failed (a test it depends on
did not pass), setup failed or retry (the test could not be set up), harness failure, and else
by the test's kind: a ``required`` (or kind-less) test passes or fails, an ``optimal`` one
passes or fails optionally, a ``check`` one says yes or no. "Passing" is pass, required and
optimal tests together, as the docs' tables count it; checks are not in it.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: the result names, in the order they are printed
RESULTS = (
    "pass",
    "fail",
    "optional_fail",
    "yes",
    "no",
    "setup_fail",
    "retry",
    "harness_fail",
    "dependency_fail",
    "untested",
)
KINDS = ("required", "optimal", "check")
PASSING = {"pass", "yes"}  # what a dependency must be (passTypes in the suite)


class CountError(Exception):
    """A file this tool cannot read: the message names it and what is wrong."""


@dataclass(frozen=True)
class Test:
    id: str
    kind: str
    depends_on: tuple[str, ...]


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise CountError(f"{path}: {error}") from None


def load_tests(path: Path) -> dict[str, Test]:
    """The suite's export: a list of suites, each with its ``tests``."""
    suites = read_json(path)
    if not isinstance(suites, list) or not all(
        isinstance(s, dict) and isinstance(s.get("tests"), list) for s in suites
    ):
        raise CountError(f"{path}: not the suite's export (a list of suites with tests)")
    tests: dict[str, Test] = {}
    for suite in suites:
        for test in suite["tests"]:
            if not isinstance(test, dict) or not isinstance(test.get("id"), str):
                raise CountError(f"{path}: a test without an id in suite {suite.get('id')!r}")
            kind = test.get("kind", "required")
            if kind not in KINDS:
                raise CountError(f"{path}: test {test['id']} has the unknown kind {kind!r}")
            depends = test.get("depends_on", [])
            if not isinstance(depends, list) or not all(isinstance(d, str) for d in depends):
                raise CountError(f"{path}: test {test['id']}: depends_on is not a list of ids")
            tests[test["id"]] = Test(test["id"], kind, tuple(depends))
    for test in tests.values():
        unknown = [d for d in test.depends_on if d not in tests]
        if unknown:
            raise CountError(f"{path}: test {test.id} depends on unknown tests {unknown}")
    return tests


def load_results(path: Path) -> dict[str, Any]:
    results = read_json(path)
    if not isinstance(results, dict):
        raise CountError(f"{path}: not a results file (an object of test id -> result)")
    return results


def outcome(
    tests: dict[str, Test],
    results: dict[str, Any],
    test_id: str,
    seen: frozenset[str] = frozenset(),
) -> str:
    """The suite's ``determineTestResult`` for one test, dependencies honoured."""
    if test_id in seen:
        raise CountError(f"the tests' dependencies loop through {test_id}")
    test = tests[test_id]
    result = results.get(test_id)
    if result is None:
        return "untested"
    for dependency in test.depends_on:
        if outcome(tests, results, dependency, seen | {test_id}) not in PASSING:
            return "dependency_fail"
    first = result[0] if isinstance(result, list) and result else None
    if first == "Setup":
        return "retry" if len(result) > 1 and result[1] == "retry" else "setup_fail"
    if result is False or first == "AbortError":
        return "harness_fail"
    if test.kind == "check":
        return "yes" if result is True else "no"
    if result is True:
        return "pass"
    return "fail" if test.kind == "required" else "optional_fail"


def count(tests: dict[str, Test], results: dict[str, Any]) -> Counter[tuple[str, str]]:
    """(kind, result) -> how many tests; every test of the suite is counted once."""
    return Counter((test.kind, outcome(tests, results, test.id)) for test in tests.values())


def summary(counted: Counter[tuple[str, str]]) -> dict[str, int]:
    """The figures the docs give: passing (required + optimal), required failures, optional
    failures, checks yes/no, could not run, untested, and the total."""
    by_result: Counter[str] = Counter()
    for (_kind, result), number in counted.items():
        by_result[result] += number
    return {
        "passing": by_result["pass"],
        "required failures": counted["required", "fail"],
        "optional failures": counted["optimal", "optional_fail"],
        "checks yes": by_result["yes"],
        "checks no": by_result["no"],
        "dependency failed": by_result["dependency_fail"],
        "not run (setup, retry, harness)": sum(
            by_result[r] for r in ("setup_fail", "retry", "harness_fail")
        ),
        "untested": by_result["untested"],
        "total": sum(counted.values()),
    }


def table(rows: list[tuple[str, dict[str, int]]]) -> str:
    columns = list(rows[0][1])
    lines = ["| results file | " + " | ".join(columns) + " |"]
    lines.append("|---|" + "|".join("---:" for _ in columns) + "|")
    lines += [
        f"| {name} | " + " | ".join(str(v) for v in row.values()) + " |" for name, row in rows
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("results", nargs="+", type=Path, help="results JSON files")
    parser.add_argument(
        "--tests", type=Path, required=True, help="the suite's `npm run --silent export` output"
    )
    parser.add_argument("--json", action="store_true", help="print JSON, with (kind, result)")
    args = parser.parse_args(argv)
    try:
        tests = load_tests(args.tests)
        rows = []
        for path in args.results:
            counted = count(tests, load_results(path))
            rows.append((path.name, summary(counted), counted))
    except CountError as error:
        print(f"cache_tests_count: {error}", file=sys.stderr)
        return 1
    if args.json:
        document = {
            name: {"summary": row, "by kind": {f"{k}:{r}": n for (k, r), n in sorted(c.items())}}
            for name, row, c in rows
        }
        print(json.dumps(document, indent=2))
    else:
        print(table([(name, row) for name, row, _ in rows]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
