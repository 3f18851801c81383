"""The machine-readable output of the benchmark scripts (``--json PATH``), read by charts.py.

The format is in bench/README.md. A script builds its tables (what it prints) and its charts
(bars, each with an optional interval) and calls :func:`write_results`.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import sys
from pathlib import Path
from typing import Any

FORMAT = 1


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    processor = platform.processor()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("model name"):
                processor = line.split(":", 1)[1].strip()
                break
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    return {
        "cpus": os.cpu_count(),
        "load_average": None if load is None else round(load, 2),  # 1 min, at the end
        "processor": processor or platform.machine(),
        "system": f"{platform.system()} {platform.release()}",
        "python": f"{platform.python_implementation()} {platform.python_version()}",
    }


def bar(
    label: str, value: float, low: float | None = None, high: float | None = None
) -> dict[str, Any]:
    """One bar of a chart; ``low``/``high`` draw its interval (min-max, or a confidence one)."""
    found: dict[str, Any] = {"label": label, "value": value}
    if low is not None and high is not None:
        found["low"], found["high"] = low, high
    return found


def chart(
    title: str, unit: str, better: str, bars: list[dict[str, Any]], goal: float | None = None
) -> dict[str, Any]:
    """A bar chart: ``better`` is ``"lower"`` or ``"higher"``; ``goal`` draws a line."""
    if better not in {"lower", "higher"}:
        raise ValueError(f"better={better!r}: 'lower' or 'higher'")
    found: dict[str, Any] = {"title": title, "unit": unit, "better": better, "bars": bars}
    if goal is not None:
        found["goal"] = goal
    return found


def table(title: str, columns: list[str], rows: list[list[str]]) -> dict[str, Any]:
    return {"title": title, "columns": columns, "rows": rows}


def write_results(
    path: str | Path,
    benchmark: str,
    settings: dict[str, Any],
    tables: list[dict[str, Any]],
    charts: list[dict[str, Any]],
) -> None:
    """Write one run's results to ``path`` (JSON, format :data:`FORMAT`)."""
    document = {
        "format": FORMAT,
        "benchmark": benchmark,
        "command": " ".join(["python", *sys.argv]),
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "settings": settings,
        "tables": tables,
        "charts": charts,
    }
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"\nresults written to {target}")
