"""The ``Appcache`` extension: the URL list API of Flask-Appcache 0.1.2, the routes of the
manifest, the service worker and the web app manifest, and the headers of the listed URLs."""

from __future__ import annotations

import copy
import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import partial
from urllib.parse import unquote

from flask import Blueprint, Flask, current_app, has_app_context, url_for
from markupsafe import Markup

from flask_cachecore.compat import requests_keep_setup_open

from . import responses
from .config import DEFAULTS, Settings, read_settings
from .errors import AppcacheError
from .hashing import FileDigests
from .manifest import Listing, UrlList, render_manifest, resolve
from .sources import ViewSource, check_url, walk_folder
from .worker import register_script, render_worker

EXTENSION_KEY = "appcache"
MANIFEST_ENDPOINT = "manifest_appcache"  # Flask-Appcache's endpoint name: templates use it
WORKER_ENDPOINT = "appcache_worker"
WEBMANIFEST_ENDPOINT = "appcache_webmanifest"


@dataclass(frozen=True)
class Served:
    """What the routes answer for one computed listing: built once, sent as is. The ETags
    are digests of the bytes themselves: a change of config (FALLBACK, the runtime cache, ...)
    changes them as surely as a change of content."""

    listing: Listing
    manifest: bytes
    worker: bytes
    manifest_etag: str = field(init=False)
    worker_etag: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "manifest_etag", hashlib.sha256(self.manifest).hexdigest()[:32])
        object.__setattr__(self, "worker_etag", hashlib.sha256(self.worker).hexdigest()[:32])


@dataclass
class AppState:
    """Per-app state, in ``app.extensions["appcache"]``."""

    extension: Appcache
    app: Flask
    settings: Settings
    files: FileDigests = field(default_factory=FileDigests)
    served: Served | None = None
    # paths (decoded, as request.path has them) whose 200 answers get "Cache-Control: no-cache"
    # when they set none themselves
    listed_paths: frozenset[str] | None = None

    def prepared(self) -> Served | None:
        """The bytes to send as they are: finalized and not in debug mode."""
        if self.extension.finalized and not self.app.debug:
            return self.served
        return None

    def compute(self) -> Served:
        return self.extension._served(self.app)

    def paths(self) -> frozenset[str]:
        paths = self.listed_paths
        if paths is None:
            paths = self.listed_paths = listed_paths(
                s.url for s in self.extension._url_list.listed()
            )
        return paths


def listed_paths(urls: Iterable[str]) -> frozenset[str]:
    """The paths of ``urls`` as ``request.path`` gives them (no query, percent-decoded)."""
    return frozenset(unquote(url.split("?", 1)[0]) for url in urls)


def _refuse_reserved(url: str, settings: Settings) -> None:
    if url.split("?", 1)[0] in (settings.url, settings.worker_url):
        raise AppcacheError(f"{url} is the manifest or the service worker: never list it")


def _state(app: Flask) -> AppState:
    try:
        state: AppState = app.extensions[EXTENSION_KEY]
    except KeyError:
        raise RuntimeError(
            "flask-appcache is not set up on this app: call Appcache(app) or appcache.init_app(app)"
        ) from None
    return state


class Appcache:
    """An Application Cache manifest and a service worker for the URLs you add.

    ``Appcache(app)`` or ``appcache = Appcache(); appcache.init_app(app)``; then ``add_urls``,
    ``add_folder``, ``add_excluded_urls`` and, once everything is listed, ``finalize()``.
    """

    def __init__(self, app: Flask | None = None) -> None:
        # Kept as Flask-Appcache did: hash() and finalize() work outside an app context.
        self.app = app
        self._url_list = UrlList()
        self._states: list[AppState] = []
        self._finalized = False
        if app is not None:
            self.init_app(app)

    # -- set-up --------------------------------------------------------------------------------

    def init_app(self, app: Flask) -> None:
        """Register the routes, the headers hook, the ``appcache_register`` Jinja helper and
        the ``flask appcache`` commands on ``app``. Set the config before: the routes' URLs are
        read here.

        Reads ``APPCACHE_URL``, ``APPCACHE_TEMPLATE``, ``APPCACHE_URL_BASE``,
        ``APPCACHE_UPDATED``, ``APPCACHE_FALLBACK``, ``APPCACHE_NETWORK``,
        ``APPCACHE_WORKER_URL``, ``APPCACHE_WORKER_SCOPE``, ``APPCACHE_UPDATE``,
        ``APPCACHE_KILL_SWITCH``, ``APPCACHE_INTEGRITY``, ``APPCACHE_CACHE_NAME``,
        ``APPCACHE_RUNTIME_CACHE``, ``APPCACHE_RUNTIME_MAX_ENTRIES``,
        ``APPCACHE_RUNTIME_MAX_BYTES``, ``APPCACHE_WEBMANIFEST``, ``APPCACHE_WEBMANIFEST_URL``.
        """
        if EXTENSION_KEY in app.extensions:
            raise RuntimeError("flask-appcache is already set up on this app (init_app twice)")
        for key, value in DEFAULTS.items():
            app.config.setdefault(key, copy.deepcopy(value))
        settings = read_settings(app.config)
        for source in self._url_list.listed():  # added before init_app: checked now
            _refuse_reserved(source.url, settings)
        state = AppState(self, app, settings)
        app.extensions[EXTENSION_KEY] = state
        self._states.append(state)
        if self.app is None:
            self.app = app
        # The package's templates come after the app's: an app's own manifest.appcache wins.
        app.register_blueprint(Blueprint("appcache", __name__, template_folder="templates"))
        app.add_url_rule(settings.url, MANIFEST_ENDPOINT, partial(responses.manifest, state))
        if settings.worker_url is not None:
            app.add_url_rule(settings.worker_url, WORKER_ENDPOINT, partial(responses.worker, state))
        if settings.webmanifest is not None:
            view = partial(responses.webmanifest, state.settings)
            app.add_url_rule(settings.webmanifest_url, WEBMANIFEST_ENDPOINT, view)
        app.after_request(partial(responses.revalidate_listed, state))
        app.add_template_global(appcache_register, "appcache_register")
        from .cli import appcache_cli

        app.cli.add_command(appcache_cli)

    def _app(self) -> Flask:
        if has_app_context():
            return current_app
        if self.app is None:
            raise RuntimeError("Appcache has no app: pass one to Appcache(app) or init_app(app)")
        return self.app

    def _check_not_finalized(self) -> None:
        if self._finalized:
            raise RuntimeError("Appcache has already been finalized: add URLs before finalize()")

    def _changed(self) -> None:
        for state in self._states:
            state.listed_paths = None
            state.served = None

    def _reserved(self, url: str) -> None:
        for state in self._states:
            _refuse_reserved(url, state.settings)

    # -- the URL list (Flask-Appcache's API) ---------------------------------------------------

    def add_urls(self, *urls: str) -> None:
        """List URLs rendered through the app (their bodies are hashed as the app serves them)."""
        self._check_not_finalized()
        for url in urls:
            check_url(url)
            self._reserved(url)
            self._url_list.add(ViewSource(url))
        self._changed()

    def add_folder(self, folder: str | os.PathLike[str], base: str = "/static") -> None:
        """List every file under ``folder`` as served under ``base`` (hashed from disk);
        dotfiles and dot-folders are left out, the order is sorted."""
        self._check_not_finalized()
        for source in walk_folder(folder, check_url(base)):
            self._reserved(source.url)
            self._url_list.add(source)
        self._changed()

    def add_excluded_urls(self, *prefixes: str) -> None:
        """Leave out URLs under these prefixes, by whole path segments, whenever they were
        added (before or after this call)."""
        self._check_not_finalized()
        for prefix in prefixes:
            self._url_list.exclude(check_url(prefix))
        self._changed()

    @property
    def urls(self) -> list[str]:
        """The listed URLs as added (before any versioned URL is found), in order."""
        return [source.url for source in self._url_list.listed()]

    # -- computing ----------------------------------------------------------------------------

    def finalize(self) -> None:
        """Compute the listing now, once: from here on the routes serve prepared bytes (except
        in debug mode, where they follow changes) and the URL list cannot change."""
        self._served(self._app(), force=True)
        self._finalized = True

    def hash(self) -> tuple[str, str | None]:
        """``(hash, updated)``: the hash over every listed URL's content, and the
        ``APPCACHE_UPDATED`` label (None unless configured; never a clock reading)."""
        listing = self._served(self._app()).listing
        return listing.hash, listing.updated

    def listing(self) -> Listing:
        """The resolved entries (URL, digest, versioned) of the app in context."""
        return self._served(self._app()).listing

    def manifest(self) -> str:
        """The manifest text, as the manifest route serves it."""
        return self._served(self._app()).manifest.decode("utf-8", "surrogateescape")

    def _served(self, app: Flask, force: bool = False) -> Served:
        state = _state(app)
        if state.served is not None and not force and self._finalized and not app.debug:
            return state.served
        # rendering the listed views through the app must not close its set-up (a finalize()
        # in create_app before other routes are added)
        with (
            requests_keep_setup_open(app),
            app.test_request_context(base_url=state.settings.url_base),
        ):
            listing = resolve(app, self._url_list.listed(), state.settings, state.files)
            served = Served(
                listing,
                render_manifest(listing, state.settings).encode("utf-8", "surrogateescape"),
                render_worker(listing, state.settings, app.debug).encode("utf-8"),
            )
        state.served = served
        state.listed_paths = listed_paths(e.url for e in listing.precache if not e.versioned)
        return served

    @property
    def finalized(self) -> bool:
        return self._finalized


def appcache_register(
    message: str = "A new version of this site is available.",
    button: str = "Reload",
    nonce: str | None = None,
) -> Markup:
    """``{{ appcache_register() }}``: the ``<script>`` that registers the service worker and
    offers a waiting version (``APPCACHE_UPDATE``: ``prompt`` or ``auto``)."""
    state = _state(current_app)
    if state.settings.worker_url is None:
        return Markup("")
    return register_script(
        url_for(WORKER_ENDPOINT), state.settings, message=message, button=button, nonce=nonce
    )
