"""A small app for the flask-appcache tests: a static folder of its own and a few views."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask, redirect

from flask_appcache import Appcache


def make_app(root: Path, **config: Any) -> Flask:
    """An app whose static folder is ``root/static`` (with ``css/app.css`` and ``app.js``), with
    views ``/`` and ``/offline`` whose bodies come from ``root/pages/<name>.txt`` (so a test can
    change them), ``/moved`` (a redirect) and ``/broken`` (a 500)."""
    static = root / "static"
    (static / "css").mkdir(parents=True, exist_ok=True)
    pages = root / "pages"
    pages.mkdir(exist_ok=True)
    for path, text in {
        static / "css" / "app.css": "body { color: black }",
        static / "app.js": "console.log('v1')",
        pages / "index.txt": "home v1",
        pages / "offline.txt": "you are offline",
        pages / "about.txt": "about v1",
    }.items():
        if not path.exists():
            path.write_text(text)
    app = Flask(__name__, static_folder=str(static), root_path=str(root))
    app.config.update(config)

    @app.get("/")
    def index() -> str:
        return (pages / "index.txt").read_text()

    @app.get("/about")
    def about() -> str:
        return (pages / "about.txt").read_text()

    @app.get("/offline")
    def offline() -> str:
        return (pages / "offline.txt").read_text()

    @app.get("/unlisted")
    def unlisted() -> str:
        return "not in the manifest"

    @app.get("/moved")
    def moved() -> Any:
        return redirect("/")

    @app.get("/broken")
    def broken() -> Any:
        return "no", 500

    return app


def listed_app(root: Path, **config: Any) -> tuple[Flask, Appcache]:
    """``make_app`` with an Appcache listing ``/``, ``/about`` and the static folder."""
    app = make_app(root, **config)
    appcache = Appcache(app)
    appcache.add_urls("/", "/about")
    appcache.add_folder(str(root / "static"))
    return app, appcache
