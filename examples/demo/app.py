"""The demo site: every extension of the toolkit on embedded defaults (an in-process cache, no
server). It grows as the packages do; run it with ``hatch run demo``."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from flask import Flask, render_template

from flask_cachecore import MISSING, compute_once, function_key, make_cache


def slow_square(n: int) -> int:
    """Stands for an expensive computation (a report, a remote call)."""
    time.sleep(0.2)
    return n * n


def create_app(config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__, root_path=str(Path(__file__).resolve().parent))
    app.config.update(
        SECRET_KEY="demo-only-secret",
        CACHE_TYPE="SimpleCache",
        CACHE_SERIALIZER="signed-pickle",
        CACHE_DEFAULT_TIMEOUT=60,
    )
    app.config.update(config or {})
    store = make_cache(app.config)  # flask-cachecore: failures become misses

    @app.get("/")
    def index() -> str:
        return render_template("index.html")

    @app.get("/square/<int:n>")
    def square(n: int) -> dict[str, Any]:
        key = function_key(slow_square, (n,), {})
        started = time.perf_counter()

        def lookup() -> Any:
            value = store.get(key)
            return MISSING if value is None else value

        def compute() -> int:
            value = slow_square(n)
            store.set(key, value)
            return value

        value = compute_once(key, lookup, compute, lock_cache=store)
        return {"n": n, "square": value, "ms": round((time.perf_counter() - started) * 1000, 1)}

    @app.get("/cache-stats")
    def cache_stats() -> dict[str, Any]:
        return dict(store.stats())

    return app
