"""Faults under load: the demo site (``examples/demo``) under gunicorn, 4 workers x 8 threads,
viewcache on a private Redis and httpcache on two private Memcached servers, driven by wrk for
30 s while the servers fail. Its own defaults: ``CACHE_OPERATION_TIMEOUT`` 0.25 s, breaker
after 5 failures.

The 30 s, from wrk's start: at 2 s one memcached is killed (down until 19 s); at 6 s Redis is
frozen (SIGSTOP: the port accepts, nothing answers); at 12 s it is killed; at 16 s a fresh
Redis starts on its port; at 19 s the memcached comes back.

Asserted: no 5xx and no socket error or timeout at wrk, nor at the pollers; no request longer
than the slowest page's own work plus the operation timeout plus a margin; the workers'
resident memory grows less than 10% from the end of a warm-up to the end; caching is back
within 2 s after each restart (every poll of a cached page a hit for a whole second). The
figures are printed at the end of the run and written to ``.ci/.run/security-faults.json``.
"""

from __future__ import annotations

import http.client
import json
import shutil
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from ..conftest import OwnRedis, require
from .conftest import REPO, OwnMemcached

pytestmark = [pytest.mark.slow]

HERE = Path(__file__).resolve().parent
DEMO = REPO / "examples" / "demo"
RUN_SECONDS = 30
WARM_UP_SECONDS = 5
OPERATION_TIMEOUT = 0.25  # flask-cachecore's default CACHE_OPERATION_TIMEOUT, the demo's
SLOWEST_PAGE = 0.2  # a product page whose memoized price misses: the demo sleeps 0.2 s
MARGIN = 0.75  # a shared 2-core machine: scheduling, wrk and four workers on two cores
RECOVERY_LIMIT = 2.0
STEADY = 1.0  # caching is back when every poll is a hit for this long
RSS_GROWTH_LIMIT = 0.10
#: (seconds after wrk's start, what happens)
TIMELINE = [
    (2.0, "memcached-kill"),
    (6.0, "redis-freeze"),
    (12.0, "redis-kill"),
    (16.0, "redis-restart"),
    (19.0, "memcached-restart"),
]

APP_SOURCE = """
import os
import sys

sys.path.insert(0, {demo!r})
from app import create_app

app = create_app(
    {{
        "CACHE_TYPE": "RedisCache",
        "CACHE_REDIS_URL": os.environ["FAULTS_REDIS_URL"],
        "CACHE_KEY_PREFIX": "demo:",
        "HTTPCACHE_TYPE": "MemcachedCache",
        "HTTPCACHE_MEMCACHED_SERVERS": os.environ["FAULTS_MEMCACHED"],
    }}
)
"""


@dataclass
class Poll:
    at: float  # seconds after wrk's start
    path: str
    status: int  # 0: no answer (a socket error)
    cache_status: str
    seconds: float


@dataclass
class Poller:
    """Asks for cached pages every 50 ms from its own thread, and keeps every answer."""

    port: int
    paths: list[str]
    cache: str  # whose Cache-Status entry tells a hit
    started: float
    polls: list[Poll] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        turn = 0
        while not self.stop.is_set():
            path = self.paths[turn % len(self.paths)]
            turn += 1
            began = time.monotonic()
            status, cache_status = 0, ""
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
            try:
                # no Accept-Encoding, as wrk: the same variant, which wrk's load refills too
                connection.putrequest("GET", path, skip_accept_encoding=True)
                connection.endheaders()
                response = connection.getresponse()
                response.read()
                status, cache_status = response.status, response.headers.get("Cache-Status", "")
            except OSError:
                pass
            finally:
                connection.close()
            ended = time.monotonic()
            self.polls.append(Poll(began - self.started, path, status, cache_status, ended - began))
            self.stop.wait(0.05)

    def hits_by_second(self) -> list[tuple[int, int, int]]:
        """``(second, hits, polls)`` for each second of the run: the timeline in figures."""
        seconds: dict[int, list[int]] = {}
        for poll in self.polls:
            counts = seconds.setdefault(int(poll.at), [0, 0])
            counts[0] += is_hit(poll.cache_status, self.cache)
            counts[1] += 1
        return [(second, hits, total) for second, (hits, total) in sorted(seconds.items())]

    def hit_ratio(self, start: float, end: float) -> float:
        """The share of polls between ``start`` and ``end`` that were hits."""
        window = [p for p in self.polls if start <= p.at < end]
        return sum(is_hit(p.cache_status, self.cache) for p in window) / max(len(window), 1)

    def recovered_after(self, moment: float) -> float | None:
        """Seconds from ``moment`` to the first poll from which every poll was a hit for
        :data:`STEADY` seconds; None if that never happened."""
        after = [p for p in self.polls if p.at >= moment]
        for index, first in enumerate(after):
            if after[-1].at < first.at + STEADY:
                return None  # the run ended before a whole steady second
            streak = [p for p in after[index:] if p.at <= first.at + STEADY]
            if all(is_hit(p.cache_status, self.cache) for p in streak):
                return first.at - moment
        return None


def is_hit(cache_status: str, cache: str) -> bool:
    """Whether the ``Cache-Status`` entry (RFC 9211: one per cache, comma-separated) of
    ``cache`` says ``hit``."""
    for entry in cache_status.split(","):
        name, *params = (part.strip() for part in entry.split(";"))
        if name == cache:
            return "hit" in params
    return False


def wrk(url: str, seconds: float) -> dict[str, Any]:
    binary = shutil.which("wrk")
    require(binary is not None, "the wrk program")
    argv = [str(binary), "-t2", "-c8", f"-d{seconds}s", "--timeout", "10s"]
    argv += ["-s", str(HERE / "faults.lua"), url]
    finished = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60)
    for line in finished.stdout.splitlines():
        if line.startswith("FAULTS-JSON "):
            result: dict[str, Any] = json.loads(line.removeprefix("FAULTS-JSON "))
            return result
    pytest.fail(f"wrk printed no figures:\n{finished.stdout}\n{finished.stderr}")


def worker_pids(master: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # the fields after the command (which may hold spaces) start after its closing paren
        if int(stat.rsplit(")", 1)[1].split()[1]) == master:
            pids.append(int(entry.name))
    return sorted(pids)


def resident_kib(pid: int) -> int:
    for line in (Path("/proc") / str(pid) / "status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError(f"no VmRSS for {pid}")


def wait_for_workers(server: Any, port: int, workers: int) -> list[int]:
    deadline = time.monotonic() + 60
    while True:
        pids = worker_pids(server.process.pid)
        if len(pids) == workers:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                connection.request("GET", "/")
                if connection.getresponse().status == 200:
                    return pids
            except OSError:
                pass
            finally:
                connection.close()
        if server.process.poll() is not None or time.monotonic() > deadline:
            server.fail(f"gunicorn did not start {workers} workers")
        time.sleep(0.1)


def inject(
    timeline: list[tuple[float, str]],
    actions: dict[str, Callable[[], None]],
    started: float,
    done: list[tuple[str, float]],
) -> None:
    """Runs each action of the timeline at its time; notes when each really happened (an
    action that raised is noted with its error instead, and ends the timeline)."""
    for at, name in timeline:
        delay = started + at - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        try:
            actions[name]()
        except BaseException as exc:  # pytest.fail() included: reported by the test
            done.append((f"{name} failed: {exc!r}", time.monotonic() - started))
            return
        done.append((name, time.monotonic() - started))


def test_demo_under_load_survives_redis_hung_killed_restarted_and_one_memcached_down(
    gunicorn: Callable[..., Any],
    own_redis: OwnRedis,
    two_memcached: tuple[OwnMemcached, OwnMemcached],
    report: Callable[..., None],
) -> None:
    kept, lost = two_memcached
    env = {
        "FAULTS_REDIS_URL": own_redis.url,
        "FAULTS_MEMCACHED": f"{kept.address},{lost.address}",
    }
    server = gunicorn(APP_SOURCE.format(demo=str(DEMO)), workers=4, threads=8, env=env)
    port = int(server.url.rsplit(":", 1)[1])
    pids = wait_for_workers(server, port, 4)

    warm = wrk(server.url, WARM_UP_SECONDS)
    memory_before = {pid: resident_kib(pid) for pid in pids}

    started = time.monotonic()
    pollers = [
        Poller(port, ["/products/1", "/products/2"], "flask-viewcache", started),
        Poller(port, [f"/news?page={n}" for n in range(1, 11)], "flask-httpcache", started),
    ]
    threads = [threading.Thread(target=p.run, daemon=True) for p in pollers]
    for thread in threads:
        thread.start()
    happened: list[tuple[str, float]] = []
    actions = {
        "memcached-kill": lost.kill,
        "redis-freeze": own_redis.freeze,
        "redis-kill": own_redis.kill,
        "redis-restart": own_redis.restart,
        "memcached-restart": lost.start,
    }
    injector = threading.Thread(target=inject, args=(TIMELINE, actions, started, happened))
    injector.start()
    load = wrk(server.url, RUN_SECONDS)
    injector.join(30)
    for poller in pollers:
        poller.stop.set()
    for thread in threads:
        thread.join(15)

    pids_after = worker_pids(server.process.pid)
    memory_after = {pid: resident_kib(pid) for pid in pids_after if pid in memory_before}
    growth = {pid: memory_after[pid] / memory_before[pid] - 1 for pid in memory_after}
    moments = dict(happened)
    assert [name for name, _ in happened] == [name for _, name in TIMELINE], happened
    redis_back = pollers[0].recovered_after(moments["redis-restart"])
    memcached_back = pollers[1].recovered_after(moments["memcached-restart"])
    one_memcached = pollers[1].hit_ratio(moments["memcached-kill"], moments["memcached-restart"])
    polls = [p for poller in pollers for p in poller.polls]
    poll_failures = [p for p in polls if p.status == 0 or p.status >= 500]
    slowest_poll = max(p.seconds for p in polls)
    bound = SLOWEST_PAGE + OPERATION_TIMEOUT + MARGIN
    max_latency = load["max_latency_us"] / 1e6

    def seconds(value: float | None) -> str:
        return "never" if value is None else f"{value:.2f} s"

    line = (
        f"{load['requests']} requests in {RUN_SECONDS} s (warm-up {warm['requests']} in"
        f" {WARM_UP_SECONDS} s), statuses {load['statuses']}, 5xx {load['errors_5xx']},"
        f" socket errors {load['socket_errors']}; max latency {max_latency:.3f} s (p99"
        f" {load['p99_latency_us'] / 1e6:.3f} s, warm-up max {warm['max_latency_us'] / 1e6:.3f}"
        f" s, slowest poll {slowest_poll:.3f} s, bound {bound:.2f} s); worker RSS growth"
        f" {max(growth.values()):+.1%} at most; caching back after the Redis restart in"
        f" {seconds(redis_back)}, after the memcached restart in {seconds(memcached_back)};"
        f" httpcache hits while one memcached was down {one_memcached:.0%}"
    )
    report(
        "faults",
        {
            "line": line,
            "load": load,
            "warm_up": warm,
            "timeline": happened,
            "rss_kib_before": memory_before,
            "rss_kib_after": memory_after,
            "redis_recovery_s": redis_back,
            "memcached_recovery_s": memcached_back,
            "httpcache_hit_ratio_one_memcached_down": one_memcached,
            "poll_failures": len(poll_failures),
            "slowest_poll_s": slowest_poll,
            "latency_bound_s": bound,
            "hits_by_second": {p.cache: p.hits_by_second() for p in pollers},
        },
    )
    assert load["errors_5xx"] == 0, line
    assert not any(load["socket_errors"].values()), line
    assert not poll_failures, f"{line}\n{poll_failures[:5]}"
    assert pids_after == pids, f"workers died or were replaced: {pids} -> {pids_after}"
    assert max_latency <= bound, line
    assert slowest_poll <= bound, line
    assert max(growth.values()) < RSS_GROWTH_LIMIT, f"{line}\n{memory_before} -> {memory_after}"
    assert redis_back is not None, line
    assert redis_back <= RECOVERY_LIMIT, line
    assert memcached_back is not None, line
    assert memcached_back <= RECOVERY_LIMIT, line
