"""Benchmark of flask-httpcache against its anchors, all served by gunicorn, loaded by wrk.

Run from the repository root (one command, about five minutes):

    python bench/httpcache_bench.py [--rounds 20] [--duration 1] [--rows a,b] [--workers N]
    python bench/httpcache_bench.py --json bench/results/httpcache.json   # + results for charts.py

Every row runs under gunicorn with the same settings (gthread workers of one thread,
keep-alive), on loopback, measured by ``wrk``. All the rows' servers run for the whole
benchmark and the rows take turns, forwards then backwards, for ``--rounds`` short runs each;
a ratio is computed within each round, from runs seconds apart, and reported as the median
over the rounds with a 95% confidence interval: that holds on a shared machine whose speed
drifts, where absolute numbers do not.

The load generator must not compete with the server for cores, or it measures the machine's
scheduler: by default gunicorn gets one worker per core but one (``--workers`` = cores - 1, at
least 1) and wrk one thread (``--threads 1``), and where ``taskset`` exists each is pinned to
its own cores (``--no-pin`` to leave that to the scheduler); on 2 cores each has one. The apps
are defined in this file (gunicorn imports it as ``httpcache_bench:<app>``).
"""

from __future__ import annotations

import argparse
import math
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from results import bar, chart, table, write_results

HERE = Path(__file__).resolve().parent
BODY = b"hello, world\n"
SLOW_SECONDS = 0.010


# -- the apps ------------------------------------------------------------------------------------


def raw_wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """The ceiling for any Python app on this server: a constant."""
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(BODY)))])
    return [BODY]


def _flask_app(
    slow: bool = False, cache: str = "none", hook: bool = False, tagged: bool = False
) -> Any:
    from flask import Flask

    app = Flask("httpcache_bench")
    if hook:
        # another hook, installed before the cache's: it sees hits too, so every request goes
        # through Flask (the request handler's hit lane stays closed)
        seen = [0]

        @app.before_request
        def count() -> None:
            seen[0] += 1

    @app.route("/")
    def index() -> Any:
        if slow:
            time.sleep(SLOW_SECONDS)
        fields = {"Content-Type": "text/plain", "Cache-Control": "max-age=3600"}
        if tagged:  # a surrogate key: every hit reads its tag's version back (one get_many)
            fields["Surrogate-Key"] = "bench catalog"
        return BODY, 200, fields

    if cache == "handlers":
        from flask_httpcache import easy_setup

        easy_setup(app)
    elif cache == "middleware":
        app.config["HTTPCACHE_MIDDLEWARE"] = True
        from flask_httpcache import HTTPCache

        HTTPCache(app)
    elif cache == "flask_caching":
        from flask_caching import Cache

        flask_cache = Cache(app, config={"CACHE_TYPE": "SimpleCache"})
        app.view_functions["index"] = flask_cache.cached(timeout=3600)(app.view_functions["index"])
    return app


def make(name: str) -> Any:
    return {
        "bare_flask": lambda: _flask_app(),
        "handler_hit": lambda: _flask_app(cache="handlers"),
        "handler_hit_tagged": lambda: _flask_app(cache="handlers", tagged=True),
        "bare_flask_hook": lambda: _flask_app(hook=True),
        "handler_hit_hook": lambda: _flask_app(cache="handlers", hook=True),
        "middleware_hit": lambda: _flask_app(cache="middleware"),
        "flask_caching_hit": lambda: _flask_app(cache="flask_caching"),
        "slow_uncached": lambda: _flask_app(slow=True),
        "slow_cached": lambda: _flask_app(slow=True, cache="handlers"),
        "slow_cached_middleware": lambda: _flask_app(slow=True, cache="middleware"),
    }[name]()


ROWS = [
    ("raw_wsgi", "raw WSGI function, constant body"),
    ("bare_flask", "bare Flask view, no cache"),
    ("handler_hit", "flask-httpcache handlers, hit (hit lane)"),
    ("handler_hit_tagged", "handlers, hit with 2 surrogate keys"),
    ("bare_flask_hook", "bare Flask view + a before_request hook"),
    ("handler_hit_hook", "that hook + handlers, hit (through Flask)"),
    ("middleware_hit", "flask-httpcache middleware, hit"),
    ("flask_caching_hit", "Flask-Caching 2.5.1 @cached, hit"),
    ("slow_uncached", "10 ms view, no cache"),
    ("slow_cached", "10 ms view, flask-httpcache handlers, hit"),
    ("slow_cached_middleware", "10 ms view, flask-httpcache middleware, hit"),
]


# -- the harness ---------------------------------------------------------------------------------

RATIOS = [
    # label, numerator row, denominator row, goal (0: reported, no goal)
    ("handler hit / bare Flask view", "handler_hit", "bare_flask", 1.0),
    ("middleware hit / raw WSGI constant", "middleware_hit", "raw_wsgi", 0.8),
    ("10 ms view cached (handlers) / uncached", "slow_cached", "slow_uncached", 25.0),
    ("10 ms view cached (middleware) / uncached", "slow_cached_middleware", "slow_uncached", 25.0),
    ("handler hit / Flask-Caching hit", "handler_hit", "flask_caching_hit", 0.0),
    ("tagged handler hit / untagged handler hit", "handler_hit_tagged", "handler_hit", 0.0),
    ("tagged handler hit / bare Flask view", "handler_hit_tagged", "bare_flask", 0.0),
    ("with a hook: handler hit / bare view", "handler_hit_hook", "bare_flask_hook", 0.0),
    ("ceiling: raw WSGI constant / 10 ms view uncached", "raw_wsgi", "slow_uncached", 0.0),
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(port: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"gunicorn did not listen on {port}")


def pinning(args: argparse.Namespace) -> tuple[list[str], list[str]]:
    """``taskset`` prefixes that give gunicorn the first ``--workers`` cores and wrk the rest,
    when there are cores left for wrk (and ``--no-pin`` was not given); else none."""
    cores = os.cpu_count() or 1
    if args.no_pin or shutil.which("taskset") is None or args.workers >= cores:
        return [], []
    server = ["taskset", "-c", f"0-{args.workers - 1}"]
    load = ["taskset", "-c", f"{args.workers}-{cores - 1}"]
    return server, load


def start_server(row: str, args: argparse.Namespace) -> tuple[subprocess.Popen[bytes], str]:
    """gunicorn serving ``row``'s app, listening and warmed up (every worker's cache filled)."""
    port = free_port()
    target = row if row == "raw_wsgi" else f"make('{row}')"
    pin_server, _ = pinning(args)
    argv = [*pin_server, sys.executable, "-m", "gunicorn", "--chdir", str(HERE)]
    argv += ["--workers", str(args.workers), "--worker-class", "gthread", "--threads", "1"]
    argv += ["--keep-alive", "5", "--bind", f"127.0.0.1:{port}", "--log-level", "warning"]
    server = subprocess.Popen(
        [*argv, f"httpcache_bench:{target}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_for(port)
        subprocess.run(["wrk", "-t1", "-c4", "-d1s", url], check=True, capture_output=True)
    except BaseException:
        stop(server)
        raise
    return server, url


def stop(server: subprocess.Popen[bytes]) -> None:
    server.terminate()
    try:
        server.wait(10)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait(5)


def load(row: str, server: subprocess.Popen[bytes], url: str, args: argparse.Namespace) -> float:
    """Requests per second that wrk gets from ``url`` in one run of ``--duration`` seconds;
    RuntimeError when any answer was not a 2xx, a socket failed, or the server died."""
    _, pin_load = pinning(args)
    run = [*pin_load, "wrk", f"-t{args.threads}", f"-c{args.connections}"]
    run += [f"-d{args.duration}s", url]
    output = subprocess.run(run, check=True, capture_output=True, text=True).stdout
    match = re.search(r"Requests/sec:\s+([\d.]+)", output)
    bad = "Non-2xx" in output or "Socket errors" in output or server.poll() is not None
    if not match or bad or float(match.group(1)) <= 0:
        raise RuntimeError(f"wrk failed for {row}:\n{output}")
    return float(match.group(1))


#: fewest rounds for which a ratio gets an interval (and a verdict): with five, the whole range
#: of five values holds the median with only 94% probability
MIN_PAIRS = 6


def median_interval(values: list[float], level: float = 0.95) -> tuple[float, float, float]:
    """The median of ``values`` and a distribution-free confidence interval for it (order
    statistics: the number of values below the true median is Binomial(n, 1/2)). With fewer
    than :data:`MIN_PAIRS` values no interval reaches ``level``; the whole range is given."""
    ordered = sorted(values)
    n = len(ordered)
    tail = (1 - level) / 2
    # the interval from ordered[k] to ordered[n - 1 - k] misses the median with probability
    # 2 P(Binomial(n, 1/2) <= k): the largest k that keeps that within 1 - level
    cut, mass = 0, 0.0
    for k in range((n - 1) // 2 + 1):
        mass += math.comb(n, k) / 2**n
        if mass > tail:
            break
        cut = k
    return statistics.median(ordered), ordered[cut], ordered[n - 1 - cut]


def verdict(low: float, middle: float, goal: float) -> str:
    if not goal:
        return ""
    if low >= goal:
        return f"met (whole interval >= {goal:g})"
    if middle >= goal:
        return f"median >= {goal:g}, interval reaches below"
    return f"MISSED (< {goal:g})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=1, help="seconds of one wrk run")
    parser.add_argument(
        "--workers",
        type=int,
        default=max(1, (os.cpu_count() or 2) - 1),
        help="gunicorn workers (gthread, 1 thread); default: cores - 1, wrk gets the last core",
    )
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=20, help="wrk runs per row")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument(
        "--rows",
        default=",".join(row for row, _ in ROWS),
        help="comma-separated rows to run (default: all)",
    )
    parser.add_argument(
        "--no-pin",
        action="store_true",
        help="do not pin gunicorn and wrk to separate cores with taskset",
    )
    parser.add_argument("--json", help="also write the results to this file (bench/README.md)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("this benchmark needs wrk (apt-get install wrk)")
    labels = dict(ROWS)
    chosen = [row for row in args.rows.split(",") if row]
    unknown = [row for row in chosen if row not in labels]
    if unknown or args.rounds < 1 or args.duration < 1:
        sys.exit(f"unknown rows {unknown}; rows: {', '.join(labels)}" if unknown else "bad sizes")
    os.environ.setdefault("PYTHONHASHSEED", "0")
    print(
        f"gunicorn --workers {args.workers} --worker-class gthread --threads 1 (keep-alive);"
        f" wrk -t{args.threads} -c{args.connections} -d{args.duration}s; loopback;"
        f" {os.cpu_count()} cores; {args.rounds} rounds"
    )
    pin_server, pin_load = pinning(args)
    if pin_server:
        print(f"pinned: gunicorn on cores {pin_server[-1]}, wrk on cores {pin_load[-1]}")
    # Every row's server runs for the whole benchmark (an idle one costs nothing), and the rows
    # take turns, forwards then backwards (ABBA), for --rounds short runs each: the rows of a
    # ratio are measured seconds apart, so the slow changes of a shared machine's speed hit
    # both alike and cancel in the ratio of each round. Each ratio is the median over the
    # rounds with its 95% confidence interval.
    servers: dict[str, tuple[subprocess.Popen[bytes], str]] = {}
    failed: dict[str, str] = {}
    results: dict[str, list[float | None]] = {row: [] for row in chosen}
    try:
        for row in chosen:
            try:
                servers[row] = start_server(row, args)
            except (RuntimeError, subprocess.CalledProcessError) as exc:
                failed[row] = str(exc)
        for index in range(args.rounds):
            order = chosen if index % 2 == 0 else chosen[::-1]
            for row in order:
                if row not in servers:
                    results[row].append(None)
                    continue
                try:
                    results[row].append(load(row, *servers[row], args))
                except (RuntimeError, subprocess.CalledProcessError) as exc:
                    failed[row] = str(exc)
                    results[row].append(None)
    finally:
        for server, _ in servers.values():
            stop(server)
    rate_rows: list[list[str]] = []
    ratio_rows: list[list[str]] = []
    rate_bars: list[dict[str, Any]] = []
    ratio_bars: list[dict[str, Any]] = []
    print()
    print(f"| {'row':<44} | {'requests/s (median)':>19} | {'min':>6} | {'max':>6} |")
    print(f"|{'-' * 46}|{'-' * 20}:|{'-' * 7}:|{'-' * 7}:|")
    for row in chosen:
        done = [value for value in results[row] if value is not None]
        if not done:
            print(f"| {labels[row]:<44} | {'failed':>19} | | |  ({failed.get(row)})")
            continue
        middle = statistics.median(done)
        print(f"| {labels[row]:<44} | {middle:>19.0f} | {min(done):>6.0f} | {max(done):>6.0f} |")
        rate_rows.append([labels[row], f"{middle:.0f}", f"{min(done):.0f}", f"{max(done):.0f}"])
        rate_bars.append(bar(labels[row], middle, min(done), max(done)))
    print()
    print(f"| {'ratio (paired by round)':<50} | median | {'95% interval':<13} | rounds | goal |")
    print(f"|{'-' * 52}|-------:|{'-' * 15}|-------:|------|")
    for label, top, bottom, goal in RATIOS:
        if top not in results or bottom not in results:
            continue
        pairs = [
            a / b
            for a, b in zip(results[top], results[bottom], strict=True)
            if a is not None and b is not None and a > 0 and b > 0
        ]
        if not pairs:
            continue
        middle, low, high = median_interval(pairs)
        if len(pairs) < MIN_PAIRS:
            interval, said = "(too few)", f"{len(pairs)} rounds: no interval, no verdict"
        else:
            interval, said = f"{low:.2f} - {high:.2f}", verdict(low, middle, goal)
        print(f"| {label:<50} | {middle:>6.2f} | {interval:<13} | {len(pairs):>6} | {said} |")
        ratio_rows.append([label, f"{middle:.2f}", interval, str(len(pairs)), said])
        ratio_bars.append(bar(label, middle, *((low, high) if len(pairs) >= MIN_PAIRS else ())))
    if failed:
        print()
        for row, why in failed.items():
            print(f"{row} failed: {why}")
    if args.json:
        settings = {k: getattr(args, k) for k in ("duration", "workers", "connections", "rounds")}
        ratio_columns = ["ratio (paired by round)", "median", "95% interval", "rounds", "goal"]
        tables = [
            table("requests/s", ["row", "requests/s (median)", "min", "max"], rate_rows),
            table("ratios", ratio_columns, ratio_rows),
        ]
        charts = [
            chart("requests/s (median, min-max)", "requests/s", "higher", rate_bars),
            chart("ratios (median, 95% interval)", "ratio", "higher", ratio_bars),
        ]
        write_results(args.json, "httpcache", settings, tables, charts)


if __name__ == "__main__":
    main()
