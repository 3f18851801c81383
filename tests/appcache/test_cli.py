"""``flask appcache manifest`` and ``flask appcache urls``."""

from __future__ import annotations

from pathlib import Path

from .helpers import listed_app, make_app


def test_manifest_command_prints_what_the_route_serves(tmp_path: Path) -> None:
    app, _ = listed_app(tmp_path)
    result = app.test_cli_runner().invoke(args=["appcache", "manifest"])
    assert result.exit_code == 0, result.output
    assert result.output == app.test_client().get("/manifest.appcache").get_data(as_text=True)


def test_urls_command_lists_each_url_with_its_revision(tmp_path: Path) -> None:
    app, appcache = listed_app(tmp_path, APPCACHE_FALLBACK={"/": "/offline"})
    result = app.test_cli_runner().invoke(args=["appcache", "urls"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        listing = appcache.listing()
    expected = [f"{entry.url}\t{entry.revision}" for entry in listing.precache]
    lines = result.stdout.splitlines()
    assert [line for line in lines if not line.startswith("#")] == expected
    assert [line.split("\t")[0] for line in expected] == [
        "/",
        "/about",
        "/static/app.js",
        "/static/css/app.css",
        "/offline",
    ]


def test_a_broken_url_is_reported_by_the_command_naming_it(tmp_path: Path) -> None:
    from flask_appcache import Appcache

    app = make_app(tmp_path)
    Appcache(app).add_urls("/moved")
    result = app.test_cli_runner().invoke(args=["appcache", "urls"])
    assert result.exit_code != 0
    assert "/moved" in result.output
