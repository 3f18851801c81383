"""flask-viewcache against Flask-Caching 2.5.1, side by side in one run.

    python bench/viewcache_bench.py            # or: hatch run bench:viewcache
    python bench/viewcache_bench.py --quick    # fewer rounds, for a smoke run
    python bench/viewcache_bench.py --json bench/results/viewcache.json   # + results for charts.py

Measures, for both libraries in the same process:

1. a memoize hit on the in-process cache (``SimpleCache``);
2. what a cached view hit adds over the same trivial view uncached on a bare Flask app (a
   full WSGI request each);
3. a memoize hit on Redis: its time, and the Redis commands per hit from ``INFO commandstats``
   (on a private redis-server this script starts, so nothing else is counted; or
   ``--redis-url`` to use a running one, whose other clients then count too);
4. the most entries an in-process cache with ``CACHE_THRESHOLD = N`` holds.

Variants are timed in interleaved rounds; a time is the fastest round of its variant, and an
added time (2.) is the median over rounds of the difference with the baseline measured in the
same round. A ratio measured that way holds on a noisy machine, an absolute time does not.
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import flask_caching
from flask import Flask
from results import bar, chart, table, write_results
from werkzeug.test import EnvironBuilder

import flask_viewcache

Variant = tuple[Callable[[], contextlib.AbstractContextManager[Any]], Callable[[], object]]


def interleaved(variants: dict[str, Variant], rounds: int, batch: int) -> dict[str, float]:
    """Seconds per call of each variant: the fastest of ``rounds`` batches, the variants
    taking turns (in a rotating order) so that a slow spell of the machine hits them all."""
    return {name: min(times) for name, times in rounds_of(variants, rounds, batch).items()}


def rounds_of(variants: dict[str, Variant], rounds: int, batch: int) -> dict[str, list[float]]:
    """Seconds per call of each variant in each round (see :func:`interleaved`)."""
    times: dict[str, list[float]] = {name: [] for name in variants}
    names = list(variants)
    for round_number in range(rounds):
        shift = round_number % len(names)
        for name in names[shift:] + names[:shift]:
            context, func = variants[name]
            with context():
                func()  # warm: the first call may miss
                started = time.perf_counter()
                for _ in range(batch):
                    func()
                elapsed = time.perf_counter() - started
            times[name].append(elapsed / batch)
    return times


def added_time(times: dict[str, list[float]], variant: str, baseline: str) -> float:
    """What ``variant`` adds to ``baseline``: the median, over rounds, of the difference of the
    two in the same round (adjacent in time, so a slow spell of the machine cancels out)."""
    return statistics.median(a - b for a, b in zip(times[variant], times[baseline], strict=True))


def make_app(library: Any, config: dict[str, Any]) -> tuple[Flask, Any]:
    app = Flask(f"bench_{library.__name__}")
    cache = library.Cache(app, config={"CACHE_NO_NULL_WARNING": True, **config})
    return app, cache


def add_cached_view(app: Flask, cache: Any) -> None:
    @app.route("/cached")
    @cache.cached(timeout=300)
    def cached() -> str:
        return "hello, world"


def add_memoized(cache: Any) -> Callable[..., Any]:
    @cache.memoize(timeout=300)
    def add(a: int, b: str) -> str:
        return f"{a}{b}"

    return add


def wsgi_call(app: Flask, path: str) -> Callable[[], object]:
    environ = EnvironBuilder(path=path).get_environ()

    def start_response(status: str, headers: Any, exc_info: Any = None) -> None:
        return None

    def call() -> object:
        body = app.wsgi_app(dict(environ), start_response)
        for _chunk in body:
            pass
        close = getattr(body, "close", None)
        if close is not None:
            close()
        return body

    return call


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def private_redis() -> Iterator[str | None]:
    """A redis-server of this run only (so INFO commandstats counts only our commands)."""
    binary = shutil.which("redis-server")
    if binary is None:
        yield None
        return
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("redis-server did not start") from None
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.kill()
        process.wait(5)


def commands_per_call(url: str, func: Callable[[], object], calls: int) -> float:
    """Redis commands per call of ``func`` (not counting INFO, CONFIG, CLIENT and HELLO,
    which this measuring connection sends itself)."""
    import redis

    client = redis.Redis.from_url(url)
    client.config_resetstat()
    for _ in range(calls):
        func()
    stats = client.info("commandstats")
    counted = sum(
        int(value["calls"])
        for name, value in stats.items()
        if name.removeprefix("cmdstat_").split("|")[0] not in ("info", "config", "client", "hello")
    )
    client.close()
    return counted / calls


def threshold_held(library: Any, threshold: int) -> int:
    """The most entries an in-process cache with ``CACHE_THRESHOLD`` held while memoizing
    ten times as many different calls."""
    app, cache = make_app(library, {"CACHE_TYPE": "SimpleCache", "CACHE_THRESHOLD": threshold})
    square = add_memoized(cache)
    held = 0
    with app.app_context():
        backend = cache.cache
        raw = getattr(backend, "backend", backend)
        for n in range(threshold * 10):
            square(n, "x")
            held = max(held, len(getattr(raw, "_data", None) or getattr(raw, "_cache", {})))
    return held


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds (a smoke run)")
    parser.add_argument("--redis-url", help="use this Redis instead of a private redis-server")
    parser.add_argument("--json", help="also write the results to this file (bench/README.md)")
    options = parser.parse_args(argv)
    rounds, batch = (15, 100) if options.quick else (120, 200)
    rows: list[tuple[str, str, str, str, str]] = []
    charts: list[dict[str, Any]] = []
    libraries = ("Flask-Caching 2.5.1", "flask-viewcache")

    # 1. memoize hit, in-process
    fc_app, fc_cache = make_app(flask_caching, {"CACHE_TYPE": "SimpleCache"})
    vc_app, vc_cache = make_app(flask_viewcache, {"CACHE_TYPE": "SimpleCache"})
    fc_add, vc_add = add_memoized(fc_cache), add_memoized(vc_cache)
    add_cached_view(fc_app, fc_cache)
    add_cached_view(vc_app, vc_cache)
    memo = interleaved(
        {
            "fc": (fc_app.app_context, lambda: fc_add(7, "x")),
            "vc": (vc_app.app_context, lambda: vc_add(7, "x")),
            "fc_get": (fc_app.app_context, lambda: fc_cache.get("absent")),
            "vc_get": (vc_app.app_context, lambda: vc_cache.get("absent")),
        },
        rounds,
        batch * 5,
    )
    rows.append(
        (
            "memoize hit, SimpleCache (µs)",
            f"{memo['fc'] * 1e6:.1f}",
            f"{memo['vc'] * 1e6:.1f}",
            f"{memo['fc'] / memo['vc']:.1f}x faster",
            "≥ 10x faster",
        )
    )
    memo_bars = [bar(libraries[0], memo["fc"] * 1e6), bar(libraries[1], memo["vc"] * 1e6)]
    charts.append(chart("memoize hit, SimpleCache", "µs", "lower", memo_bars))
    rows.append(
        (
            "bare cache.get, SimpleCache (µs, reference)",
            f"{memo['fc_get'] * 1e6:.1f}",
            f"{memo['vc_get'] * 1e6:.1f}",
            "",
            "",
        )
    )

    # 2. cached view hit: added time over the same trivial view, uncached, on bare Flask
    bare = Flask("bench_bare")

    @bare.route("/plain")
    def plain() -> str:
        return "hello, world"

    null = contextlib.nullcontext
    view_times = rounds_of(
        {
            "bare": (null, wsgi_call(bare, "/plain")),
            "fc_cached": (null, wsgi_call(fc_app, "/cached")),
            "vc_cached": (null, wsgi_call(vc_app, "/cached")),
        },
        rounds,
        batch,
    )
    views = {name: min(times) for name, times in view_times.items()}
    fc_added = added_time(view_times, "fc_cached", "bare")
    vc_added = added_time(view_times, "vc_cached", "bare")
    rows.append(
        (
            "uncached trivial view, bare Flask (µs, reference)",
            f"{views['bare'] * 1e6:.1f}",
            "",
            "",
            "",
        )
    )
    rows.append(
        (
            "cached view hit: time added over it (µs)",
            f"{fc_added * 1e6:.1f}",
            f"{vc_added * 1e6:.1f}",
            f"{vc_added / fc_added:.2f}" if fc_added > 0 else "n/a",
            "≤ 0.25",
        )
    )
    added = [bar(libraries[0], fc_added * 1e6), bar(libraries[1], vc_added * 1e6)]
    charts.append(chart("cached view hit: time added over a bare view", "µs", "lower", added))

    # 3. memoize hit on Redis
    with contextlib.nullcontext(options.redis_url) if options.redis_url else private_redis() as url:
        if url is None:
            rows.append(("memoize hit, Redis", "skipped: no redis-server", "", "", ""))
        else:
            prefix = f"bench{uuid.uuid4().hex[:8]}_"
            redis_config = {"CACHE_TYPE": "RedisCache", "CACHE_REDIS_URL": url}
            fcr_app, fcr_cache = make_app(
                flask_caching, {**redis_config, "CACHE_KEY_PREFIX": prefix + "fc_"}
            )
            vcr_app, vcr_cache = make_app(
                flask_viewcache, {**redis_config, "CACHE_KEY_PREFIX": prefix + "vc_"}
            )
            fcr_add, vcr_add = add_memoized(fcr_cache), add_memoized(vcr_cache)
            with fcr_app.app_context():
                fcr_add(7, "x")
                fc_commands = commands_per_call(url, lambda: fcr_add(7, "x"), 200)
            with vcr_app.app_context():
                vcr_add(7, "x")
                vc_commands = commands_per_call(url, lambda: vcr_add(7, "x"), 200)
            redis_times = interleaved(
                {
                    "fc": (fcr_app.app_context, lambda: fcr_add(7, "x")),
                    "vc": (vcr_app.app_context, lambda: vcr_add(7, "x")),
                },
                max(10, rounds // 3),
                batch,
            )
            rows.append(
                (
                    "memoize hit, Redis (µs)",
                    f"{redis_times['fc'] * 1e6:.1f}",
                    f"{redis_times['vc'] * 1e6:.1f}",
                    f"{redis_times['vc'] / redis_times['fc']:.2f}",
                    "≤ 0.6",
                )
            )
            redis_bars = [bar(libraries[0], redis_times["fc"] * 1e6)]
            redis_bars.append(bar(libraries[1], redis_times["vc"] * 1e6))
            charts.append(chart("memoize hit, Redis", "µs", "lower", redis_bars))
            rows.append(
                (
                    "Redis commands per memoize hit",
                    f"{fc_commands:g}",
                    f"{vc_commands:g}",
                    "",
                    "exactly 1",
                )
            )
            for app, cache in ((fcr_app, fcr_cache), (vcr_app, vcr_cache)):
                with app.app_context():
                    cache.clear()

    # 4. the threshold of the in-process cache
    threshold = 50
    rows.append(
        (
            f"most entries held, CACHE_THRESHOLD={threshold}",
            str(threshold_held(flask_caching, threshold)),
            str(threshold_held(flask_viewcache, threshold)),
            "",
            f"≤ {threshold}",
        )
    )

    header = ("measure", "Flask-Caching 2.5.1", "flask-viewcache", "ratio", "target")
    print(
        f"Python {sys.version.split()[0]}, {rounds} interleaved rounds of {batch} calls;"
        " times: fastest round; added time: median of same-round differences\n"
    )
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    if options.json:
        settings = {"rounds": rounds, "batch": batch, "quick": options.quick}
        tables = [table("flask-viewcache against Flask-Caching", list(header), [*map(list, rows)])]
        write_results(options.json, "viewcache", settings, tables, charts)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
