"""The leak matrix: users with different sessions, Authorization headers and cookies ask for the
same URLs through flask-viewcache and flask-httpcache, in every configuration the READMEs show,
under a real gunicorn with threads. Each answer must carry its own user's marker only.

Users: seven named ones and one anonymous client. Each scenario (a route of
``tests/security/leak_app.py``) is played three times: once in order (alice, then anonymous,
then bob ...) and twice more as a concurrent round, all eight released by a barrier and held in
the view until all eight have reached the app (so the waiters of a stampede lock really wait on
the holder's computation); after each round everyone asks again, in order.

What counts as a leak of the library (must be 0) and what is the app's own bug (counted,
printed, never 0 for the canaries):

- **library**: whatever the documentation promises to keep apart. A view that reads the
  session, in the view or in a ``before_request`` hook; a response that sets a cookie, in any
  way Flask allows (``set_cookie``, a tuple's headers, ``after_this_request``, a session write);
  a stored 304 or 206 served to a plain request (answers to a precondition or a Range are never
  whole pages); httpcache's Authorization rule (RFC 9111 §3.5: a request with credentials always
  reaches the view, its response is not shared unless ``public``); a ``Vary`` that httpcache
  must honour; a key that holds the user (viewcache ``key_prefix``, memoize arguments).
- **app**: a page that depends on something its cache cannot see. A header or cookie read
  without ``Vary`` (RFC 9111 §4.1: the cache keys on the URL and the fields ``Vary`` names),
  Authorization with ``public`` (the app said it may be shared), and under viewcache anything
  outside its key (path, method, host, query): viewcache has no notion of ``Vary``, like
  Flask-Caching, and memoize keys only by arguments.

A leak is a marker (``[user=X]`` in the body, ``token-of-X`` in a cookie, a user in a session
cookie) of someone other than the client, or, for the conditional pages, a 304 / 206 / partial
body given to a request that did not ask for it. Figures: printed at the end of the run and in
``.ci/.run/security-leak-matrix.json``.
"""

from __future__ import annotations

import dataclasses
import http.client
import json
import re
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.sessions import SecureCookieSessionInterface

from .leak_app import BODY, CONFIGS, LANE_CONFIGS, SECRET

pytestmark = [pytest.mark.slow, pytest.mark.redis]

LIBRARY, APP = "library", "app"
NAMES = ["alice", "bob", "carol", "dave", "erin", "frank", "grace"]
#: what each named user sends in the case scenario: one secret in seven spellings
CASES = [
    "SecretAlice",
    "SECRETALICE",
    "secretalice",
    "sECRETaLICE",
    "Secretalice",
    "SecRetAlice",
    "SECRETalice",
]
#: scenario -> (what identifies the user, class under viewcache, class under httpcache);
#: None: the engine has no such route
SCENARIOS: dict[str, tuple[str, str | None, str | None]] = {
    "session-view": ("session", LIBRARY, LIBRARY),
    "session-hook": ("session", LIBRARY, LIBRARY),
    "session-write": ("header", LIBRARY, LIBRARY),
    "cookie-set": ("header", LIBRARY, LIBRARY),
    "cookie-tuple": ("header", LIBRARY, LIBRARY),
    "cookie-tuple-resp": ("header", LIBRARY, LIBRARY),
    "cookie-tuple-headers": ("header", LIBRARY, LIBRARY),
    "cookie-after": ("header", LIBRARY, LIBRARY),
    "cookie-public": ("header", None, LIBRARY),  # Set-Cookie is never stored by default
    "auth": ("auth", APP, LIBRARY),
    "auth-keyed": ("auth", LIBRARY, None),
    "auth-public": ("auth", None, APP),
    "header-vary": ("header", APP, LIBRARY),
    "scheme": ("scheme", LIBRARY, LIBRARY),  # http and https clients, through ProxyFix
    "header-novary": ("header", APP, APP),
    "header-vary-case": ("case", APP, LIBRARY),  # values that differ only in case
    "cookie-read": ("cookie", APP, APP),
    "cookie-read-vary": ("cookie", None, LIBRARY),
    "memo-arg": ("header", LIBRARY, None),
    "memo-reads": ("header", APP, None),
    "etag": ("conditional", LIBRARY, LIBRARY),
    "range": ("conditional", LIBRARY, LIBRARY),
}
#: app-caused leaks that playing in order always produces: proof that the detector sees leaks
CANARY = "header-novary"
CONCURRENT_ROUNDS = 2
MARKER = re.compile(rb"\[user=(\w+)\]")
TOKEN = re.compile(r"token=token-of-(\w+)")
HIT = re.compile(r";\s*hit\s*(;|,|$)")


@dataclass(frozen=True)
class User:
    name: str | None  # None: the anonymous client
    session_cookie: str | None = None
    spelling: str | None = None  # of the case scenario's secret
    scheme: str = "http"  # what the proxy in front says (X-Forwarded-Proto)

    def marker(self, source: str) -> str:
        """The name this user's pages must carry in a scenario that reads ``source``."""
        if source == "case" and self.spelling:
            return self.spelling
        if source == "scheme":
            return self.scheme
        return self.name or "anon"

    def credentials(self, source: str) -> dict[str, str]:
        """The request fields that say who this is, for a scenario that reads ``source``."""
        if source == "scheme":
            return {"X-Forwarded-Proto": self.scheme}
        if self.name is None or source == "conditional":
            return {}
        return {
            "session": {"Cookie": f"session={self.session_cookie}"},
            "header": {"X-User": self.name},
            "case": {"X-User": self.spelling or ""},
            "auth": {"Authorization": f"Bearer tok-{self.name}"},
            "cookie": {"Cookie": f"who={self.name}"},
        }[source]


@dataclass
class Answer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k.lower() == name.lower()]


def fetch(port: int, path: str, headers: dict[str, str]) -> Answer:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        return Answer(response.status, response.getheaders(), response.read())
    finally:
        connection.close()


_sessions = SecureCookieSessionInterface()
_decoder = Flask("leak-matrix-decoder")
_decoder.secret_key = SECRET


def markers_in(answer: Answer) -> tuple[list[str], list[str]]:
    """The users an answer names: in its body, and in its cookies (tokens, session values)."""
    in_body = [m.decode() for m in MARKER.findall(answer.body)]
    in_cookies: list[str] = []
    serializer = _sessions.get_signing_serializer(_decoder)
    assert serializer is not None
    for cookie in answer.header("Set-Cookie"):
        in_cookies += TOKEN.findall(cookie)
        if cookie.startswith("session="):
            value = cookie.split(";", 1)[0].removeprefix("session=")
            if value:
                content = serializer.loads(value)
                in_cookies += [str(content[k]) for k in ("user", "last") if k in content]
    return in_body, in_cookies


@dataclass
class Outcome:
    scenario: str
    phase: str
    user: str
    kind: str
    verdict: str  # ok, leak (a foreign marker or a wrong conditional answer), broken, 5xx
    detail: str = ""


def judge(scenario: str, user: User, kind: str, answer: Answer) -> Outcome:
    source = SCENARIOS[scenario][0]
    expected = user.marker(source)

    def outcome(verdict: str) -> Outcome:
        cookies = answer.header("Set-Cookie")
        detail = f"status {answer.status}, body {answer.body[:80]!r}, cookies {cookies}"
        return Outcome(scenario, "", expected, kind, verdict, detail)

    if answer.status >= 500:
        return outcome("5xx")
    if source == "conditional":
        whole = answer.status == 200 and answer.body == BODY.encode()
        if kind.startswith("inm"):
            fine = whole or (answer.status == 304 and answer.body == b"")
        elif kind == "range":
            fine = whole or (answer.status == 206 and answer.body == BODY[:10].encode())
        else:
            fine = whole
        return outcome("ok" if fine else "leak")
    in_body, in_cookies = markers_in(answer)
    if answer.status != 200 or not in_body:
        return outcome("broken")
    foreign = [m for m in in_body + in_cookies if m != expected]
    return outcome("leak" if foreign else "ok")


def conditional_fields(kind: str) -> dict[str, str]:
    return {
        "inm": {"If-None-Match": '"v1"'},
        "inm-star": {"If-None-Match": "*"},
        "range": {"Range": "bytes=0-9"},
    }.get(kind, {})


def kind_of(scenario: str, index: int, first_pass: bool) -> str:
    """alice asks with If-None-Match (``*`` first, then the ETag), bob (on the first pass)
    with Range, the rest plainly."""
    if SCENARIOS[scenario][0] != "conditional":
        return "plain"
    if index == 0:
        return "inm-star" if first_pass else "inm"
    return "range" if index == 1 and first_pass else "plain"


@dataclass
class Player:
    """Plays the scenarios against one server and keeps every outcome."""

    port: int
    users: list[User]
    outcomes: list[Outcome] = field(default_factory=list)
    requests: int = 0
    hits: int = 0
    _guard: threading.Lock = field(default_factory=threading.Lock)

    def ask(self, scenario: str, phase: str, path: str, index: int, first_pass: bool) -> None:
        user = self.users[index]
        kind = kind_of(scenario, index, first_pass)
        headers = {**user.credentials(SCENARIOS[scenario][0]), **conditional_fields(kind)}
        answer = fetch(self.port, path, headers)
        result = judge(scenario, user, kind, answer)
        result.phase = phase
        with self._guard:
            self.requests += 1
            self.hits += any(HIT.search(v) for v in answer.header("Cache-Status"))
            self.outcomes.append(result)

    def in_order(self, scenario: str, phase: str, path: str, first_pass: bool) -> None:
        for index in range(len(self.users)):
            self.ask(scenario, phase, path, index, first_pass)

    def all_at_once(self, scenario: str, phase: str, path: str) -> None:
        barrier = threading.Barrier(len(self.users))
        failures: list[BaseException] = []

        def one(index: int) -> None:
            try:
                barrier.wait(30)
                self.ask(scenario, phase, path, index, True)
            except BaseException as exc:  # reported below, in the test's thread
                failures.append(exc)

        threads = [threading.Thread(target=one, args=(i,)) for i in range(len(self.users))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        if failures:
            raise failures[0]

    def play(self, scenario: str) -> None:
        path = f"/s/{scenario}/seq"
        self.in_order(scenario, "in-order", path, True)
        self.in_order(scenario, "in-order", path, False)
        for round_number in range(CONCURRENT_ROUNDS):
            gate = uuid.uuid4().hex[:8]
            path = f"/s/{scenario}/c{round_number}?gate={gate}&n={len(self.users)}"
            self.all_at_once(scenario, "concurrent", path)
            self.in_order(scenario, "after-concurrent", path, False)


def served_scenarios(config: str) -> list[str]:
    column = 1 if config.startswith("vc-") else 2
    names = [name for name, row in SCENARIOS.items() if row[column] is not None]
    if config in LANE_CONFIGS:  # its blueprint's hook would close the lane
        names.remove("session-hook")
    return names


def classify(config: str, scenario: str) -> str:
    value = SCENARIOS[scenario][1 if config.startswith("vc-") else 2]
    assert value is not None
    return value


APP_SOURCE = """
import sys

sys.path.insert(0, {directory!r})
from leak_app import create_app

app = create_app()
"""


@pytest.fixture
def served(
    gunicorn: Callable[..., Any], redis_url: str, unique_prefix: str
) -> Iterator[Callable[[str], tuple[Any, int]]]:
    """Starts the leak app in one configuration: ``(server, workers)``."""
    import redis

    def start(config: str) -> tuple[Any, int]:
        workers = 2 if config.endswith("-redis") else 1  # in-process caches: one process
        env = {"LEAK_CONFIG": config, "LEAK_REDIS_URL": redis_url, "LEAK_PREFIX": unique_prefix}
        source = APP_SOURCE.format(directory=str(Path(__file__).resolve().parent))
        return gunicorn(source, workers=workers, threads=8, env=env), workers

    yield start
    client = redis.Redis.from_url(redis_url)
    for key in client.scan_iter(match=unique_prefix + "*"):
        client.delete(key)
    client.close()


def wait_for_workers(server: Any, port: int, workers: int) -> dict[str, Any]:
    """The probe's answer, once ``workers`` distinct processes have answered it."""
    pids: set[int] = set()
    deadline = time.monotonic() + 60
    probe: dict[str, Any] = {}
    while len(pids) < workers:
        if server.process.poll() is not None or time.monotonic() > deadline:
            server.fail(f"gunicorn did not start {workers} workers")
        try:
            answer = fetch(port, "/__probe", {})
        except OSError:
            time.sleep(0.1)
            continue
        probe = json.loads(answer.body)
        pids.add(probe["pid"])
    return probe


def log_in(port: int) -> list[User]:
    users = []
    for name in NAMES:
        answer = fetch(port, f"/login/{name}", {})
        cookie = next(c for c in answer.header("Set-Cookie") if c.startswith("session="))
        session_cookie = cookie.split(";", 1)[0].removeprefix("session=")
        users.append(User(name, session_cookie, CASES[len(users)]))
    users.insert(1, User(None))  # alice, anonymous, bob, ...
    # half of them (alice first) through https
    return [
        dataclasses.replace(u, scheme="https" if i % 2 == 0 else "http")
        for i, u in enumerate(users)
    ]


def summarize(config: str, player: Player, seconds: float, workers: int) -> dict[str, Any]:
    library: Counter[str] = Counter()
    app: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    for result in player.outcomes:
        if result.verdict == "leak":
            (library if classify(config, result.scenario) == LIBRARY else app)[result.scenario] += 1
        elif result.verdict != "ok":
            errors[f"{result.scenario}:{result.verdict}"] += 1
    scenarios = served_scenarios(config)
    line = (
        f"{config:24} {player.requests:5} requests, {len(scenarios):2} scenarios,"
        f" {workers}x8 threads, {player.hits:4} hits, library leaks {sum(library.values())},"
        f" app-caused leaks {sum(app.values())}, errors {sum(errors.values())}, {seconds:.1f} s"
    )
    return {
        "line": line,
        "config": config,
        "description": CONFIGS[config],
        "workers": workers,
        "threads": 8,
        "requests": player.requests,
        "hits": player.hits,
        "scenarios": scenarios,
        "library_leaks": dict(library),
        "app_leaks": dict(app),
        "errors": dict(errors),
        "seconds": round(seconds, 1),
        "totals": {
            "requests": player.requests,
            "hits": player.hits,
            "library leaks": sum(library.values()),
            "app-caused leaks": sum(app.values()),
            "errors": sum(errors.values()),
        },
    }


def examples(player: Player, config: str, wanted: Callable[[Outcome], bool]) -> str:
    chosen = [o for o in player.outcomes if wanted(o)][:8]
    return "\n".join(
        f"  {o.scenario} ({classify(config, o.scenario)}), {o.phase}, user {o.user}, {o.kind}:"
        f" {o.verdict}: {o.detail}"
        for o in chosen
    )


@pytest.mark.parametrize("config", list(CONFIGS))
def test_no_user_gets_another_users_answer(
    config: str, served: Callable[[str], tuple[Any, int]], report: Callable[..., None]
) -> None:
    server, workers = served(config)
    port = int(server.url.rsplit(":", 1)[1])
    started = time.monotonic()
    probe = wait_for_workers(server, port, workers)
    assert probe["lane"] == (config in LANE_CONFIGS), f"hit lane of {config}: {probe}"
    player = Player(port, log_in(port))
    for scenario in served_scenarios(config):
        player.play(scenario)
    summary = summarize(config, player, time.monotonic() - started, workers)
    report("leak-matrix", summary)

    errors = examples(player, config, lambda o: o.verdict in {"5xx", "broken"})
    assert not summary["errors"], f"{summary['line']}\nanswers that are not pages:\n{errors}"
    leaks = examples(
        player, config, lambda o: o.verdict == "leak" and classify(config, o.scenario) == LIBRARY
    )
    assert not summary["library_leaks"], (
        f"{summary['line']}\nlibrary leaks by scenario: {summary['library_leaks']}\n{leaks}"
    )
    canary = [o for o in player.outcomes if o.scenario == CANARY and o.phase == "in-order"]
    assert any(o.verdict == "leak" for o in canary), (
        f"{CANARY} (a header read without Vary) leaked nothing in order: the cache stored"
        f" nothing, or the detector is blind; {summary['line']}"
    )
    assert player.hits > 0, summary["line"]
