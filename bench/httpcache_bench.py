"""Benchmark of flask-httpcache against its anchors, all served by gunicorn, loaded by wrk.

Run from the repository root (one command, about two minutes):

    python bench/httpcache_bench.py [--duration 3] [--rounds 3] [--workers N] [--threads 1]

Every row runs under gunicorn with the same settings (gthread workers of one thread,
keep-alive), on loopback, measured by ``wrk`` in the same run; the ratios at the end compare
rows of this one run, which holds on a noisy machine where absolute numbers do not.

The load generator must not compete with the server for cores, or it measures the machine's
scheduler: by default gunicorn gets one worker per core but one (``--workers`` = cores - 1, at
least 1) and wrk one thread (``--threads 1``), and where ``taskset`` exists each is pinned to
its own cores (``--no-pin`` to leave that to the scheduler); on 2 cores each has one. The apps
are defined in this file (gunicorn imports it as ``httpcache_bench:<app>``).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
BODY = b"hello, world\n"
SLOW_SECONDS = 0.010


# -- the apps ------------------------------------------------------------------------------------


def raw_wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """The ceiling for any Python app on this server: a constant."""
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(BODY)))])
    return [BODY]


def _flask_app(slow: bool = False, cache: str = "none") -> Any:
    from flask import Flask

    app = Flask("httpcache_bench")

    @app.route("/")
    def index() -> Any:
        if slow:
            time.sleep(SLOW_SECONDS)
        return BODY, 200, {"Content-Type": "text/plain", "Cache-Control": "max-age=3600"}

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
        "middleware_hit": lambda: _flask_app(cache="middleware"),
        "flask_caching_hit": lambda: _flask_app(cache="flask_caching"),
        "slow_uncached": lambda: _flask_app(slow=True),
        "slow_cached": lambda: _flask_app(slow=True, cache="handlers"),
        "slow_cached_middleware": lambda: _flask_app(slow=True, cache="middleware"),
    }[name]()


ROWS = [
    ("raw_wsgi", "raw WSGI function, constant body"),
    ("bare_flask", "bare Flask view, no cache"),
    ("handler_hit", "flask-httpcache handlers, hit"),
    ("middleware_hit", "flask-httpcache middleware, hit"),
    ("flask_caching_hit", "Flask-Caching 2.5.1 @cached, hit"),
    ("slow_uncached", "10 ms view, no cache"),
    ("slow_cached", "10 ms view, flask-httpcache handlers, hit"),
    ("slow_cached_middleware", "10 ms view, flask-httpcache middleware, hit"),
]


# -- the harness ---------------------------------------------------------------------------------


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


def measure(row: str, args: argparse.Namespace) -> float:
    port = free_port()
    target = row if row == "raw_wsgi" else f"make('{row}')"
    pin_server, pin_load = pinning(args)
    server = subprocess.Popen(
        [
            *pin_server,
            sys.executable,
            "-m",
            "gunicorn",
            "--chdir",
            str(HERE),
            "--workers",
            str(args.workers),
            "--worker-class",
            "gthread",
            "--threads",
            "1",
            "--keep-alive",
            "5",
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            f"httpcache_bench:{target}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(port)
        url = f"http://127.0.0.1:{port}/"
        warm = ["wrk", "-t1", "-c4", "-d1s", url]  # fills the cache of every worker
        subprocess.run(warm, check=True, capture_output=True)
        run = [
            *pin_load,
            "wrk",
            f"-t{args.threads}",
            f"-c{args.connections}",
            f"-d{args.duration}s",
            url,
        ]
        output = subprocess.run(run, check=True, capture_output=True, text=True).stdout
        match = re.search(r"Requests/sec:\s+([\d.]+)", output)
        if not match or "Non-2xx" in output:
            raise RuntimeError(f"wrk failed for {row}:\n{output}")
        return float(match.group(1))
    finally:
        server.terminate()
        server.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=3, help="seconds per row and round")
    parser.add_argument(
        "--workers",
        type=int,
        default=max(1, (os.cpu_count() or 2) - 1),
        help="gunicorn workers (gthread, 1 thread); default: cores - 1, wrk gets the last core",
    )
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3, help="rounds; each row keeps its best")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument(
        "--no-pin",
        action="store_true",
        help="do not pin gunicorn and wrk to separate cores with taskset",
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("this benchmark needs wrk (apt-get install wrk)")
    os.environ.setdefault("PYTHONHASHSEED", "0")
    rps: dict[str, float] = {}
    print(
        f"gunicorn --workers {args.workers} --worker-class gthread --threads 1 (keep-alive);"
        f" wrk -t{args.threads} -c{args.connections} -d{args.duration}s; loopback;"
        f" {os.cpu_count()} cores; best of {args.rounds} rounds"
    )
    pin_server, pin_load = pinning(args)
    if pin_server:
        print(f"pinned: gunicorn on cores {pin_server[-1]}, wrk on cores {pin_load[-1]}")
    print(f"| {'row':<44} | {'requests/s':>10} |")
    print(f"|{'-' * 46}|{'-' * 12}:|")
    # Rows are interleaved over several rounds and each keeps its best round: on a shared
    # machine, other load only ever lowers a number, so the best round is the least disturbed.
    failed: dict[str, str] = {}
    for _ in range(args.rounds):
        for row, _label in ROWS:
            try:
                rps[row] = max(rps.get(row, 0.0), measure(row, args))
            except (RuntimeError, subprocess.CalledProcessError, ModuleNotFoundError) as exc:
                failed[row] = str(exc)
    for row, label in ROWS:
        if row in rps:
            print(f"| {label:<44} | {rps[row]:>10.0f} |")
        else:
            print(f"| {label:<44} | {'failed':>10} |  ({failed.get(row)})")
    print()
    print("| ratio (same run)                                   | measured | goal   |")
    print("|----------------------------------------------------|---------:|--------|")
    ratios = [
        ("handler hit / bare Flask view", "handler_hit", "bare_flask", 1.0),
        ("middleware hit / raw WSGI constant", "middleware_hit", "raw_wsgi", 0.8),
        ("10 ms view cached (handlers) / uncached", "slow_cached", "slow_uncached", 25.0),
        (
            "10 ms view cached (middleware) / uncached",
            "slow_cached_middleware",
            "slow_uncached",
            25.0,
        ),
        ("handler hit / Flask-Caching hit", "handler_hit", "flask_caching_hit", 0.0),
    ]
    for label, top, bottom, goal in ratios:
        if top in rps and bottom in rps:
            value = rps[top] / rps[bottom]
            verdict = (
                "" if not goal else (f">= {goal:g} ok" if value >= goal else f">= {goal:g} MISSED")
            )
            print(f"| {label:<50} | {value:>8.2f} | {verdict:<6} |")


if __name__ == "__main__":
    main()
