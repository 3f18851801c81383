"""Shared helpers of the flask-httpcache tests: a fake clock and a small app factory."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from flask import Flask

from flask_cachecore import MemoryCache
from flask_httpcache import Config, RequestHandler, ResponseHandler, Store

START = 1_700_000_000.0


@dataclass
class FakeClock:
    """A wall clock that moves only when a test says so."""

    now: float = START

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Jobs:
    """A background runner that keeps jobs until the test runs them."""

    queued: list[Callable[[], None]] = field(default_factory=list)

    def __call__(self, job: Callable[[], None]) -> None:
        self.queued.append(job)

    def run_all(self) -> int:
        count = 0
        while self.queued:
            self.queued.pop(0)()
            count += 1
        return count


def make_config(clock: FakeClock, **kwargs: object) -> Config:
    kwargs.setdefault("background", Jobs())
    return Config(clock=clock, **kwargs)  # type: ignore[arg-type]


def cached_app(
    clock: FakeClock | None = None, store: Store | None = None, **config: object
) -> tuple[Flask, Store, FakeClock]:
    """A Flask app with both handlers over an in-process store; the test adds routes."""
    clock = clock or FakeClock()
    app = Flask(__name__)
    if store is None:
        store = Store(MemoryCache(threshold=1000), make_config(clock, **config))
    RequestHandler(store, app)
    ResponseHandler(store, app)
    return app, store, clock
