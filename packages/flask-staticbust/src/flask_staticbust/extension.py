"""The :class:`StaticBust` extension: versioned ``url_for('static', ...)``, served immutable."""

from __future__ import annotations

import os
from typing import Any

from flask import Flask, Response, current_app, g, request
from markupsafe import Markup
from werkzeug.security import safe_join

from .config import Settings, read_settings
from .errors import StaticBustError
from .folders import Folder
from .serving import Served, finish, resolve
from .walk import inside

EXTENSION_KEY = "staticbust"


def is_static_endpoint(endpoint: str) -> bool:
    return endpoint == "static" or endpoint.endswith(".static")


class State:
    """Per-app state, in ``app.extensions["staticbust"]``: the settings and one
    :class:`~flask_staticbust.folders.Folder` per static endpoint (blueprints registered after
    ``init_app`` are found on their first use)."""

    def __init__(self, app: Flask, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self.folders: dict[str, Folder | None] = {}
        self.digest_mode = settings.mode == "digest"
        stamp_dir = settings.stamp_dir
        self.stamp_dir: str | None = (
            app.instance_path if stamp_dir is None else (stamp_dir or None)  # type: ignore[assignment]
        )

    def folder(self, endpoint: str) -> Folder | None:
        """The folder of a static endpoint (``"static"``, ``"<blueprint>.static"``), or None."""
        try:
            return self.folders[endpoint]
        except KeyError:
            pass
        if endpoint == "static":
            root = self.app.static_folder
        else:
            blueprint = self.app.blueprints.get(endpoint[: -len(".static")])
            root = blueprint.static_folder if blueprint is not None else None
        found = Folder(root, self.settings, self.stamp_dir) if root else None
        return self.folders.setdefault(endpoint, found)

    def mark_stale(self) -> None:
        for folder in self.folders.values():
            if folder is not None:
                folder.stale = True

    def url_defaults(self, endpoint: str, values: dict[str, Any]) -> None:
        """Rewrite the ``filename`` of a static endpoint to its versioned or digested name.

        Runs on every ``url_for`` of the app, static or not, so it does as little as it can:
        a known static endpoint is one dictionary lookup away from its folder, the others are
        rejected by one string comparison, and the name comes from one more lookup (digest
        mode) or one concatenation (a version prefix)."""
        folder = self.folders.get(endpoint)
        if folder is None:
            if endpoint[-6:] != "static" or (endpoint != "static" and endpoint[-7:] != ".static"):
                return
            folder = self.folder(endpoint)
            if folder is None:
                return
        filename = values.get("filename")
        if not isinstance(filename, str):
            return
        if folder.stale:
            folder.refresh()
        if self.digest_mode:
            values["filename"] = folder.names.get(filename, filename)
        else:
            values["filename"] = folder.prefix + filename

    def preprocess(self, endpoint: str | None, values: dict[str, Any] | None) -> None:
        """Before a static view: strip the version, refuse paths outside the folder, pick a
        precompressed sibling (see :mod:`flask_staticbust.serving`)."""
        if self.settings.auto_reload:
            self.mark_stale()
        if endpoint is None or values is None or not is_static_endpoint(endpoint):
            return
        folder = self.folder(endpoint)
        filename = values.get("filename")
        if folder is None or not isinstance(filename, str):
            return
        served = g._staticbust_served = Served()
        accept = request.headers.get("Accept-Encoding", "")
        values["filename"] = resolve(folder.ensure(), filename, accept, endpoint, served)

    def after_request(self, response: Response) -> Response:
        served: Served | None = g.pop("_staticbust_served", None)
        if served is None:
            return response
        settings = self.settings
        return finish(response, served, settings.max_age, settings.unknown_max_age)

    def served_path(self, filename: str, endpoint: str = "static") -> tuple[Folder, str, str]:
        """(folder, served name, path on disk) of ``filename``; an error if it doesn't exist."""
        folder = self.folder(endpoint)
        if folder is None:
            raise StaticBustError(f"{endpoint!r} is not a static endpoint with a folder")
        folder.ensure()
        served = (
            folder.table.names.get(filename, filename)
            if self.settings.mode == "digest"
            else filename
        )
        path = safe_join(folder.root, served)
        if path is None or not inside(folder.root_real, path) or not os.path.isfile(path):
            raise StaticBustError(f"{filename!r} is not a file of the static folder {folder.root}")
        return folder, served, path

    def sri(self, filename: str, endpoint: str = "static") -> str:
        folder, served, path = self.served_path(filename, endpoint)
        return folder.sri(served, path)


def get_state(app: Flask | None = None) -> State:
    app = app or current_app
    try:
        state: State = app.extensions[EXTENSION_KEY]
    except KeyError:
        raise RuntimeError(
            "flask-staticbust is not registered on this app: call StaticBust(app) or"
            " StaticBust().init_app(app) first"
        ) from None
    return state


def static_url(
    filename: str, integrity: bool = False, endpoint: str = "static", **values: Any
) -> str:
    """The versioned URL of a static file (``url_for(endpoint, filename=...)``).

    With ``integrity=True``, the quoted URL followed by its ``integrity`` and ``crossorigin``
    attributes, for ``<script src={{ static_url('app.js', integrity=True) }}>``."""
    url = current_app.url_for(endpoint, filename=filename, **values)
    if not integrity:
        return url
    value = get_state().sri(filename, endpoint)
    return Markup('"{}" integrity="{}" crossorigin="anonymous"').format(url, value)


def sri(filename: str, endpoint: str = "static") -> str:
    """The Subresource Integrity value (``sha384-...``) of the file served for ``filename``."""
    return get_state().sri(filename, endpoint)


class StaticBust:
    """Versioned static URLs for Flask: ``StaticBust(app)`` or ``StaticBust().init_app(app)``."""

    def __init__(self, app: Flask | None = None) -> None:
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        """Register on ``app``. Reads (defaults set with ``setdefault``, then validated):

        ``STATICBUST_MODE`` (``"route"``, ``"symlink"``, ``"digest"``), ``STATICBUST_STRATEGY``
        (``"content"``, ``"mtime"``), ``STATICBUST_VERSION``, ``STATICBUST_VERSION_LENGTH``,
        ``STATICBUST_HOST``, ``STATICBUST_MAX_AGE``, ``STATICBUST_UNKNOWN_MAX_AGE``,
        ``STATICBUST_OLD_VERSIONS``, ``STATICBUST_PREVIOUS_VERSIONS``, ``STATICBUST_AUTO_RELOAD``,
        ``STATICBUST_STAMP_DIR``, ``STATICBUST_DIGEST_ALGORITHM``, ``STATICBUST_DIGEST_LENGTH``,
        ``STATICBUST_MANIFEST``, ``STATICBUST_STRICT``, ``STATICBUST_JS_MODULES``,
        ``STATICBUST_VITE_MANIFEST``, ``STATICBUST_HASHED_PATTERN``, ``STATICBUST_PRECOMPRESSED``,
        ``STATICBUST_COMPRESS``, ``STATICBUST_COMPRESS_MIN_SIZE``, ``STATICBUST_GZIP_LEVEL``,
        ``STATICBUST_BROTLI_QUALITY``, ``STATICBUST_WORKERS`` (see the README's table).

        Raises :class:`~flask_staticbust.errors.ConfigError` (``KEY=value: reason``) for a bad
        setting, :class:`~flask_staticbust.errors.SymlinkError` when symlink mode cannot make its
        link, and ``RuntimeError`` when registered twice on one app."""
        if EXTENSION_KEY in app.extensions:
            raise RuntimeError("flask-staticbust is already registered on this app")
        settings = read_settings(app.config, app.debug)
        state = State(app, settings)
        if app.has_static_folder:
            folder = state.folder("static")
            if folder is not None:
                folder.ensure()  # a bad folder or a failing symlink fails here, at start-up
        app.extensions[EXTENSION_KEY] = state
        app.url_defaults(state.url_defaults)
        app.url_value_preprocessor(state.preprocess)
        app.after_request(state.after_request)
        app.add_template_global(static_url, "static_url")
        app.add_template_global(sri, "sri")
        if settings.host is not None:
            _serve_static_from(app, settings.host)
        from .cli import staticbust_cli

        app.cli.add_command(staticbust_cli)


def _serve_static_from(app: Flask, host: str) -> None:
    """Make ``url_for`` of static endpoints absolute on the CDN ``host`` (``url_defaults`` can
    change values, not the host, so ``app.url_for`` is wrapped; the path keeps SCRIPT_NAME)."""
    plain = app.url_for

    def url_for(
        endpoint: str,
        *,
        _anchor: str | None = None,
        _method: str | None = None,
        _scheme: str | None = None,
        _external: bool | None = None,
        **values: Any,
    ) -> str:
        if not is_static_endpoint(endpoint):
            return plain(
                endpoint,
                _anchor=_anchor,
                _method=_method,
                _scheme=_scheme,
                _external=_external,
                **values,
            )
        path = plain(endpoint, _anchor=_anchor, _method=_method, _external=False, **values)
        base = f"{_scheme}:{host}" if _scheme and host.startswith("//") else host
        return base + path

    app.url_for = url_for  # type: ignore[method-assign]
    app.jinja_env.globals["url_for"] = url_for
