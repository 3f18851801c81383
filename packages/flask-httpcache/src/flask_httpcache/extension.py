"""``HTTPCache``: both handlers (and optionally the WSGI fast path) from ``HTTPCACHE_*`` config."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

import click
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


@dataclass
class HTTPCacheState:
    """What ``app.extensions["httpcache"]`` holds for one app."""

    store: Store
    request_handler: RequestHandler
    response_handler: ResponseHandler
    middleware: HTTPCacheMiddleware | None


def state_of(app: Flask) -> HTTPCacheState:
    try:
        state = app.extensions["httpcache"]
    except KeyError:
        raise RuntimeError(
            "flask-httpcache is not set up on this app: call HTTPCache(app) or"
            " HTTPCache().init_app(app) first"
        ) from None
    return state  # type: ignore[no-any-return]


class HTTPCache:
    """The shared HTTP cache for the common case: both handlers installed by ``init_app``,
    after every hook installed before it (see :func:`~flask_httpcache.easy_setup`)."""

    def __init__(self, app: Flask | None = None) -> None:
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        """Install the cache on ``app``. Config keys read (defaults in brackets):

        - ``HTTPCACHE_TYPE`` [``SimpleCache``] and the other backend keys of
          :func:`flask_cachecore.make_cache` with the ``HTTPCACHE_`` prefix (``REDIS_URL``,
          ``MEMCACHED_SERVERS``, ``DIR``, ``KEY_PREFIX``, ``THRESHOLD`` ...);
        - ``HTTPCACHE_RESOURCE_EXEMPTIONS`` [()], ``HTTPCACHE_MASTER_SALT`` [""],
          ``HTTPCACHE_REQUEST_CONTROLS_CACHE`` [True], ``HTTPCACHE_CACHE_NAME``
          [flask-httpcache], ``HTTPCACHE_MAX_VARIANTS`` [16], ``HTTPCACHE_MAX_BODY_SIZE``
          [1 MiB], ``HTTPCACHE_HEURISTIC_FRACTION`` [0.1], ``HTTPCACHE_HEURISTIC_MAX_AGE``
          [86400], ``HTTPCACHE_STALE_RETENTION`` [3600], ``HTTPCACHE_AUTO_ETAG`` [True],
          ``HTTPCACHE_TARGETED_FIELDS``, ``HTTPCACHE_HIT_LANE`` [True];
        - bounds: ``HTTPCACHE_MAX_BYTES`` [32 MiB, the in-process store],
          ``HTTPCACHE_MAX_ENTRY_BYTES`` [1 MiB + 64 KiB], ``HTTPCACHE_MAX_QUERY_VARIANTS``
          [256 per path], ``HTTPCACHE_MAX_HOSTS`` [16], ``HTTPCACHE_TRUSTED_HOSTS`` [Flask's
          ``TRUSTED_HOSTS``, else ``[SERVER_NAME]``, else None: any valid host];
        - ``HTTPCACHE_STORE_SET_COOKIE`` [False]: store responses with ``Set-Cookie``;
        - ``HTTPCACHE_MIDDLEWARE`` [False]: also wrap ``app.wsgi_app`` in the WSGI fast path.

        .. versionchanged:: 0.2.0
            Bounds in bytes, query strings and hosts; ``Set-Cookie`` responses not stored;
            the middleware goes inside a ``ProxyFix`` that wraps the app already.

        :raises RuntimeError: if the app already has it.
        :raises flask_cachecore.CacheConfigError: for a bad value, naming its key.
        """
        if "httpcache" in app.extensions:
            raise RuntimeError("flask-httpcache is already set up on this app")
        app.config.setdefault("HTTPCACHE_TYPE", "SimpleCache")
        app.config.setdefault("HTTPCACHE_MIDDLEWARE", False)
        # read by make_cache too: the byte budget of SimpleCache, the entry limit of every
        # backend (checked on the serialized value before it is written)
        app.config.setdefault("HTTPCACHE_MAX_BYTES", Config.max_bytes)
        app.config.setdefault("HTTPCACHE_MAX_ENTRY_BYTES", Config.max_entry_bytes)
        if app.config.get("HTTPCACHE_TRUSTED_HOSTS") is None:
            server_name = app.config.get("SERVER_NAME")
            trusted = app.config.get("TRUSTED_HOSTS") or ([server_name] if server_name else None)
            app.config["HTTPCACHE_TRUSTED_HOSTS"] = trusted
        config = Config.from_flask_config(app.config)
        serializer = None
        if app.config["HTTPCACHE_TYPE"] in IN_PROCESS_TYPES and not app.config.get(
            "HTTPCACHE_SERIALIZER"
        ):
            serializer = in_process_serializer()  # in-process: no pickling on every hit
        store = Store(
            make_cache(app.config, prefix="HTTPCACHE_", app=app, serializer=serializer), config
        )
        middleware = None
        if app.config["HTTPCACHE_MIDDLEWARE"]:
            outer = app.wsgi_app
            if isinstance(outer, ProxyFix):
                # inside the ProxyFix, so the middleware keys on the host and scheme the
                # app sees (RFC 9111 §7.1)
                middleware = HTTPCacheMiddleware(outer.app, store)
                outer.app = middleware
            else:
                middleware = HTTPCacheMiddleware(outer, store)
                app.wsgi_app = middleware  # type: ignore[method-assign]
        app.extensions["httpcache"] = HTTPCacheState(
            store, RequestHandler(store, app), ResponseHandler(store, app), middleware
        )
        app.cli.add_command(cli)

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
            raise ValueError("purge: give url=... or tag=...")
        store = state_of(current_app).store
        done = False
        if url is not None:
            root = current_app.config.get("APPLICATION_ROOT") or ""
            done = purge_url(store, url, root, soft=soft)
        tags = [tag] if isinstance(tag, str) else list(tag or ())
        for one in tags:
            done = purge_by_tag(store, one, soft=soft) or done
        return done


cli = AppGroup("httpcache", help="Inspect and purge the shared HTTP cache.")


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
    click.echo(json.dumps(state_of(current_app).store.stats(), indent=2, sort_keys=True))
