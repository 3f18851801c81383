"""flask-appcache against Flask-Appcache 0.1.2, side by side in one run.

    python bench/appcache_bench.py            # or: hatch run bench:appcache
    python bench/appcache_bench.py --quick    # fewer rounds, for a smoke run
    python bench/appcache_bench.py --json bench/results/appcache.json   # + results for charts.py

Measures, for both libraries in the same process:

1. a request for the finalized manifest, against a request for a bare trivial view of a bare
   Flask app (a full WSGI call each): the ratio of the two times;
2. ``Appcache(app)``, ``add_folder`` of a 5,000-file static folder and ``finalize()`` (which
   computes the hash), on a fresh app each time.

Variants are timed in interleaved rounds (a rotating order, so a slow spell of the machine hits
them all). A request ratio is the median over rounds of the two times measured in the same
round; a hashing time is the fastest round. The ratios hold on a noisy machine; the absolute
times do not.

Flask-Appcache 0.1.2 (distribution ``flask-appcache``) has this project's import name
(``flask_appcache``; ours is distributed as ``flask-appcache-sw``), so it cannot be installed
beside it: this script installs it with pip into a temporary folder of its own (``--no-deps
--target``) and loads ``flask_appcache.py`` from there under another module name. It runs on
Flask 3 as it is, with no shim.
"""

from __future__ import annotations

import argparse
import importlib.util
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from flask import Flask
from httpcache_bench import median_interval  # the median's distribution-free 95% interval
from results import bar, chart, table, write_results
from viewcache_bench import wsgi_call  # the same full WSGI call as the viewcache benchmark

import flask_appcache  # this project's: the 0.1.2 module is loaded from its own folder

OLD_TEMPLATE = (
    "CACHE MANIFEST\n# {{ hash }} {{ updated }}\n{% for u in urls %}{{ u }}\n{% endfor %}"
)


def load_old(folder: Path) -> ModuleType:
    """Flask-Appcache 0.1.2, installed into ``folder`` and loaded from its file."""
    pip = [sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    subprocess.run(
        [*pip, "--no-deps", "--target", str(folder), "Flask-Appcache==0.1.2"], check=True
    )
    location = folder / "flask_appcache.py"
    spec = importlib.util.spec_from_file_location("flask_appcache_0_1_2", str(location))
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def rounds_of(
    variants: dict[str, Callable[[], object]], rounds: int, batch: int
) -> dict[str, list[float]]:
    """Seconds per call of each variant in each of ``rounds`` batches; the variants take turns
    in a rotating order, so a slow spell of the machine hits them all."""
    times: dict[str, list[float]] = {name: [] for name in variants}
    names = list(variants)
    for number in range(rounds):
        shift = number % len(names)
        for name in names[shift:] + names[:shift]:
            func = variants[name]
            func()
            started = time.perf_counter()
            for _ in range(batch):
                func()
            times[name].append((time.perf_counter() - started) / batch)
    return times


def ratios(times: dict[str, list[float]], variant: str, baseline: str) -> list[float]:
    """``variant``'s time over ``baseline``'s in each round (adjacent in time)."""
    return [v / b for v, b in zip(times[variant], times[baseline], strict=True)]


def ratio(times: dict[str, list[float]], variant: str, baseline: str) -> float:
    """The median over rounds of ``variant``'s time over ``baseline``'s in the same round."""
    return statistics.median(ratios(times, variant, baseline))


def site(root: Path, files: int) -> Path:
    """A static folder of ``files`` files (1 KiB each, 50 per folder) under ``root``."""
    static = root / "static"
    for number in range(files):
        path = static / f"d{number // 50:03d}" / f"f{number:05d}.css"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes((f"/* file {number} */\n".encode() * 64)[:1024])
    (root / "templates").mkdir()
    (root / "templates" / "manifest.appcache").write_text(OLD_TEMPLATE)
    return static


def app_with(module: ModuleType, root: Path, static: Path) -> tuple[Flask, Any]:
    app = Flask("bench", root_path=str(root), static_folder=str(static))
    return app, module.Appcache(app)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds (a smoke run)")
    parser.add_argument("--json", help="also write the results to this file (bench/README.md)")
    args = parser.parse_args(argv)
    rounds, batch, hash_rounds = (5, 300, 1) if args.quick else (41, 500, 3)
    with tempfile.TemporaryDirectory() as tmp:
        old, new = load_old(Path(tmp) / "anchor"), flask_appcache
        small_root, big_root = Path(tmp) / "small", Path(tmp) / "big"
        small, big = site(small_root, 20), site(big_root, 5000)

        bare = Flask("bare")
        bare.add_url_rule("/plain", "plain", lambda: "ok")
        serving: dict[str, Callable[[], object]] = {"bare view": wsgi_call(bare, "/plain")}
        for name, module in (("0.1.2", old), ("new", new)):
            app, appcache = app_with(module, small_root, small)
            appcache.add_folder(str(small))
            appcache.finalize()
            assert app.test_client().get("/manifest.appcache").status_code == 200
            serving[name] = wsgi_call(app, "/manifest.appcache")
        served = rounds_of(serving, rounds, batch)

        def hash_folder(module: ModuleType) -> Callable[[], object]:
            def run() -> object:
                _, appcache = app_with(module, big_root, big)
                appcache.add_folder(str(big))
                appcache.finalize()
                return appcache.hash()

            return run

        hashing = {"0.1.2": hash_folder(old), "new": hash_folder(new)}
        hash_times = rounds_of(hashing, hash_rounds, 1)
        hashed = {name: min(times) for name, times in hash_times.items()}
        shutil.rmtree(small_root)

    bare_time = min(served["bare view"])
    rows = [
        (
            "manifest request / bare view request",
            f"{ratio(served, '0.1.2', 'bare view'):.2f}x",
            f"{ratio(served, 'new', 'bare view'):.2f}x",
            f"{ratio(served, 'new', '0.1.2'):.2f}",
            "new ≤ 1.2x",
        ),
        (
            "hash a 5,000-file static folder (add_folder + finalize)",
            f"{hashed['0.1.2']:.3f} s",
            f"{hashed['new']:.3f} s",
            f"{hashed['new'] / hashed['0.1.2']:.2f}",
            "ratio ≤ 0.5",
        ),
    ]
    header = ("measure", "Flask-Appcache 0.1.2", "flask-appcache", "new / 0.1.2", "target")
    print(
        f"Python {sys.version.split()[0]}; bare view {bare_time * 1e6:.1f} µs per request"
        f" (fastest round); request ratios: median of {rounds} interleaved rounds of {batch}"
        f" requests; hashing: fastest of {hash_rounds} rounds\n"
    )
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    if args.json:
        settings = {"rounds": rounds, "batch": batch, "hash_rounds": hash_rounds}
        settings["quick"] = args.quick
        title = "flask-appcache against Flask-Appcache 0.1.2"
        tables = [table(title, list(header), [*map(list, rows)])]
        labels = {"0.1.2": "Flask-Appcache 0.1.2", "new": "flask-appcache"}
        request_bars = [
            bar(labels[name], *median_interval(ratios(served, name, "bare view")))
            for name in ("0.1.2", "new")
        ]
        hash_bars = [
            bar(labels[name], hashed[name], min(hash_times[name]), max(hash_times[name]))
            for name in ("0.1.2", "new")
        ]
        charts = [
            chart(
                "manifest request / bare view request (median of per-round ratios, 95% interval)",
                "x",
                "lower",
                request_bars,
                goal=1.2,
            ),
            chart(
                "hash a 5,000-file static folder (fastest round, min-max)",
                "s",
                "lower",
                hash_bars,
            ),
        ]
        write_results(args.json, "appcache", settings, tables, charts)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
