"""Apps with a static folder of their own under ``tmp_path``, for the staticbust tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask

from flask_staticbust import StaticBust


def write_files(root: Path, files: dict[str, str | bytes]) -> None:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)


def make_app(
    tmp_path: Path,
    files: dict[str, str | bytes] | None = None,
    *,
    init: bool = True,
    **config: Any,
) -> Flask:
    """A Flask app rooted in ``tmp_path/app`` with ``files`` in its static folder."""
    root = tmp_path / "app"
    static = root / "static"
    static.mkdir(parents=True, exist_ok=True)
    write_files(static, files if files is not None else {"css/app.css": "body { color: red }\n"})
    app = Flask(
        "staticbust_test_app", root_path=str(root), instance_path=str(tmp_path / "instance")
    )
    app.config.update(TESTING=True, **config)
    if init:
        StaticBust(app)
    return app


def static_url_of(app: Flask, filename: str, endpoint: str = "static", **values: Any) -> str:
    with app.test_request_context():
        return app.url_for(endpoint, filename=filename, **values)
