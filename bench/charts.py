"""Charts and tables of the docs' benchmarks page, from the benchmark scripts' ``--json`` files.

    python bench/charts.py                      # or: hatch run bench:charts
    python bench/charts.py bench/results/viewcache.json

For each results file (default: every ``bench/results/*.json``) it writes
``docs/_static/bench/<benchmark>.png`` (one bar chart per chart of the file), and it writes
``docs/_generated/benchmarks.md``: per benchmark, the machine, the date, the command, the
chart and the tables. docs/benchmarks.md includes that file. Same input, same bytes out.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

import matplotlib
import matplotlib.ticker

matplotlib.use("Agg")
import matplotlib.pyplot as plt

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results"
IMAGES = REPO / "docs" / "_static" / "bench"
PAGE = REPO / "docs" / "_generated" / "benchmarks.md"
ORDER = ["viewcache", "httpcache", "staticbust", "appcache"]


def load(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    if document.get("format") != 1:
        raise SystemExit(f"{path}: format {document.get('format')!r}, charts.py reads format 1")
    return document


def draw(document: dict[str, Any], target: Path) -> None:
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
        right = max([b.get("high", b["value"]) for b in bars]) * 1.25
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


def section(document: dict[str, Any], image: Path) -> list[str]:
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
        f"![{document['benchmark']} benchmark]({image.relative_to(PAGE.parent.parent).as_posix()})",
        "",
    ]
    for spec in document["tables"]:
        lines += [*markdown_table(spec), ""]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="*", type=Path, help="results files (--json output)")
    args = parser.parse_args(argv)
    files = args.files or sorted(RESULTS.glob("*.json"))
    documents = [load(path) for path in files]
    known = {name: i for i, name in enumerate(ORDER)}
    documents.sort(key=lambda d: (known.get(d["benchmark"], math.inf), d["benchmark"]))
    lines = [
        "<!-- made by bench/charts.py from bench/results/*.json: do not edit -->",
        "",
    ]
    for document in documents:
        image = IMAGES / f"{document['benchmark']}.png"
        draw(document, image)
        print(f"wrote {image.relative_to(REPO)}")
        lines += section(document, image)
    PAGE.parent.mkdir(parents=True, exist_ok=True)
    PAGE.write_text("\n".join(lines).rstrip("\n") + "\n", encoding="utf-8")
    print(f"wrote {PAGE.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
