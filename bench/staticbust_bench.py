"""flask-staticbust against Flask-Static-Digest, side by side in one run.

    python bench/staticbust_bench.py            # or: hatch run bench:staticbust
    python bench/staticbust_bench.py --quick    # a 1,000-file tree and fewer rounds
    python bench/staticbust_bench.py --json bench/results/staticbust.json  # + for charts.py

Measures:

1. ``url_for('static', filename=...)`` with StaticBust (route and digest mode) and
   Flask-Static-Digest's ``static_url_for``, each as a ratio to a plain ``url_for`` of a bare
   Flask app; interleaved rounds, the fastest round of each (goal: ours <= 1.3x, below FSD's);
2. the content version of a generated tree (10,000 files, 100 MB; in a temp dir) cold (no
   stamp file; the page cache is warm, as on a restart) and on a restart with unchanged files
   (goals: <= 1 s and <= 50 ms), and the mtime strategy beside them;
3. ``flask staticbust build`` (digest, rewrite CSS, gzip) against ``flask digest compile`` of
   Flask-Static-Digest on copies of the same tree, each in a fresh process: wall time and peak
   RSS (``ru_maxrss`` from ``wait4``) (goal: ours lower on both).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask
from results import bar, chart, table, write_results

TEXT_EXTENSIONS = (".css", ".js", ".svg", ".html", ".json")


def generate_tree(root: Path, files: int, total_bytes: int, seed: int = 10) -> None:
    """A static folder of ``files`` files, ``total_bytes`` in all: three in four text
    (CSS referencing images, JS, SVG, ...; compressible like real code), the rest images
    (incompressible bytes). Deterministic for a given seed."""
    rng = random.Random(seed)
    words = [
        "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(3, 9)))
        for _ in range(2000)
    ]
    pool = " ".join(rng.choice(words) for _ in range(400_000))
    average = total_bytes // files
    images: list[str] = []
    for index in range(files):
        folder = f"d{index % 50:02d}/s{index % 7}"
        size = max(64, int(rng.uniform(0.3, 1.7) * average))
        if index % 4 == 3:
            name = f"{folder}/img{index}.png"
            data = rng.randbytes(size)
            images.append(name)
        else:
            extension = TEXT_EXTENSIONS[index % len(TEXT_EXTENSIONS)]
            name = f"{folder}/f{index}{extension}"
            start = rng.randrange(0, len(pool) - size)
            body = pool[start : start + size]
            if extension == ".css" and images:
                image = os.path.relpath(rng.choice(images), folder)
                body = f".i{index} {{ background: url({image}) }}\n/* {body} */\n"
            data = body.encode()
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def fastest(variants: dict[str, Callable[[], object]], rounds: int, batch: int) -> dict[str, float]:
    """Seconds per call: the fastest of ``rounds`` batches, variants taking turns."""
    best = dict.fromkeys(variants, float("inf"))
    names = list(variants)
    for number in range(rounds):
        shift = number % len(names)
        for name in names[shift:] + names[:shift]:
            func = variants[name]
            started = time.perf_counter()
            for _ in range(batch):
                func()
            best[name] = min(best[name], (time.perf_counter() - started) / batch)
    return best


def url_for_costs(tmp: Path, rounds: int, batch: int) -> list[tuple[str, float]]:
    from flask_static_digest import FlaskStaticDigest

    from flask_staticbust import StaticBust

    root = tmp / "urls"
    generate_tree(root / "static", 200, 200_000)
    filename = "d01/s1/f1.js"
    digested = "d01/s1/f1-0123456789abcdef0123456789abcdef.js"
    (root / "static" / "cache_manifest.json").write_text(json.dumps({filename: digested}))

    def app(name: str) -> Flask:
        made = Flask(name, root_path=str(root), instance_path=str(tmp / f"instance-{name}"))
        made.config["STATICBUST_STAMP_DIR"] = False
        return made

    plain = app("plain")
    route = app("route")
    StaticBust(route)
    digest = app("digest")
    digest.config["STATICBUST_MODE"] = "digest"
    StaticBust(digest)
    builder = digest.test_cli_runner().invoke(args=["staticbust", "build"])
    assert builder.exit_code == 0, builder.output
    digest.extensions["staticbust"].mark_stale()
    fsd_app = app("fsd")
    fsd = FlaskStaticDigest(fsd_app)
    apps = {"plain": plain, "route": route, "digest": digest, "fsd": fsd_app}
    calls: dict[str, Callable[[], object]] = {
        label: (lambda a: lambda: a.url_for("static", filename=filename))(flask_app)
        for label, flask_app in apps.items()
        if label != "fsd"
    }
    calls["fsd"] = lambda: fsd.static_url_for("static", filename=filename)
    # Variants take turns, each batch inside its own app's request context.
    best = dict.fromkeys(calls, float("inf"))
    names = list(calls)
    for number in range(rounds):
        shift = number % len(names)
        for label in names[shift:] + names[:shift]:
            with apps[label].test_request_context():
                best[label] = min(best[label], fastest({label: calls[label]}, 1, batch)[label])
    return [
        ("plain url_for (bare Flask)", best["plain"]),
        ("StaticBust route mode url_for", best["route"]),
        ("StaticBust digest mode url_for", best["digest"]),
        ("Flask-Static-Digest static_url_for", best["fsd"]),
    ]


RESTARTS = 9
GOALS = {"cold": 1.0, "restart": 0.050}


def version_times(tree: Path, tmp: Path) -> list[tuple[str, float]]:
    from flask_staticbust.versions import ContentVersioner, mtime_version
    from flask_staticbust.walk import list_files

    stamp_dir = tmp / "stamps"
    shutil.rmtree(stamp_dir, ignore_errors=True)
    stamp = str(stamp_dir / "tree.stamps")
    # The racy rule re-hashes files modified in the last 2 s: the tree is older than that.
    old = time.time() - 60
    for path in tree.rglob("*"):
        os.utime(path, (old, old))
    started = time.perf_counter()
    cold_version = ContentVersioner(str(tree), stamp, 12).compute()
    cold = time.perf_counter() - started
    # A restart: a new versioner (no state in memory) reading the stamp file; the page cache
    # is warm, as it is on a real restart. The median of several, as the machine is noisy.
    restarts = []
    for _ in range(RESTARTS):
        started = time.perf_counter()
        again = ContentVersioner(str(tree), stamp, 12).compute()
        restarts.append(time.perf_counter() - started)
        assert again == cold_version
    started = time.perf_counter()
    mtime_version(list_files(str(tree)))
    mtime = time.perf_counter() - started
    return [
        ("content version, cold (no stamp file)", cold),
        (
            f"content version, restart, files unchanged (median of {RESTARTS})",
            statistics.median(restarts),
        ),
        ("mtime version (for reference)", mtime),
    ]


OURS = """
import sys
from flask import Flask
from flask_staticbust import StaticBust
app = Flask("bench", root_path=sys.argv[1], instance_path=sys.argv[2])
app.config.update(STATICBUST_MODE="digest", STATICBUST_COMPRESS=["gzip"])
StaticBust(app)
result = app.test_cli_runner().invoke(args=["staticbust", "build"])
print(result.output.strip().splitlines()[-1] if result.output.strip() else result)
print(PEAK())
sys.exit(result.exit_code)
"""

THEIRS = """
import sys
from flask import Flask
from flask_static_digest import FlaskStaticDigest
from flask_static_digest.cli import digest
app = Flask("bench", root_path=sys.argv[1], instance_path=sys.argv[2])
FlaskStaticDigest(app)
result = app.test_cli_runner().invoke(digest, ["compile"])
print(result.output.strip())
print(PEAK())
sys.exit(result.exit_code)
"""


# The child's own high-water mark of resident memory. Not ru_maxrss: on Linux that includes
# the memory of the parent at fork time (before exec), which would be this script's.
PEAK_FUNCTION = """
def PEAK():
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith("VmHWM:"))
    return "peak_kb=" + line.split()[1]
"""


def run_measured(script: str, root: Path, instance: Path) -> tuple[float, float, float, str]:
    """(seconds, peak RSS in MB, CPU seconds (user + system), output) of ``script`` in a fresh
    process."""
    started = time.perf_counter()
    source = PEAK_FUNCTION + textwrap.dedent(script)
    process = subprocess.Popen(
        [sys.executable, "-c", source, str(root), str(instance)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    elapsed = time.perf_counter() - started
    if process.returncode != 0:
        raise RuntimeError(f"build failed: {output}")
    peak_kb = int(output.strip().splitlines()[-1].removeprefix("peak_kb="))
    return elapsed, peak_kb / 1024, usage.ru_utime + usage.ru_stime, output.strip()


def build_times(tree: Path, tmp: Path, runs: int) -> list[tuple[str, float, float, float]]:
    """(label, best seconds, best peak MB, CPU seconds of the fastest run) of each build."""
    rows: dict[str, list[tuple[float, float, float]]] = {"ours": [], "ours again": [], "fsd": []}
    for number in range(runs):
        for label, script in (
            [("ours", OURS), ("fsd", THEIRS)]
            if number % 2 == 0
            else [("fsd", THEIRS), ("ours", OURS)]
        ):
            app_root = tmp / f"build-{label}"
            shutil.rmtree(app_root, ignore_errors=True)
            shutil.copytree(tree, app_root / "static", symlinks=True)
            # The copy's 100 MB go to disk before the build, as a deploy's checkout has: not
            # in the middle of the build, whose file creations would wait for them.
            os.sync()
            seconds, peak, cpu, _ = run_measured(script, app_root, tmp / f"instance-{label}")
            rows[label].append((seconds, peak, cpu))
            if label == "ours":
                seconds, peak, cpu, _ = run_measured(script, app_root, tmp / f"instance-{label}")
                rows["ours again"].append((seconds, peak, cpu))
    names = {
        "ours": "flask staticbust build (digest + CSS rewrite + SRI + gzip)",
        "ours again": "flask staticbust build again, nothing changed",
        "fsd": "flask digest compile (Flask-Static-Digest: digest + gzip)",
    }
    return [(names[k], min(v)[0], min(p for _, p, _ in v), min(v)[2]) for k, v in rows.items()]


def goal_row(figure: str, measured: str, passed: bool) -> list[str]:
    """A row of the goals table: the figure and its goal, what was measured, pass or FAIL."""
    return [figure, measured, "pass" if passed else "FAIL"]


def markdown(columns: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a small tree, fewer rounds")
    parser.add_argument("--skip-build", action="store_true", help="leave out the build runs (3.)")
    parser.add_argument("--json", help="also write the results to this file (bench/README.md)")
    args = parser.parse_args(argv)
    files, total = (1_000, 10_000_000) if args.quick else (10_000, 100_000_000)
    # url_for: many short batches (2,000 calls, about 10 ms): the fastest of them is one that no
    # other process interrupted, which a shared machine gives only to short ones.
    rounds, batch, runs = (20, 1_000, 1) if args.quick else (150, 2_000, 3)
    settings = {"files": files, "bytes": total, "rounds": rounds, "batch": batch, "runs": runs}
    tables: list[dict[str, Any]] = []
    charts: list[dict[str, Any]] = []
    goals: list[list[str]] = []
    with tempfile.TemporaryDirectory(prefix="staticbust-bench-") as name:
        tmp = Path(name)
        tree = tmp / "tree"
        generate_tree(tree, files, total)
        size = sum(p.stat().st_size for p in tree.rglob("*") if p.is_file())
        load = os.getloadavg()[0]
        print(f"tree: {files} files, {size / 1e6:.1f} MB; {os.cpu_count()} CPUs, load {load:.1f}\n")

        costs = url_for_costs(tmp, rounds, batch)
        plain, fsd = costs[0][1], costs[3][1]
        columns = ["url_for('static', ...)", "µs per call", "ratio to plain url_for"]
        rows = [[label, f"{t * 1e6:.2f}", f"{t / plain:.2f}x"] for label, t in costs]
        print(markdown(columns, rows))
        tables.append(table("url_for('static', ...), fastest of the rounds", columns, rows))
        url_bars = [bar(label, t * 1e6) for label, t in costs]
        charts.append(chart("url_for('static', ...)", "µs", "lower", url_bars, plain * 1.3e6))
        for label, t in costs[1:3]:
            figure = f"{label}: <= 1.3x plain, below Flask-Static-Digest's"
            goals.append(goal_row(figure, f"{t / plain:.2f}x", t / plain <= 1.3 and t < fsd))

        columns = ["content version of the tree", "time", "ratio to the goal"]
        rows = []
        timed = version_times(tree, tmp)
        for (label, seconds), goal in zip(
            timed, (GOALS["cold"], GOALS["restart"], None), strict=True
        ):
            ratio = f"{seconds / goal:.2f}x of {goal * 1000:.0f} ms" if goal else "-"
            rows.append([label, f"{seconds * 1000:.1f} ms", ratio])
            if goal:
                figure = f"{label}: <= {goal * 1000:.0f} ms"
                goals.append(goal_row(figure, f"{seconds * 1000:.1f} ms", seconds <= goal))
        print("\n" + markdown(columns, rows))
        tables.append(table("content version of the tree", columns, rows))
        charts.append(
            chart(
                "content version, restart with unchanged files",
                "ms",
                "lower",
                [bar("flask-staticbust", timed[1][1] * 1000)],
                GOALS["restart"] * 1000,
            )
        )

        if not args.skip_build:
            built = build_times(tree, tmp, runs)
            columns = [f"build of the tree (fresh process each, best of {runs})", "time"]
            columns += ["peak RSS", "CPU (user + system)"]
            rows = [
                [label, f"{seconds:.2f} s", f"{peak:.1f} MB", f"{cpu:.2f} s"]
                for label, seconds, peak, cpu in built
            ]
            print("\n" + markdown(columns, rows))
            tables.append(table("build of the tree", columns, rows))
            ours, theirs = built[0], built[2]
            names = ["flask staticbust build", "Flask-Static-Digest compile"]
            charts.append(
                chart(
                    "build of 10,000 files (best of runs)",
                    "s",
                    "lower",
                    [bar(names[0], ours[1]), bar(names[1], theirs[1])],
                )
            )
            charts.append(
                chart(
                    "build: peak memory of a fresh process",
                    "MB",
                    "lower",
                    [bar(names[0], ours[2]), bar(names[1], theirs[2])],
                )
            )
            time_ratio, peak_ratio = ours[1] / theirs[1], ours[2] / theirs[2]
            figure = "build: faster than Flask-Static-Digest"
            goals.append(goal_row(figure, f"{time_ratio:.2f}x its time", time_ratio < 1))
            figure = "build: less peak memory than Flask-Static-Digest"
            goals.append(goal_row(figure, f"{peak_ratio:.2f}x its peak", peak_ratio < 1))

    load = os.getloadavg()[0]
    columns = ["goal (issue #10)", "measured", "result"]
    print(f"\n{markdown(columns, goals)}\n\nload average at the end: {load:.1f}")
    tables.append(table("goals", columns, goals))
    if args.json:
        write_results(args.json, "staticbust", {**settings, "quick": args.quick}, tables, charts)
    return 0


if __name__ == "__main__":
    sys.exit(main())
