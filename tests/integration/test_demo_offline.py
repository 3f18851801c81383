"""The demo site's offline set-up: its home page and its stylesheet, whose URL flask-staticbust
versions, are precached (found through url_for alone); other pages fall back to /offline."""

from __future__ import annotations

import json
import re
from typing import Any

from .test_demo import make_app as demo_app


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
