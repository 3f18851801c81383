"""The demo site: the toolkit's extensions on embedded defaults (an in-process cache, no
server). It grows as the packages do; run it with ``hatch run demo``."""

from __future__ import annotations

import gzip
import time
from pathlib import Path
from typing import Any

from flask import Flask, Response, g, render_template, request

from flask_appcache import Appcache
from flask_httpcache import Config, HTTPCache, cache_control, vary
from flask_staticbust import StaticBust
from flask_viewcache import Cache

cache = Cache()


def gzip_response(response: Response) -> Response:
    """Compress what the client accepts compressed. Installed after ResponseHandler, it runs
    before it, so the cache stores the compressed bytes once; hits arrive already encoded.
    Every compressible answer says ``Vary: Accept-Encoding``, compressed or not, so the cache
    keeps the plain and the compressed copy apart."""
    if (
        response.status_code != 200
        or response.direct_passthrough
        or "Content-Encoding" in response.headers
        or len(response.get_data()) < 200
    ):
        return response
    response.vary.add("Accept-Encoding")
    if "gzip" in request.headers.get("Accept-Encoding", ""):
        response.set_data(gzip.compress(response.get_data(), mtime=0))
        response.headers["Content-Encoding"] = "gzip"
    return response


def install_http_cache(app: Flask) -> HTTPCache:
    """The hooks in the order this site wants (see flask-httpcache's install-order guide)."""
    requests_seen = app.extensions.setdefault("demo_requests", {"count": 0})

    def count_request() -> None:
        requests_seen["count"] += 1  # before RequestHandler: counts hits too

    def stamp_request() -> None:
        g.demo_started = time.perf_counter()  # after RequestHandler: misses only

    httpcache = HTTPCache(
        config=Config(resource_exemptions=["/cache-stats"]), install_handlers=False
    )
    httpcache.init_app(app)  # the store from HTTPCACHE_* (in-process here); no hook yet
    app.before_request(count_request)
    httpcache.install_request_handler(app)
    app.before_request(stamp_request)
    httpcache.install_response_handler(app)
    app.after_request(gzip_response)
    return httpcache


def install_offline(app: Flask) -> Appcache:
    """flask-appcache: the home page works offline (manifest + service worker), other pages
    get /offline when the network is gone, and a changed page is offered by a prompt. Not
    finalized, so that editing a demo template shows the update prompt without a restart."""
    app.config.setdefault("APPCACHE_FALLBACK", {"/": "/offline"})
    app.config.setdefault("APPCACHE_NETWORK", ["/cache-stats", "/prices", "*"])
    appcache = Appcache(app)

    @app.get("/offline")
    def offline() -> str:
        return render_template("offline.html")

    appcache.add_urls("/")
    appcache.add_folder(
        app.static_folder or "static"
    )  # staticbust's versioned URLs, as url_for builds them
    return appcache


def create_app(config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__, root_path=str(Path(__file__).resolve().parent))
    app.config.update(
        SECRET_KEY="demo-only-secret",
        CACHE_TYPE="SimpleCache",
        CACHE_SERIALIZER="signed-pickle",
        CACHE_DEFAULT_TIMEOUT=300,
        CACHE_STATUS_HEADER=True,
        CACHE_ENABLE_SIGNALS=True,
        HTTPCACHE_TYPE="SimpleCache",
        # A two-file static folder hashes in microseconds: no stamp file in an instance folder.
        STATICBUST_STAMP_DIR=False,
    )
    app.config.update(config or {})
    cache.init_app(app)
    StaticBust(app)
    httpcache = install_http_cache(app)

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

    @app.get("/news")
    # 30 s in the shared cache; a browser keeps its copy but asks again on every visit, so
    # each visit reaches the shared cache (a hit, 304 or 200) instead of the browser's own
    @cache_control(public=True, max_age=0, s_maxage=30)
    @vary("Accept-Language")
    def news() -> str:
        time.sleep(0.1)  # stands for a slow page; the HTTP cache answers the next 30 s
        language = request.accept_languages.best_match(["en", "fr"]) or "en"
        headline = {"en": "Caches agree on RFC 9111", "fr": "Les caches suivent la RFC 9111"}
        return render_template(
            "news.html", headline=headline[language], built_at=time.strftime("%H:%M:%S")
        )

    @app.get("/cache-stats")
    def cache_stats() -> dict[str, Any]:
        return {
            "viewcache": cache.stats(),
            "httpcache": httpcache.stats(),
            "requests_seen": app.extensions["demo_requests"]["count"],
        }

    install_offline(app)
    return app
