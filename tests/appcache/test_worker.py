"""The service worker's script, its precache list and the page-side registration helper (their
behaviour in a browser is in test_browser.py)."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, render_template_string

from flask_appcache import Appcache

from .helpers import listed_app, make_app


def worker_settings(app: Flask) -> dict[str, Any]:
    response = app.test_client().get("/sw.js")
    assert response.status_code == 200
    match = re.search(
        r"^const SETTINGS = (\{.*?^\});$", response.get_data(as_text=True), re.S | re.M
    )
    assert match, "no SETTINGS object in sw.js"
    settings: dict[str, Any] = json.loads(match.group(1))
    return settings


def test_worker_is_javascript_revalidated_on_every_check(tmp_path: Path) -> None:
    app, appcache = listed_app(tmp_path)
    appcache.finalize()
    response = app.test_client().get("/sw.js")
    assert response.mimetype == "text/javascript"
    assert response.headers["Cache-Control"] == "no-cache"
    assert "Service-Worker-Allowed" not in response.headers
    again = app.test_client().get("/sw.js", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_precache_entries_carry_the_revision_and_integrity_of_what_the_app_serves(
    tmp_path: Path,
) -> None:
    app, _ = listed_app(tmp_path, APPCACHE_FALLBACK={"/": "/offline"})
    entries = worker_settings(app)["precache"]
    urls = [entry["url"] for entry in entries]
    assert urls == ["/", "/about", "/static/app.js", "/static/css/app.css", "/offline"]
    client = app.test_client()
    for entry in entries:
        body = client.get(entry["url"]).data
        digest = hashlib.sha256(body).digest()
        assert entry["integrity"] == "sha256-" + base64.b64encode(digest).decode()
        assert entry["revision"] == digest.hex()[:20]


def test_a_changed_file_changes_its_revision_and_only_its_own(tmp_path: Path) -> None:
    app, _ = listed_app(tmp_path)
    before = {e["url"]: e["revision"] for e in worker_settings(app)["precache"]}
    (tmp_path / "static" / "app.js").write_text("console.log('v2')")
    after = {e["url"]: e["revision"] for e in worker_settings(app)["precache"]}
    assert [url for url in before if before[url] != after[url]] == ["/static/app.js"]


def path_versioned_app(root: Path) -> Flask:
    """Stands for a cache-busting extension: url_for('static') builds /static/v7/<file>."""
    app = make_app(root)

    def serve(filename: str, version: str | None = None) -> Any:
        response = app.send_static_file(filename)
        del response.headers["Cache-Control"]  # as if the versioning extension chose nothing
        return response

    app.view_functions["static"] = serve
    app.add_url_rule("/static/<version>/<path:filename>", endpoint="static")

    @app.url_defaults
    def static_version(endpoint: str, values: dict[str, Any]) -> None:
        if endpoint == "static":
            values.setdefault("version", "v7")

    return app


def test_urls_that_carry_a_version_are_listed_so_and_need_no_revision(tmp_path: Path) -> None:
    app = path_versioned_app(tmp_path)
    appcache = Appcache(app)
    appcache.add_urls("/")
    appcache.add_folder(str(tmp_path / "static"))
    entries = worker_settings(app)["precache"]
    assert [(e["url"], e["revision"] is None) for e in entries] == [
        ("/", False),
        ("/static/v7/app.js", True),
        ("/static/v7/css/app.css", True),
    ]
    assert all(e["integrity"] for e in entries)
    assert "/static/v7/app.js" in app.test_client().get("/manifest.appcache").get_data(as_text=True)
    # the versioned URL serves the same bytes the integrity was computed from
    body = app.test_client().get("/static/v7/app.js").data
    assert entries[1]["integrity"].endswith(
        base64.b64encode(hashlib.sha256(body).digest()).decode()
    )
    # and its headers are the versioning extension's business, not ours
    assert "Cache-Control" not in app.test_client().get("/static/v7/app.js").headers


def test_network_fallback_and_runtime_settings_reach_the_worker(tmp_path: Path) -> None:
    app, _ = listed_app(
        tmp_path,
        APPCACHE_NETWORK=["/api", "*"],
        APPCACHE_FALLBACK={"/": "/offline", "/docs": "/about"},
        APPCACHE_RUNTIME_CACHE=True,
        APPCACHE_RUNTIME_MAX_ENTRIES=7,
        APPCACHE_RUNTIME_MAX_BYTES=1000,
        APPCACHE_CACHE_NAME="shop",
    )
    settings = worker_settings(app)
    assert settings["network"] == [
        "/api"
    ]  # "*" is AppCache's "the rest online": a worker's default
    assert settings["fallback"] == [["/docs", "/about"], ["/", "/offline"]]  # longest prefix first
    assert settings["runtime"] == {"maxBytes": 1000, "maxEntries": 7}
    assert settings["cacheName"] == "shop"
    assert worker_settings(listed_app(tmp_path / "b")[0])["runtime"] is None


def test_integrity_can_be_turned_off(tmp_path: Path) -> None:
    app, _ = listed_app(tmp_path, APPCACHE_INTEGRITY=False)
    assert all(e["integrity"] is None for e in worker_settings(app)["precache"])


def test_debug_mode_precaches_nothing_and_logs(tmp_path: Path) -> None:
    app, _ = listed_app(tmp_path)
    app.debug = True
    settings = worker_settings(app)
    assert settings["precache"] == []
    assert settings["debug"] is True


def test_scope_is_allowed_by_header_and_passed_to_register(tmp_path: Path) -> None:
    app, _ = listed_app(tmp_path, APPCACHE_WORKER_URL="/static/sw.js", APPCACHE_WORKER_SCOPE="/")
    response = app.test_client().get("/static/sw.js")
    assert response.headers["Service-Worker-Allowed"] == "/"
    with app.test_request_context():
        script = render_template_string("{{ appcache_register() }}")
    assert '"scope": "/"' in script
    assert '"url": "/static/sw.js"' in script


def test_kill_switch_serves_a_worker_that_clears_its_caches_and_unregisters(tmp_path: Path) -> None:
    app, _ = listed_app(tmp_path, APPCACHE_KILL_SWITCH=True, APPCACHE_CACHE_NAME="shop")
    text = app.test_client().get("/sw.js").get_data(as_text=True)
    assert "registration.unregister()" in text
    assert 'const CACHE_NAME = "shop";' in text
    assert "precache" not in text.lower().split("*/", 1)[1]
    with app.test_request_context():
        script = render_template_string("{{ appcache_register() }}")
    assert '"kill": true' in script


def test_register_helper_is_one_inline_script_with_options(tmp_path: Path) -> None:
    app, _ = listed_app(tmp_path, APPCACHE_UPDATE="auto")
    with app.test_request_context():
        script = render_template_string(
            "{{ appcache_register(message='New </script> version', nonce='n0nce') }}"
        )
    assert script.startswith('<script nonce="n0nce">')
    assert script.count("</script>") == 1  # the message cannot close the element
    assert '"update": "auto"' in script
    assert "SKIP_WAITING" in script


def test_no_worker_url_means_no_worker_route_and_no_script(tmp_path: Path) -> None:
    app, _ = listed_app(tmp_path, APPCACHE_WORKER_URL=None)
    assert app.test_client().get("/sw.js").status_code == 404
    with app.test_request_context():
        assert render_template_string("{{ appcache_register() }}") == ""


def test_web_app_manifest_from_config(tmp_path: Path) -> None:
    manifest = {"name": "Demo", "icons": [{"src": "/static/icon.png", "sizes": "192x192"}]}
    app, _ = listed_app(tmp_path, APPCACHE_WEBMANIFEST=manifest)
    response = app.test_client().get("/manifest.webmanifest")
    assert response.mimetype == "application/manifest+json"
    assert response.json == manifest
    assert make_app(tmp_path / "b").test_client().get("/manifest.webmanifest").status_code == 404


@pytest.mark.parametrize(
    "config", [{}, {"APPCACHE_KILL_SWITCH": True}, {"APPCACHE_RUNTIME_CACHE": True}]
)
def test_generated_scripts_are_valid_javascript(tmp_path: Path, config: dict[str, Any]) -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: cannot parse the generated scripts")
    app, _ = listed_app(tmp_path, APPCACHE_FALLBACK={"/": "/offline"}, **config)
    (tmp_path / "sw.js").write_bytes(app.test_client().get("/sw.js").data)
    with app.test_request_context():
        script = render_template_string("{{ appcache_register() }}")
    inner = script.split(">", 1)[1].rsplit("</script>", 1)[0]
    (tmp_path / "register.js").write_text(inner)
    for name in ("sw.js", "register.js"):
        result = subprocess.run(
            [node, "--check", str(tmp_path / name)], capture_output=True, text=True
        )
        assert result.returncode == 0, result.stderr


def test_a_config_change_alone_changes_the_worker_and_its_etag(tmp_path: Path) -> None:
    """The browser revalidates sw.js with If-None-Match: an ETag of the content hash alone
    would answer 304 to a worker whose settings changed, and the browser would keep the old."""
    plain, _ = listed_app(tmp_path)
    runtime, _ = listed_app(tmp_path, APPCACHE_RUNTIME_CACHE=True)
    fallback, _ = listed_app(tmp_path, APPCACHE_FALLBACK={"/": "/about"})
    etags = {app.test_client().get("/sw.js").headers["ETag"] for app in (plain, runtime, fallback)}
    assert len(etags) == 3
    old = plain.test_client().get("/sw.js").headers["ETag"]
    assert runtime.test_client().get("/sw.js", headers={"If-None-Match": old}).status_code == 200
    manifest = [app.test_client().get("/manifest.appcache") for app in (plain, fallback)]
    assert manifest[0].headers["ETag"] != manifest[1].headers["ETag"]  # FALLBACK is in it
