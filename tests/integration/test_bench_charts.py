"""bench/charts.py reads any benchmark's results file (bench/results.py's format), refuses a
malformed one with a message naming the file and the field, and the committed benchmarks page
is the one the committed results make."""

from __future__ import annotations

import copy
import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]


def load_bench_module(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"bench_{name}", REPO / "bench" / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


charts = load_bench_module("charts")
results = load_bench_module("results")


def written(tmp_path: Path, benchmark: str, *, with_chart: bool = True) -> dict[str, Any]:
    """A results file as a benchmark script writes it (through bench/results.py), read back."""
    bars = [results.bar("anchor", 12.5), results.bar("ours", 3.25, 3.0, 3.5)]
    chart_list = [results.chart(f"{benchmark} hit", "µs", "lower", bars, goal=5.0)]
    tables = [results.table("t", ["measure", "anchor", "ours"], [["hit (µs)", "12.5", "3.25"]])]
    path = tmp_path / f"{benchmark}.json"
    results.write_results(path, benchmark, {"rounds": 3}, tables, chart_list if with_chart else [])
    document: dict[str, Any] = charts.load(path)
    return document


def test_what_the_scripts_write_is_what_charts_reads(tmp_path: Path) -> None:
    document = written(tmp_path, "staticbust")
    assert document["benchmark"] == "staticbust"
    assert document["charts"][0]["bars"][1] == {
        "label": "ours",
        "value": 3.25,
        "low": 3.0,
        "high": 3.5,
    }
    assert {"cpus", "processor", "system", "python"} <= set(document["machine"])


def test_any_benchmark_gets_a_section_in_the_known_order_then_by_name(tmp_path: Path) -> None:
    names = ["zeta", "appcache", "staticbust", "viewcache", "alpha", "httpcache"]
    text = charts.page([written(tmp_path, name) for name in names])
    headings = [line[3:] for line in text.splitlines() if line.startswith("## ")]
    assert headings == ["viewcache", "httpcache", "staticbust", "appcache", "alpha", "zeta"]
    assert "![staticbust benchmark](_static/bench/staticbust.png)" in text
    assert "| hit (µs) | 12.5 | 3.25 |" in text
    assert "(rounds=3)" in text


def test_a_results_file_without_charts_gets_its_tables_and_no_image(tmp_path: Path) -> None:
    text = charts.page([written(tmp_path, "tablesonly", with_chart=False)])
    assert "## tablesonly" in text
    assert "| hit (µs) | 12.5 | 3.25 |" in text
    assert "![" not in text


def test_two_files_of_one_benchmark_are_refused(tmp_path: Path) -> None:
    first = written(tmp_path, "appcache")
    with pytest.raises(charts.ResultsError, match="more than one results file for appcache"):
        charts.page([first, copy.deepcopy(first)])


def broken(change: str) -> Any:
    document = json.loads((REPO / "bench" / "results" / "viewcache.json").read_text())
    if change == "not an object":
        return [document]
    if change == "format 2":
        document["format"] = 2
    elif change == "benchmark with a path":
        document["benchmark"] = "../../etc/x"
    elif change == "no machine":
        del document["machine"]
    elif change == "short row":
        document["tables"][0]["rows"][0] = ["only one cell"]
    elif change == "better sideways":
        document["charts"][0]["better"] = "sideways"
    elif change == "value not a number":
        document["charts"][0]["bars"][0]["value"] = "fast"
    elif change == "infinite value":
        document["charts"][0]["bars"][0]["value"] = float("inf")
    elif change == "low without high":
        document["charts"][0]["bars"][0]["low"] = 1.0
    elif change == "no bars":
        document["charts"][0]["bars"] = []
    return document


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ("not an object", "not a JSON object"),
        ("format 2", "format 2, charts.py reads format 1"),
        ("benchmark with a path", "benchmark must be a name"),
        ("no machine", "machine must be an object"),
        ("short row", "tables[0] must be an object whose rows are lists of 5 cells"),
        ("better sideways", "charts[0] must be an object with a title"),
        ("value not a number", "charts[0] must be an object whose bars"),
        ("infinite value", "charts[0] must be an object whose bars"),
        ("low without high", "charts[0] must be an object whose bars"),
        ("no bars", "charts[0] must be an object with a non-empty list of bars"),
    ],
)
def test_a_malformed_results_file_is_an_error_naming_file_and_field(
    tmp_path: Path, change: str, named: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(broken(change)), encoding="utf-8")
    with pytest.raises(charts.ResultsError) as raised:
        charts.load(path)
    assert str(raised.value).startswith(f"{path}: ")
    assert named in str(raised.value)


def test_a_file_that_is_not_json_is_an_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(b"{not json")
    with pytest.raises(charts.ResultsError, match=r"bad\.json: Expecting property name"):
        charts.load(path)


def test_the_committed_page_is_the_one_the_committed_results_make() -> None:
    """Run `hatch run bench:charts` after adding or changing a bench/results/*.json."""
    files = sorted((REPO / "bench" / "results").glob("*.json"))
    documents = [charts.load(path) for path in files]
    assert {d["benchmark"] for d in documents} >= {"viewcache", "httpcache", "appcache"}
    page = (REPO / "docs" / "_generated" / "benchmarks.md").read_text(encoding="utf-8")
    assert page == charts.page(documents)
    for document in documents:
        if document["charts"]:
            assert (REPO / "docs" / "_static" / "bench" / f"{document['benchmark']}.png").is_file()


def test_the_same_results_draw_the_same_png_bytes(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib", reason="matplotlib is in the bench environment")
    document = written(tmp_path, "staticbust")
    charts.draw(document, tmp_path / "one.png")
    charts.draw(copy.deepcopy(document), tmp_path / "two.png")
    one = (tmp_path / "one.png").read_bytes()
    assert one.startswith(b"\x89PNG")
    assert one == (tmp_path / "two.png").read_bytes()


def test_charts_imports_no_matplotlib_until_it_draws() -> None:
    """The checks and the page work where matplotlib is not installed (the test environment)."""
    code = (
        "import runpy, sys; runpy.run_path(sys.argv[1]);"
        " print(any(m.startswith('matplotlib') for m in sys.modules))"
    )
    found = subprocess.run(
        [sys.executable, "-c", code, str(REPO / "bench" / "charts.py")],
        capture_output=True,
        text=True,
        check=True,
    )
    assert found.stdout.strip() == "False"
