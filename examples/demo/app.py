"""The demo site: the toolkit's extensions on embedded defaults (an in-process cache, no
server). It grows as the packages do; run it with ``hatch run demo``."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from flask import Flask, render_template

from flask_viewcache import Cache

cache = Cache()


def create_app(config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__, root_path=str(Path(__file__).resolve().parent))
    app.config.update(
        SECRET_KEY="demo-only-secret",
        CACHE_TYPE="SimpleCache",
        CACHE_SERIALIZER="signed-pickle",
        CACHE_DEFAULT_TIMEOUT=300,
        CACHE_STATUS_HEADER=True,
        CACHE_ENABLE_SIGNALS=True,
    )
    app.config.update(config or {})
    cache.init_app(app)

    @cache.memoize(timeout=600, tags=["prices"], lock=True)
    def product_price(product_id: int) -> str:
        time.sleep(0.2)  # stands for a slow query; concurrent misses run it once
        return f"{product_id * 1.25:.2f} EUR"

    @app.get("/")
    def index() -> str:
        return render_template("index.html")

    @app.get("/products/<int:product_id>")
    @cache.cached(timeout=60, lock=True, tags=["prices"])
    def product(product_id: int) -> str:
        started = time.perf_counter()
        price = product_price(product_id)
        return render_template(
            "product.html",
            product_id=product_id,
            price=price,
            built_in_ms=round((time.perf_counter() - started) * 1000, 1),
            built_at=time.strftime("%H:%M:%S"),
        )

    @app.post("/prices/refresh")
    def refresh_prices() -> dict[str, str]:
        cache.invalidate_tags("prices")
        return {"invalidated": "prices"}

    @app.get("/cache-stats")
    def cache_stats() -> dict[str, Any]:
        return cache.stats()

    return app
