"""Charts and tables of the docs' benchmarks page, from the benchmark scripts' ``--json`` files.

    python bench/charts.py                      # or: hatch run bench:charts
    python bench/charts.py bench/results/viewcache.json

For each results file (default: every ``bench/results/*.json``, whatever its benchmark) it
writes ``docs/_static/bench/<benchmark>.png`` (one bar chart per chart of the file; none for a
file without charts), and it writes ``docs/_generated/benchmarks.md``: per benchmark, the
machine, the date, the command, the chart and the tables. docs/benchmarks.md includes that
file. Same input, same bytes out. A file that does not follow the format (bench/README.md) is
an error naming the file and the field.
"""

from __future__ import annotations

import argparse
import json
import math
import re
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results"
IMAGES = REPO / "docs" / "_static" / "bench"
PAGE = REPO / "docs" / "_generated" / "benchmarks.md"
ORDER = ["viewcache", "httpcache", "staticbust", "appcache"]


class ResultsError(SystemExit):
    """A results file charts.py cannot read: the message names the file and what is wrong."""


NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")  # a benchmark names a file: no path, no space
MACHINE = ("cpus", "processor", "system", "python")


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def table_problem(spec: Any) -> str | None:
    if not isinstance(spec, dict) or not isinstance(spec.get("columns"), list):
        return "an object with columns and rows"
    rows, width = spec.get("rows"), len(spec["columns"])
    if not isinstance(rows, list) or any(not isinstance(r, list) or len(r) != width for r in rows):
        return f"an object whose rows are lists of {width} cells"
    return None


def chart_problem(spec: Any) -> str | None:
    if (
        not isinstance(spec, dict)
        or spec.get("better") not in {"lower", "higher"}
        or not all(isinstance(spec.get(k), str) for k in ("title", "unit"))
        or ("goal" in spec and not is_number(spec["goal"]))
    ):
        return "an object with a title, a unit, better 'lower' or 'higher' and a numeric goal"
    bars = spec.get("bars")
    if not isinstance(bars, list) or not bars:
        return "an object with a non-empty list of bars"
    for bar in bars:
        if (
            not isinstance(bar, dict)
            or not isinstance(bar.get("label"), str)
            or not is_number(bar.get("value"))
            or ("low" in bar) != ("high" in bar)
            or not all(is_number(bar[k]) for k in ("low", "high") if k in bar)
        ):
            return "an object whose bars have a label, a finite value and optionally low and high"
    return None


def check(document: Any, where: str) -> dict[str, Any]:
    """``document`` if it follows format 1 (bench/README.md), else :class:`ResultsError`."""
    if not isinstance(document, dict):
        raise ResultsError(f"{where}: not a JSON object")
    if document.get("format") != 1:
        raise ResultsError(f"{where}: format {document.get('format')!r}, charts.py reads format 1")
    problems = []
    if not isinstance(document.get("benchmark"), str) or not NAME.match(document["benchmark"]):
        problems.append("benchmark must be a name of lower-case letters, digits, - and _")
    problems += [
        f"{k} must be a string" for k in ("command", "date") if not isinstance(document.get(k), str)
    ]
    machine = document.get("machine")
    if not isinstance(machine, dict) or not all(k in machine for k in MACHINE):
        problems.append(f"machine must be an object with {', '.join(MACHINE)}")
    if not isinstance(document.get("settings"), dict):
        problems.append("settings must be an object")
    for field, problem_of in (("tables", table_problem), ("charts", chart_problem)):
        specs = document.get(field)
        if not isinstance(specs, list):
            problems.append(f"{field} must be a list")
            continue
        for number, spec in enumerate(specs):
            problem = problem_of(spec)
            if problem is not None:
                problems.append(f"{field}[{number}] must be {problem}")
    if problems:
        raise ResultsError(f"{where}: " + "; ".join(problems))
    return document


def load(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ResultsError(f"{path}: {error}") from None
    return check(document, str(path))


def draw(document: dict[str, Any], target: Path) -> None:
    """``document``'s charts, one under the other, into the PNG ``target``."""
    import matplotlib  # here, so the page and the checks need no matplotlib
    import matplotlib.ticker

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    charts = document["charts"]
    heights = [0.45 * len(c["bars"]) + 1.0 for c in charts]
    figure, axes = plt.subplots(
        len(charts), 1, figsize=(8, sum(heights)), gridspec_kw={"height_ratios": heights}
    )
    for axis, spec in zip(figure.axes if len(charts) > 1 else [axes], charts, strict=True):
        bars = spec["bars"]
        labels = [b["label"] for b in bars]
        values = [b["value"] for b in bars]
        positions = list(range(len(bars)))[::-1]
        axis.barh(positions, values, color="#4c72b0", height=0.6)
        with_interval = [(p, b) for p, b in zip(positions, bars, strict=True) if "low" in b]
        if with_interval:
            axis.errorbar(
                [b["value"] for _, b in with_interval],
                [p for p, _ in with_interval],
                xerr=[
                    [b["value"] - b["low"] for _, b in with_interval],
                    [b["high"] - b["value"] for _, b in with_interval],
                ],
                fmt="none",
                ecolor="#222222",
                capsize=3,
            )
        for position, spec_bar in zip(positions, bars, strict=True):
            value = spec_bar["value"]
            axis.annotate(
                f"  {value:,.0f}" if abs(value) >= 100 else f"  {value:.3g}",
                (max(value, spec_bar.get("high", value)), position),
                va="center",
                fontsize=8,
                color="#222222",
            )
        if "goal" in spec:
            axis.axvline(spec["goal"], color="#c44e52", linestyle="--", linewidth=1)
        positive = [v for v in values if v > 0]
        if positive and max(positive) / min(positive) > 20:
            axis.set_xscale("log")
            axis.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda x, _: f"{x:g}"))
        axis.set_yticks(positions, labels, fontsize=8)
        better = "lower is better" if spec["better"] == "lower" else "higher is better"
        axis.set_title(f"{spec['title']} ({spec['unit']}; {better})", fontsize=9, loc="left")
        axis.tick_params(axis="x", labelsize=8)
        axis.spines[["top", "right"]].set_visible(False)
        # the goal line stays on the chart even when every bar is far below it
        highest = max([b.get("high", b["value"]) for b in bars] + [spec.get("goal", 0)])
        right = highest * 1.25 or 1.0
        axis.set_xlim(left=min(positive) / 2 if axis.get_xscale() == "log" else 0, right=right)
    figure.tight_layout()
    target.parent.mkdir(parents=True, exist_ok=True)
    # no Software/date metadata, so the same results give the same bytes
    figure.savefig(target, dpi=110, metadata={"Software": None})
    plt.close(figure)


def markdown_table(spec: dict[str, Any]) -> list[str]:
    def cells(row: list[str]) -> str:
        return "| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |"

    lines = [cells(spec["columns"]), "|" + "|".join("---" for _ in spec["columns"]) + "|"]
    return lines + [cells(row) for row in spec["rows"]]


def section(document: dict[str, Any], image: Path | None) -> list[str]:
    machine = document["machine"]
    settings = ", ".join(f"{k}={v}" for k, v in document["settings"].items())
    load = machine.get("load_average")
    busy = f", load average {load} at the end" if load is not None else ""
    lines = [
        f"## {document['benchmark']}",
        "",
        f"Run of {document['date']} on {machine['cpus']} CPUs ({machine['processor']}),"
        f" {machine['system']}, {machine['python']}{busy}: `{document['command']}` ({settings}).",
        "",
    ]
    if image is not None:
        relative = image.relative_to(PAGE.parent.parent).as_posix()
        lines += [f"![{document['benchmark']} benchmark]({relative})", ""]
    for spec in document["tables"]:
        lines += [*markdown_table(spec), ""]
    return lines


def ordered(documents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """viewcache, httpcache, staticbust, appcache, then any other benchmark by name; two files
    of one benchmark are an error (their charts would overwrite each other)."""
    names = [d["benchmark"] for d in documents]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ResultsError(f"more than one results file for {', '.join(twice)}")
    known = {name: i for i, name in enumerate(ORDER)}
    return sorted(documents, key=lambda d: (known.get(d["benchmark"], math.inf), d["benchmark"]))


def page(documents: list[dict[str, Any]], images: Path = IMAGES) -> str:
    """The Markdown of docs/_generated/benchmarks.md for these results."""
    lines = ["<!-- made by bench/charts.py from bench/results/*.json: do not edit -->", ""]
    for document in ordered(documents):
        image = images / f"{document['benchmark']}.png" if document["charts"] else None
        lines += section(document, image)
    return "\n".join(lines).rstrip("\n") + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="*", type=Path, help="results files (--json output)")
    args = parser.parse_args(argv)
    files = args.files or sorted(RESULTS.glob("*.json"))
    documents = ordered([load(path) for path in files])
    text = page(documents)
    for document in documents:
        if document["charts"]:
            image = IMAGES / f"{document['benchmark']}.png"
            draw(document, image)
            print(f"wrote {image.relative_to(REPO)}")
    PAGE.parent.mkdir(parents=True, exist_ok=True)
    PAGE.write_text(text, encoding="utf-8")
    print(f"wrote {PAGE.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
