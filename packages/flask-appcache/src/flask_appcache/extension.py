"""The ``Appcache`` extension: the URL list API of Flask-Appcache 0.1.2, the routes of the
manifest, the service worker and the web app manifest, and the headers of the listed URLs."""

from __future__ import annotations

import copy
import json
import logging
import os
from dataclasses import dataclass, field

from flask import Blueprint, Flask, Response, current_app, has_app_context, request, url_for
from markupsafe import Markup

from .config import DEFAULTS, Settings, read_settings
from .errors import AppcacheError
from .hashing import FileDigests
from .manifest import Listing, UrlList, render_manifest, resolve
from .sources import ViewSource, check_url, walk_folder
from .worker import register_script, render_worker

logger = logging.getLogger(__name__)

EXTENSION_KEY = "appcache"
MANIFEST_ENDPOINT = "manifest_appcache"  # Flask-Appcache's endpoint name: templates use it
WORKER_ENDPOINT = "appcache_worker"
WEBMANIFEST_ENDPOINT = "appcache_webmanifest"


@dataclass(frozen=True)
class Served:
    """What the routes answer for one computed listing: built once, sent as is."""

    listing: Listing
    manifest: bytes
    worker: bytes

    @property
    def manifest_etag(self) -> str:
        return self.listing.hash[:32]

    @property
    def worker_etag(self) -> str:
        return "w" + self.listing.hash[:32]


@dataclass
class AppState:
    """Per-app state, in ``app.extensions["appcache"]``."""

    extension: Appcache
    settings: Settings
    files: FileDigests = field(default_factory=FileDigests)
    served: Served | None = None
    # paths whose 200 answers get "Cache-Control: no-cache" (when they set none themselves)
    listed_paths: frozenset[str] | None = None


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
        self._list = UrlList()
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
        state = AppState(self, settings)
        app.extensions[EXTENSION_KEY] = state
        self._states.append(state)
        if self.app is None:
            self.app = app
        # The package's templates come after the app's: an app's own manifest.appcache wins.
        app.register_blueprint(Blueprint("appcache", __name__, template_folder="templates"))
        app.add_url_rule(settings.url, MANIFEST_ENDPOINT, self._serve_manifest)
        if settings.worker_url is not None:
            app.add_url_rule(settings.worker_url, WORKER_ENDPOINT, self._serve_worker)
        if settings.webmanifest is not None:
            app.add_url_rule(
                settings.webmanifest_url, WEBMANIFEST_ENDPOINT, self._serve_webmanifest
            )
        app.after_request(self._revalidate_listed)
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
        path = url.split("?", 1)[0]
        for state in self._states:
            reserved = (state.settings.url, state.settings.worker_url)
            if path in reserved:
                raise AppcacheError(f"{url} is the manifest or the service worker: never list it")

    # -- the URL list (Flask-Appcache's API) ---------------------------------------------------

    def add_urls(self, *urls: str) -> None:
        """List URLs rendered through the app (their bodies are hashed as the app serves them)."""
        self._check_not_finalized()
        for url in urls:
            check_url(url)
            self._reserved(url)
            self._list.add(ViewSource(url))
        self._changed()

    def add_folder(self, folder: str | os.PathLike[str], base: str = "/static") -> None:
        """List every file under ``folder`` as served under ``base`` (hashed from disk);
        dotfiles and dot-folders are left out, the order is sorted."""
        self._check_not_finalized()
        for source in walk_folder(folder, check_url(base)):
            self._reserved(source.url)
            self._list.add(source)
        self._changed()

    def add_excluded_urls(self, *prefixes: str) -> None:
        """Leave out URLs under these prefixes, by whole path segments, whenever they were
        added (before or after this call)."""
        self._check_not_finalized()
        for prefix in prefixes:
            self._list.exclude(check_url(prefix))
        self._changed()

    @property
    def urls(self) -> list[str]:
        """The listed URLs as added (before any versioned URL is found), in order."""
        return [source.url for source in self._list.listed()]

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
        with app.test_request_context(base_url=state.settings.url_base):
            listing = resolve(app, self._list.listed(), state.settings, state.files)
            served = Served(
                listing,
                render_manifest(listing, state.settings).encode("utf-8", "surrogateescape"),
                render_worker(listing, state.settings, app.debug).encode("utf-8"),
            )
        state.served = served
        state.listed_paths = frozenset(
            entry.url.split("?", 1)[0] for entry in listing.precache if not entry.versioned
        )
        return served

    # -- serving ------------------------------------------------------------------------------

    def _serve_or_503(self) -> Served | Response:
        try:
            return self._served(current_app)
        except AppcacheError as error:
            # A broken list must not become a broken cache: the browser keeps its old version.
            logger.error("flask-appcache cannot serve the manifest: %s", error)
            return Response(
                "the offline cache cannot be updated now\n",
                503,
                mimetype="text/plain",
                headers={"Cache-Control": "no-store"},
            )

    def _serve_manifest(self) -> Response:
        state = _state(current_app)
        if state.settings.kill_switch:
            # 410 marks an Application Cache obsolete: the browser deletes it
            return Response(
                "gone\n", 410, mimetype="text/plain", headers={"Cache-Control": "no-cache"}
            )
        served = self._serve_or_503()
        if isinstance(served, Response):
            return served
        return _prepared(
            served.manifest, served.manifest_etag, "text/cache-manifest; charset=utf-8"
        )

    def _serve_worker(self) -> Response:
        state = _state(current_app)
        served = self._serve_or_503()
        if isinstance(served, Response):
            return served
        response = _prepared(served.worker, served.worker_etag, "text/javascript; charset=utf-8")
        if state.settings.worker_scope is not None:
            response.headers["Service-Worker-Allowed"] = state.settings.worker_scope
        return response

    def _serve_webmanifest(self) -> Response:
        state = _state(current_app)
        body = json.dumps(state.settings.webmanifest, sort_keys=True, indent=1)
        return Response(
            body, mimetype="application/manifest+json", headers={"Cache-Control": "no-cache"}
        )

    def _revalidate_listed(self, response: Response) -> Response:
        state = _state(current_app)
        paths = state.listed_paths
        if paths is None:
            paths = state.listed_paths = frozenset(
                source.url.split("?", 1)[0] for source in self._list.listed()
            )
        if (
            response.status_code == 200
            and request.path in paths
            and "Cache-Control" not in response.headers
        ):
            # A listed URL is checked again on every use, so an update never copies a stale
            # body from the browser's HTTP cache into the offline cache.
            response.headers["Cache-Control"] = "no-cache"
            response.headers.pop("Expires", None)
        return response


def _prepared(body: bytes, etag: str, content_type: str) -> Response:
    quoted = f'"{etag}"'
    headers = [("Content-Type", content_type), ("Cache-Control", "no-cache"), ("ETag", quoted)]
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match is not None and request.if_none_match.contains(etag):
        return Response(status=304, headers=headers[1:])
    return Response(body, headers=headers)


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
