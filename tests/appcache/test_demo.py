"""The demo site's offline set-up: its home page and its stylesheet, whose URL flask-staticbust
versions, are precached (found through url_for alone); other pages fall back to /offline."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path
from typing import Any

from flask import Flask

DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo"


def demo_app() -> Flask:
    spec = importlib.util.spec_from_file_location("demo_app_offline", DEMO / "app.py")
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    app = module.create_app({"TESTING": True})
    assert isinstance(app, Flask)
    return app


def test_the_demo_precaches_its_home_page_and_its_versioned_stylesheet() -> None:
    app = demo_app()
    client = app.test_client()
    script = client.get("/sw.js").get_data(as_text=True)
    match = re.search(r"^const SETTINGS = (\{.*?^\});$", script, re.S | re.M)
    assert match
    settings: dict[str, Any] = json.loads(match.group(1))
    entries = {entry["url"]: entry for entry in settings["precache"]}
    with app.test_request_context():
        from flask import url_for

        stylesheet = url_for("static", filename="css/demo.css")
    assert stylesheet != "/static/css/demo.css"  # the demo's staticbust versions it
    assert entries[stylesheet]["revision"] is None  # the URL carries the version
    assert entries["/"]["revision"]
    assert "/offline" in entries
    assert stylesheet in client.get("/manifest.appcache").get_data(as_text=True)
    assert "appcache-update" in client.get("/").get_data(as_text=True)
