"""The demo site's pages load their stylesheet from a versioned URL served immutable."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest
from flask import Flask

DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo"
# the package's sdist carries its tests but not the monorepo's demo
pytestmark = pytest.mark.skipif(not DEMO.is_dir(), reason="the demo site is not in this tree")


def demo_app() -> Flask:
    spec = importlib.util.spec_from_file_location("demo_app_staticbust", DEMO / "app.py")
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    app = module.create_app({"TESTING": True})
    assert isinstance(app, Flask)
    return app


@pytest.mark.parametrize("page", ["/", "/news", "/products/3"])
def test_demo_pages_link_a_versioned_immutable_stylesheet(page: str) -> None:
    client = demo_app().test_client()
    html = client.get(page).get_data(as_text=True)
    match = re.search(
        r'<link rel="stylesheet" href="(/static/([0-9a-f]{12})/css/demo\.css)">', html
    )
    assert match, html[:300]
    response = client.get(match.group(1))
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert b"font-family" in response.data
