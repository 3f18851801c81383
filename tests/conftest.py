"""Fixtures for the real servers the tests use.

Start them with ``bash .ci/servers.sh start`` (ports below). A test that needs a server that is
not reachable is skipped with the reason; under ``CI=true`` it fails instead, so CI never passes
by skipping.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REDIS_URL = os.environ.get("CACHECORE_TEST_REDIS_URL", "redis://127.0.0.1:6390/0")
REDIS_CLUSTER = os.environ.get(
    "CACHECORE_TEST_REDIS_CLUSTER", "127.0.0.1:7100,127.0.0.1:7101,127.0.0.1:7102"
)
REDIS_SENTINEL = os.environ.get("CACHECORE_TEST_REDIS_SENTINEL", "127.0.0.1:26390")
MEMCACHED = os.environ.get("CACHECORE_TEST_MEMCACHED", "127.0.0.1:11311,127.0.0.1:11312")
IN_CI = os.environ.get("CI", "").lower() == "true"


def require(available: bool, what: str) -> None:
    """Skip (locally) or fail (under CI=true) when ``what`` is missing."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"{what} is missing, and CI=true requires it (see .ci/servers.sh)")
    pytest.skip(f"{what} is missing; start it with `bash .ci/servers.sh start`")


def reachable(host_port: str) -> bool:
    host, _, port = host_port.rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=0.5):
            return True
    except OSError:
        return False


def _redis_host_port(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port or 6379}"


@pytest.fixture
def unique_prefix() -> str:
    """A key prefix of this test alone, so tests sharing a server never see each other's keys."""
    return f"t{uuid.uuid4().hex[:12]}:"


@pytest.fixture
def redis_url() -> str:
    pytest.importorskip("redis")
    require(reachable(_redis_host_port(REDIS_URL)), f"Redis at {REDIS_URL}")
    return REDIS_URL


@pytest.fixture
def redis_sentinel() -> str:
    """``host:port`` of a Sentinel that monitors the test Redis as master ``cachecore``."""
    pytest.importorskip("redis")
    require(reachable(REDIS_SENTINEL), f"Redis Sentinel at {REDIS_SENTINEL}")
    return REDIS_SENTINEL


@pytest.fixture
def redis_cluster_nodes() -> str:
    pytest.importorskip("redis")
    nodes = REDIS_CLUSTER.split(",")
    require(all(reachable(n) for n in nodes), f"Redis Cluster at {REDIS_CLUSTER}")
    return REDIS_CLUSTER


@pytest.fixture
def memcached_servers() -> list[str]:
    pytest.importorskip("pymemcache")
    servers = MEMCACHED.split(",")
    require(all(reachable(s) for s in servers), f"Memcached at {MEMCACHED}")
    return servers


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_listening(process: subprocess.Popen[bytes], port: int, name: str) -> None:
    """Wait up to 10 s for ``process`` to accept connections on ``port``; fail the test if not."""
    deadline = time.monotonic() + 10
    while not reachable(f"127.0.0.1:{port}"):
        if time.monotonic() > deadline or process.poll() is not None:
            process.kill()
            pytest.fail(f"{name} did not start on port {port}")
        time.sleep(0.05)


@dataclass
class OwnRedis:
    """A redis-server of one test's own, which the test may stop, freeze or kill."""

    port: int
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(5)

    def freeze(self) -> None:
        """SIGSTOP: the port still accepts connections, nothing answers (a hung server)."""
        self.process.send_signal(19)

    def thaw(self) -> None:
        self.process.send_signal(18)

    def restart(self) -> None:
        """Start a fresh, empty redis-server on the same port (after ``kill``)."""
        self.process = start_own_redis(self.port).process


def start_own_redis(port: int | None = None, *options: str) -> OwnRedis:
    """A redis-server of the test's own on ``port`` (a free one by default), with ``options``
    added to its command line (``"--cluster-enabled", "yes"`` ...)."""
    binary = shutil.which("redis-server")
    require(binary is not None, "the redis-server program")
    port = port or free_port()
    process = subprocess.Popen(
        [
            str(binary),
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            *options,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_until_listening(process, port, "redis-server")
    return OwnRedis(port, process)


@pytest.fixture
def own_redis() -> Iterator[OwnRedis]:
    """A private redis-server on a free port; stopped at the end of the test whatever happened."""
    pytest.importorskip("redis")
    server = start_own_redis()
    try:
        yield server
    finally:
        if server.process.poll() is None:
            server.thaw()
            server.kill()


def start_own_memcached(port: int) -> subprocess.Popen[bytes]:
    """A private memcached listening on ``port`` (a fresh, empty one after a kill)."""
    binary = shutil.which("memcached")
    require(binary is not None, "the memcached program")
    argv = [str(binary), "-l", "127.0.0.1", "-p", str(port), "-U", "0"]
    if os.geteuid() == 0:
        argv += ["-u", "root"]  # memcached refuses to run as root unless told whom to run as
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_until_listening(process, port, "memcached")
    return process


@pytest.fixture
def own_memcached() -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A private memcached on a free port: ``("127.0.0.1:PORT", process)``; the test may kill it."""
    pytest.importorskip("pymemcache")
    port = free_port()
    process = start_own_memcached(port)
    try:
        yield f"127.0.0.1:{port}", process
    finally:
        process.kill()
        process.wait(5)


@dataclass
class Gunicorn:
    """A gunicorn serving one test's app."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def fail(self, why: str) -> None:
        pytest.fail(f"{why}; gunicorn's log:\n{self.log.read_text(errors='replace')}")


@pytest.fixture
def gunicorn(tmp_path: Path) -> Iterator[Callable[..., Gunicorn]]:
    """A starter of real gunicorn servers (gthread workers) for the ``app`` defined by some
    Python source: ``gunicorn(source, workers=1, threads=1, env={...})``. Every server started
    is stopped at the end of the test."""
    pytest.importorskip("gunicorn")
    started: list[subprocess.Popen[bytes]] = []

    def start(
        source: str, workers: int = 1, threads: int = 1, env: dict[str, str] | None = None
    ) -> Gunicorn:
        directory = tmp_path / f"gunicorn{len(started)}"
        directory.mkdir()
        (directory / "served_app.py").write_text(textwrap.dedent(source))
        log = directory / "gunicorn.log"
        port = free_port()
        argv = [sys.executable, "-m", "gunicorn", "--chdir", str(directory)]
        argv += ["--workers", str(workers), "--worker-class", "gthread", "--threads", str(threads)]
        argv += ["--bind", f"127.0.0.1:{port}", "--timeout", "30", "--graceful-timeout", "2"]
        argv += ["--log-level", "warning", "--error-logfile", str(log), "served_app:app"]
        process = subprocess.Popen(
            argv,
            env={**os.environ, **(env or {})},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        started.append(process)
        wait_until_listening(process, port, "gunicorn")
        return Gunicorn(f"http://127.0.0.1:{port}", process, log)

    try:
        yield start
    finally:
        for process in started:
            process.terminate()
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)


REPO = Path(__file__).resolve().parent.parent
