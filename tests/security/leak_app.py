"""The app the leak matrix serves under gunicorn, in the configuration named by ``LEAK_CONFIG``.

Every page says whom it was made for (``[user=NAME]``, ``anon`` without credentials) and
cookie-setting pages set ``token=token-of-NAME``, so a client can tell a page made for someone
else. Each route is one way a view depends on its user (the session read in the view or in a
hook, Authorization, a cookie, a header with or without ``Vary``) or sets a cookie (each way
Flask allows), or answers 304 / 206 (``make_conditional``). ``tests/security/test_leak_matrix.py``
says which leaks the library must prevent and which are the app's own bug.

gunicorn serves ``create_app()``, which reads ``LEAK_CONFIG`` (a name of :data:`CONFIGS`),
``LEAK_REDIS_URL`` and ``LEAK_PREFIX`` (the key prefix of this run on that Redis). The test
imports the constants only.
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import redis
from flask import (
    Blueprint,
    Flask,
    after_this_request,
    g,
    jsonify,
    make_response,
    request,
    session,
)
from flask.wrappers import Response
from werkzeug.middleware.proxy_fix import ProxyFix

#: configuration name -> what it installs (``vc-``: flask-viewcache, ``hc-``: flask-httpcache)
CONFIGS = {
    "vc-cached-redis": "viewcache @cached on RedisCache, lock off",
    "vc-cached-lock-redis": "viewcache @cached on RedisCache, lock on",
    "vc-cached-simple": "viewcache @cached on SimpleCache, lock off",
    "vc-cached-lock-simple": "viewcache @cached on SimpleCache, lock on",
    "hc-ext-redis": "HTTPCache(app) on RedisCache, hit lane on",
    "hc-ext-nolane": "HTTPCache(app) on SimpleCache, HTTPCACHE_HIT_LANE=False",
    "hc-handlers": "RequestHandler/ResponseHandler on make_cache(SimpleCache), hit lane on",
    "hc-handlers-hooks": "the README's order: a hook before RequestHandler (lane closed)",
    "hc-middleware-redis": "HTTPCache(app) with HTTPCACHE_MIDDLEWARE=True on RedisCache",
    "hc-middleware-explicit": "app.wsgi_app = HTTPCacheMiddleware(...) + handlers, one Store",
}
#: the configurations whose hit lane must be open: no hook of the app's own may close it
LANE_CONFIGS = frozenset({"hc-ext-redis", "hc-handlers"})
BODY = "".join(f"{n:04d}" for n in range(256))  # the conditional pages' body, 1 KiB
SECRET = "leak-matrix-secret"
Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


@dataclass
class Run:
    """One served configuration: its name, the Redis of the gates and its key prefix."""

    name: str
    redis_url: str
    prefix: str

    @property
    def engine(self) -> str:
        return self.name.split("-", 1)[0]

    @property
    def on_redis(self) -> bool:
        return self.name.endswith("-redis")

    def __post_init__(self) -> None:
        self.gates = redis.Redis.from_url(self.redis_url)


@dataclass
class Wrappers:
    """What the engine wraps a route in: ``stored`` (a page it may store) and
    ``vary_x_user`` (one that also says ``Vary: X-User``)."""

    stored: Decorator
    vary_x_user: Decorator


def page(scenario: str, who: str | None) -> str:
    return f"<p>{scenario}: [user={who or 'anon'}]</p>"


def token(who: str | None) -> str:
    return f"token-of-{who or 'anon'}"


def header_user() -> str | None:
    return request.headers.get("X-User")


def auth_user() -> str | None:
    value = request.headers.get("Authorization", "")
    return value.removeprefix("Bearer tok-") if value.startswith("Bearer tok-") else None


def with_vary(name: str) -> Decorator:
    """The response says ``Vary: name`` (viewcache's pages: it keys by the URL alone)."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Response:
            response = make_response(view(*args, **kwargs))
            response.vary.add(name)
            return response

        return wrapper

    return decorator


class ArrivalGate:
    """Outermost WSGI wrapper: counts in Redis the arrivals of each gated round
    (``?gate=ID&n=N``); :meth:`wait` holds a view until all ``N`` arrived, so that lock
    waiters wait on this very computation. At most 5 s: the gate decides how much a round
    overlaps, never whether a test passes."""

    def __init__(self, wsgi_app: Callable[..., Iterable[bytes]], run: Run) -> None:
        self.wsgi_app = wsgi_app
        self.run = run

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        for pair in environ.get("QUERY_STRING", "").split("&"):
            if pair.startswith("gate="):
                self.run.gates.incr(self.run.prefix + "gate:" + pair[5:])
        return self.wsgi_app(environ, start_response)

    def wait(self) -> None:
        gate = request.args.get("gate")
        if gate is None:
            return
        expected = int(request.args.get("n", "1"))
        deadline = time.monotonic() + 5
        while int(self.run.gates.get(self.run.prefix + "gate:" + gate) or 0) < expected:
            if time.monotonic() > deadline:
                return
            time.sleep(0.005)
        time.sleep(0.05)  # the others are now queued on the lock (or running the view)


def install_viewcache(app: Flask, run: Run, gate: Callable[[], None]) -> Wrappers:
    """``Cache(app)``, ``@cache.cached`` with the lock of the configuration, and the routes
    only viewcache has (a per-user ``key_prefix``, memoize)."""
    from flask_viewcache import Cache

    app.config.update(
        CACHE_TYPE="RedisCache" if run.on_redis else "SimpleCache",
        CACHE_REDIS_URL=run.redis_url,
        CACHE_KEY_PREFIX=run.prefix,
        CACHE_DEFAULT_TIMEOUT=120,
        CACHE_STATUS_HEADER=True,
    )
    cache = Cache(app)
    lock = "-lock-" in run.name

    def cached(**options: Any) -> Decorator:
        return cache.cached(timeout=120, lock=lock, **options)  # type: ignore[no-any-return]

    @cache.memoize(timeout=120, lock=lock)
    def profile_of(who: str | None) -> str:
        return page("memo-arg", who)

    @cache.memoize(timeout=120, lock=lock)
    def profile_of_current_user() -> str:
        return page("memo-reads", header_user())  # keyed by no argument: the app's bug

    @app.get("/s/auth-keyed/<r>")
    @cached(key_prefix=lambda: f"auth/{request.path}/{request.headers.get('Authorization')}")
    def auth_keyed(r: str) -> str:
        gate()
        return page("auth-keyed", auth_user())

    @app.get("/s/memo-arg/<r>")
    def memo_arg(r: str) -> str:
        gate()
        return profile_of(header_user())

    @app.get("/s/memo-reads/<r>")
    def memo_reads(r: str) -> str:
        gate()
        return profile_of_current_user()

    stored = cached()
    return Wrappers(stored=stored, vary_x_user=lambda view: stored(with_vary("X-User")(view)))


def install_httpcache(app: Flask, run: Run, gate: Callable[[], None]) -> Wrappers:
    """The handlers installed the way the configuration names, and the routes only httpcache
    has (``public`` pages, ``Vary: Cookie``)."""
    from flask_cachecore import make_cache
    from flask_httpcache import (
        Config,
        HTTPCache,
        HTTPCacheMiddleware,
        RequestHandler,
        ResponseHandler,
        Store,
        cache_control,
        cache_for,
        vary,
    )

    app.config.update(
        HTTPCACHE_TYPE="RedisCache" if run.on_redis else "SimpleCache",
        HTTPCACHE_REDIS_URL=run.redis_url,
        HTTPCACHE_KEY_PREFIX=run.prefix,
        HTTPCACHE_HIT_LANE=run.name != "hc-ext-nolane",
        HTTPCACHE_MIDDLEWARE=run.name == "hc-middleware-redis",
    )
    if run.name in {"hc-ext-redis", "hc-ext-nolane", "hc-middleware-redis"}:
        HTTPCache(app)
    elif run.name in {"hc-handlers", "hc-handlers-hooks"}:
        cache = make_cache(app.config, prefix="HTTPCACHE_")
        config = Config()
        if run.name == "hc-handlers-hooks":
            seen = app.extensions.setdefault("leak_requests", {"count": 0})
            # before RequestHandler: sees hits and misses, and closes the hit lane
            app.before_request(lambda: seen.update(count=seen["count"] + 1))
        RequestHandler(cache, app, config)
        ResponseHandler(cache, app, config)
    elif run.name == "hc-middleware-explicit":
        store = Store(make_cache(app.config, prefix="HTTPCACHE_"), Config())
        RequestHandler(store, app)
        ResponseHandler(store, app)
        app.wsgi_app = HTTPCacheMiddleware(app.wsgi_app, store)  # type: ignore[method-assign]
    else:
        raise RuntimeError(f"LEAK_CONFIG={run.name}: not a configuration of {sorted(CONFIGS)}")

    stored = cache_for(seconds=120)
    public = cache_control(public=True, max_age=120)

    @app.get("/s/cookie-public/<r>")
    @public
    def cookie_public(r: str) -> Response:
        gate()
        response = make_response(page("cookie-public", header_user()))
        response.set_cookie("token", token(header_user()))
        return response

    @app.get("/s/auth-public/<r>")
    @public
    def auth_public(r: str) -> str:
        gate()
        return page("auth-public", auth_user())  # public, yet made for one user: the app's bug

    @app.get("/s/cookie-read-vary/<r>")
    @vary("Cookie")
    @stored
    def cookie_read_vary(r: str) -> str:
        gate()
        return page("cookie-read-vary", request.cookies.get("who"))

    return Wrappers(stored=stored, vary_x_user=lambda view: vary("X-User")(stored(view)))


def add_common_routes(app: Flask, wrap: Wrappers, gate: Callable[[], None]) -> Blueprint:
    """The routes of every configuration; the session-hook route on the returned blueprint."""
    stored = wrap.stored
    hooked = Blueprint("hooked", __name__)

    @hooked.before_request
    def load_logged_in_user() -> None:
        """The Flask tutorial's hook: the view reads ``g.user``, never the session itself."""
        g.user = session.get("user")

    @hooked.get("/s/session-hook/<r>")
    @stored
    def session_hook(r: str) -> str:
        gate()
        return page("session-hook", g.user)

    @app.get("/s/session-view/<r>")
    @stored
    def session_view(r: str) -> str:
        gate()
        return page("session-view", session.get("user"))

    @app.get("/s/session-write/<r>")
    @stored
    def session_write(r: str) -> str:
        gate()
        session["last"] = header_user() or "anon"
        return page("session-write", header_user())

    @app.get("/s/cookie-set/<r>")
    @stored
    def cookie_set(r: str) -> Response:
        gate()
        response = make_response(page("cookie-set", header_user()))
        response.set_cookie("token", token(header_user()))
        return response

    @app.get("/s/cookie-tuple/<r>")
    @stored
    def cookie_tuple(r: str) -> tuple[str, int, dict[str, str]]:
        gate()
        cookie = f"token={token(header_user())}"
        return page("cookie-tuple", header_user()), 200, {"Set-Cookie": cookie}

    @app.get("/s/cookie-tuple-headers/<r>")
    @stored
    def cookie_tuple_headers(r: str) -> tuple[str, list[tuple[str, str]]]:
        gate()
        cookie = f"token={token(header_user())}"
        return page("cookie-tuple-headers", header_user()), [("Set-Cookie", cookie)]

    @app.get("/s/cookie-tuple-resp/<r>")
    @stored
    def cookie_tuple_resp(r: str) -> tuple[Response, int]:
        gate()
        response = make_response(page("cookie-tuple-resp", header_user()))
        response.set_cookie("token", token(header_user()))
        return response, 200

    @app.get("/s/cookie-after/<r>")
    @stored
    def cookie_after(r: str) -> str:
        gate()
        who = header_user()

        @after_this_request
        def set_token(response: Response) -> Response:
            response.set_cookie("token", token(who))
            return response

        return page("cookie-after", who)

    @app.get("/s/auth/<r>")
    @stored
    def auth(r: str) -> str:
        gate()
        return page("auth", auth_user())

    @app.get("/s/header-vary/<r>")
    @wrap.vary_x_user
    def header_vary(r: str) -> str:
        gate()
        return page("header-vary", header_user())

    @app.get("/s/header-vary-case/<r>")
    @wrap.vary_x_user
    def header_vary_case(r: str) -> str:
        gate()
        return page("header-vary-case", header_user())  # spellings of one secret

    @app.get("/s/scheme/<r>")
    @stored
    def scheme(r: str) -> str:
        gate()
        return page("scheme", request.scheme)  # http and https pages of one URL differ

    @app.get("/s/header-novary/<r>")
    @stored
    def header_novary(r: str) -> str:
        gate()
        return page("header-novary", header_user())  # no Vary, no key of it: the app's bug

    @app.get("/s/cookie-read/<r>")
    @stored
    def cookie_read(r: str) -> str:
        gate()
        return page("cookie-read", request.cookies.get("who"))  # no Vary: Cookie: the app's bug

    @app.get("/s/etag/<r>")
    @stored
    def etag(r: str) -> Response:
        gate()
        response = make_response(BODY)
        response.set_etag("v1")
        return response.make_conditional(request)

    @app.get("/s/range/<r>")
    @stored
    def ranged(r: str) -> Response:
        gate()
        response = make_response(BODY)
        response.set_etag("v1")
        return response.make_conditional(request, accept_ranges=True, complete_length=len(BODY))

    @app.get("/login/<who>")
    def login(who: str) -> str:
        session["user"] = who
        return "logged in"

    @app.get("/__probe")
    def probe() -> Response:
        """What this process runs, and whether its hit lane is open."""
        lane: Any = app.wsgi_app
        while lane is not None and type(lane).__name__ != "HitLane":
            lane = getattr(lane, "wsgi_app", None) or getattr(lane, "app", None)  # ProxyFix: app
        open_lane = lane is not None and lane.layout_allows()
        return jsonify(config=os.environ["LEAK_CONFIG"], pid=os.getpid(), lane=bool(open_lane))

    return hooked


def create_app() -> Flask:
    run = Run(os.environ["LEAK_CONFIG"], os.environ["LEAK_REDIS_URL"], os.environ["LEAK_PREFIX"])
    app = Flask(__name__)
    app.config.update(SECRET_KEY=SECRET)
    gate = ArrivalGate(app.wsgi_app, run)
    install = install_viewcache if run.engine == "vc" else install_httpcache
    wrappers = install(app, run, gate.wait)
    hooked = add_common_routes(app, wrappers, gate.wait)
    if run.name not in LANE_CONFIGS:  # a blueprint's hook closes the hit lane of the whole app
        app.register_blueprint(hooked)
    # a proxy's X-Forwarded-Proto trusted, outside the handlers (their lane and middleware)
    gate.wsgi_app = ProxyFix(app.wsgi_app, x_for=0, x_proto=1, x_host=0)
    app.wsgi_app = gate  # type: ignore[method-assign]
    return app
