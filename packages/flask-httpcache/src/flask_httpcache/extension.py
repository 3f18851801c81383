"""``HTTPCache``: the one way in. The store and ``Config`` from ``HTTPCACHE_*``, both handlers
(or the two installers, for apps that order their own hooks), ``purge`` and ``stats``."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, cast

import click
from cachelib import BaseCache
from flask import Flask, current_app
from flask.cli import AppGroup
from werkzeug.middleware.proxy_fix import ProxyFix

from flask_cachecore import make_cache

from .config import Config
from .handlers import RequestHandler, ResponseHandler
from .middleware import HTTPCacheMiddleware
from .purge import purge_by_tag, purge_url
from .store import Store, in_process_serializer

IN_PROCESS_TYPES = frozenset({"SimpleCache", "simple", "MemoryCache"})
#: entries of the in-process store (``HTTPCACHE_THRESHOLD``), besides its byte budget
IN_PROCESS_THRESHOLD = 1000


@dataclass
class HTTPCacheState:
    """What ``app.extensions["httpcache"]`` holds for one app."""

    store: Store
    request_handler: RequestHandler | None = None
    response_handler: ResponseHandler | None = None
    middleware: HTTPCacheMiddleware | None = None


def state_of(app: Flask) -> HTTPCacheState:
    """The extension's state of ``app``; a clear error when ``init_app`` did not run."""
    try:
        state = app.extensions["httpcache"]
    except KeyError:
        raise RuntimeError(
            "flask-httpcache is not set up on this app: call HTTPCache(app) or"
            " HTTPCache().init_app(app) first"
        ) from None
    return state  # type: ignore[no-any-return]


def without_handler(app: Flask, name: str) -> HTTPCacheState:
    """The state of ``app``, which has no ``name`` (``request_handler``, ``response_handler``)
    installed yet; else a clear error."""
    state = state_of(app)
    if getattr(state, name) is not None:
        raise RuntimeError(f"the flask-httpcache {name.replace('_', ' ')} is already installed")
    return state


def set_flask_config_defaults(app: Flask) -> None:
    """The defaults of the ``HTTPCACHE_*`` keys that are not ``Config``'s own: the backend
    (the in-process cache) and its bounds, the middleware, the trusted hosts."""
    app.config.setdefault("HTTPCACHE_TYPE", "SimpleCache")
    app.config.setdefault("HTTPCACHE_THRESHOLD", IN_PROCESS_THRESHOLD)
    app.config.setdefault("HTTPCACHE_MIDDLEWARE", False)
    # read by make_cache too: the byte budget of SimpleCache, the entry limit of every
    # backend (checked on the serialized value before it is written)
    app.config.setdefault("HTTPCACHE_MAX_BYTES", Config.max_bytes)
    app.config.setdefault("HTTPCACHE_MAX_ENTRY_BYTES", Config.max_entry_bytes)
    if app.config.get("HTTPCACHE_TRUSTED_HOSTS") is None:
        server_name = app.config.get("SERVER_NAME")
        trusted = app.config.get("TRUSTED_HOSTS") or ([server_name] if server_name else None)
        app.config["HTTPCACHE_TRUSTED_HOSTS"] = trusted


def store_from_flask_config(app: Flask, config: Config) -> Store:
    """The store ``HTTPCACHE_TYPE`` and the other backend keys describe (the in-process cache
    unless set), through :func:`flask_cachecore.make_cache`."""
    serializer = None
    if app.config["HTTPCACHE_TYPE"] in IN_PROCESS_TYPES and not app.config.get(
        "HTTPCACHE_SERIALIZER"
    ):
        serializer = in_process_serializer()  # in-process: no pickling on every hit
    cache = make_cache(app.config, prefix="HTTPCACHE_", app=app, serializer=serializer)
    return Store(cache, config)


class HTTPCache:
    """The shared HTTP cache of one or more apps, set up by :meth:`init_app`.

    :param app: the app to set up now (else call :meth:`init_app` later, once per app).
    :param cache: a cachelib backend or a :class:`~flask_httpcache.store.Store` to use
        instead of the one the ``HTTPCACHE_*`` backend keys describe.
    :param config: a :class:`~flask_httpcache.config.Config` to use instead of the one the
        ``HTTPCACHE_*`` keys give.
    :param install_handlers: install both handlers in :meth:`init_app`, after every hook
        installed before it; False: install them yourself where they belong among your hooks,
        with :meth:`install_request_handler` and :meth:`install_response_handler`.

    .. versionchanged:: 0.2.0
        ``cache``, ``config``, ``install_handlers``; the ``store`` property, ``purge``,
        ``stats`` and the two installers.
    """

    def __init__(
        self,
        app: Flask | None = None,
        *,
        cache: BaseCache | Store | None = None,
        config: Config | None = None,
        install_handlers: bool = True,
    ) -> None:
        self.cache = cache
        self.config = config
        self.install_handlers = install_handlers
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        """Set the cache up on ``app``. Config keys read (defaults in brackets):

        - ``HTTPCACHE_TYPE`` [``SimpleCache``: the in-process cache, bounded by
          ``HTTPCACHE_MAX_BYTES`` and ``HTTPCACHE_THRESHOLD`` [1000 entries]] and the other
          backend keys of :func:`flask_cachecore.make_cache` with the ``HTTPCACHE_`` prefix
          (``REDIS_URL``, ``MEMCACHED_SERVERS``, ``DIR``, ``KEY_PREFIX`` ...);
        - one key per :class:`~flask_httpcache.config.Config` setting, its name upper-cased
          (:meth:`Config.flask_config_keys`): ``HTTPCACHE_RESOURCE_EXEMPTIONS`` [()],
          ``HTTPCACHE_MASTER_SALT`` [""], ``HTTPCACHE_REQUEST_CONTROLS_CACHE`` [True],
          ``HTTPCACHE_CACHE_NAME`` [flask-httpcache], ``HTTPCACHE_MAX_VARIANTS`` [16],
          ``HTTPCACHE_MAX_BODY_SIZE`` [1 MiB], ``HTTPCACHE_MAX_ENTRY_BYTES`` [1 MiB + 64 KiB],
          ``HTTPCACHE_MAX_BYTES`` [32 MiB], ``HTTPCACHE_MAX_QUERY_VARIANTS`` [256],
          ``HTTPCACHE_HEURISTIC_FRACTION`` [0.1], ``HTTPCACHE_HEURISTIC_MAX_AGE`` [86400],
          ``HTTPCACHE_STALE_RETENTION`` [3600], ``HTTPCACHE_AUTO_ETAG`` [True],
          ``HTTPCACHE_TARGETED_FIELDS`` [CDN-Cache-Control], ``HTTPCACHE_HIT_LANE`` [True],
          ``HTTPCACHE_TRUSTED_HOSTS`` [Flask's ``TRUSTED_HOSTS``, else ``[SERVER_NAME]``,
          else None: any valid host], ``HTTPCACHE_MAX_HOSTS`` [16],
          ``HTTPCACHE_STORE_SET_COOKIE`` [False];
        - ``HTTPCACHE_MIDDLEWARE`` [False]: also wrap ``app.wsgi_app`` in the WSGI fast path.

        .. versionchanged:: 0.2.0
            Bounds in bytes, query strings and hosts; ``Set-Cookie`` responses not stored;
            the middleware goes inside a ``ProxyFix`` that wraps the app already; every
            ``Config`` field has its key.

        :raises RuntimeError: if the app already has it.
        :raises flask_cachecore.CacheConfigError: for a bad value, naming its key.
        """
        if "httpcache" in app.extensions:
            raise RuntimeError("flask-httpcache is already set up on this app")
        set_flask_config_defaults(app)
        config = self.config or Config.from_flask_config(app.config)
        if isinstance(self.cache, Store):
            store = self.cache
        elif self.cache is not None:
            store = Store(self.cache, config)
        else:
            store = store_from_flask_config(app, config)
        state = app.extensions["httpcache"] = HTTPCacheState(store)
        if self.install_handlers:
            self.install_request_handler(app)
            self.install_response_handler(app)
        if app.config["HTTPCACHE_MIDDLEWARE"]:
            state.middleware = wrap_in_middleware(app, store)
        app.cli.add_command(cli)

    def install_request_handler(self, app: Flask) -> RequestHandler:
        """Install the request handler (a ``before_request`` hook) on ``app`` now: the
        ``before_request`` hooks installed before it run on hits too, the later ones on
        misses only.

        :raises RuntimeError: before :meth:`init_app`, or when it is installed already.
        """
        state = without_handler(app, "request_handler")
        state.request_handler = RequestHandler(state.store, app)
        return state.request_handler

    def install_response_handler(self, app: Flask) -> ResponseHandler:
        """Install the response handler (an ``after_request`` hook) on ``app`` now: the
        ``after_request`` hooks installed after it run before it (what they do is stored),
        the earlier ones after it, on hits too.

        :raises RuntimeError: before :meth:`init_app`, or when it is installed already.
        """
        state = without_handler(app, "response_handler")
        state.response_handler = ResponseHandler(state.store, app)
        return state.response_handler

    @property
    def store(self) -> Store:
        """The store of the current app."""
        return state_of(current_app).store

    def purge(
        self,
        url: str | None = None,
        *,
        tag: str | Iterable[str] | None = None,
        soft: bool = False,
    ) -> bool:
        """Invalidate stored responses of the current app, in every process sharing its
        backend: those of the absolute ``url`` (all variants), and/or every one tagged
        ``tag`` (a surrogate key, or several; matched exactly). ``soft``: mark them stale
        instead of forgetting them, so the next request is served stale while one refresh
        runs (``HTTPCACHE_SOFT_PURGE_GRACE`` seconds at most). True when something was
        purged (for tags: when the backend took the purge).

        :raises ValueError: for a relative URL or a tag that is not a surrogate key, or
            when neither is given.
        """
        if url is None and tag is None:
            raise ValueError(
                "give the URL or the tag to purge: purge(url='https://example.com/page')"
                " or purge(tag='product:3')"
            )
        store = self.store
        done = False
        if url is not None:
            root = current_app.config.get("APPLICATION_ROOT") or ""
            done = purge_url(store, url, root, soft=soft)
        tags = [tag] if isinstance(tag, str) else list(tag or ())
        for one in tags:
            done = purge_by_tag(store, one, soft=soft) or done
        return done

    def stats(self) -> dict[str, Any]:
        """Counters of this process (hits, misses, stores ...) and the backend's state."""
        return self.store.stats()


def wrap_in_middleware(app: Flask, store: Store) -> HTTPCacheMiddleware:
    """Put the WSGI fast path around ``app.wsgi_app``; inside a ProxyFix that wraps it, so
    the middleware keys on the host and scheme the app sees (RFC 9111 §7.1)."""
    outer = app.wsgi_app
    if isinstance(outer, ProxyFix):
        middleware = HTTPCacheMiddleware(outer.app, store)
        outer.app = middleware
    else:
        middleware = HTTPCacheMiddleware(outer, store)
        app.wsgi_app = middleware  # type: ignore[method-assign]
    return middleware


def easy_setup(
    app: Flask, cache: BaseCache | Store | None = None, config: Config | None = None
) -> tuple[RequestHandler, ResponseHandler]:
    """``HTTPCache(app, cache=cache, config=config)``, returning its two handlers: both
    installed after every hook installed so far, the store and config from ``app.config``
    unless given.

    .. versionchanged:: 0.2.0
        Reads ``app.config`` like ``HTTPCache``, and sets the app up the same way.
    """
    HTTPCache(app, cache=cache, config=config)
    state = state_of(app)
    return cast(RequestHandler, state.request_handler), cast(
        ResponseHandler, state.response_handler
    )


cli = AppGroup("httpcache", help="Inspect and purge the shared HTTP cache.")
#: an extension object without settings of its own: its methods act on ``current_app``
_CURRENT = HTTPCache()


@cli.command("purge")
@click.argument("urls", nargs=-1, metavar="[URL]...")
@click.option("--url", "more_urls", multiple=True, help="An absolute URL to purge.")
@click.option("--tag", "tags", multiple=True, help="A surrogate key: purge what it tags.")
@click.option("--soft", is_flag=True, help="Mark stale (served while one refresh runs).")
def purge_command(
    urls: tuple[str, ...], more_urls: tuple[str, ...], tags: tuple[str, ...], soft: bool
) -> None:
    """Forget every stored response of each URL (all its variants) and of each --tag, in
    every process sharing the backend; --soft marks them stale instead."""
    store = state_of(current_app).store
    root = current_app.config.get("APPLICATION_ROOT") or ""
    if not (urls or more_urls or tags):
        raise click.UsageError("give a URL, --url URL or --tag TAG")
    how = "soft-purged" if soft else "purged"
    for url in (*urls, *more_urls):
        try:
            found = purge_url(store, url, root, soft=soft)
        except ValueError:
            raise click.BadParameter(
                "give an absolute URL, such as https://example.com/page", param_hint="URL"
            ) from None
        click.echo(f"{how} {url}" if found else f"{url} was not stored")
    for tag in tags:
        try:
            taken = purge_by_tag(store, tag, soft=soft)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--tag") from None
        if not taken:
            raise click.ClickException(f"the backend did not take the purge of tag {tag}")
        click.echo(f"{how} tag {tag}")


@cli.command("stats")
def stats_command() -> None:
    """Counters of this process and the state of the backend."""
    click.echo(json.dumps(_CURRENT.stats(), indent=2, sort_keys=True))
