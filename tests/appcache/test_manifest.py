"""The Application Cache manifest: Flask-Appcache 0.1.2's API, with its flaws fixed."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from flask import Flask

from flask_appcache import Appcache, AppcacheError

from .helpers import listed_app, make_app


def manifest_lines(app: Flask) -> list[str]:
    response = app.test_client().get("/manifest.appcache")
    assert response.status_code == 200
    return response.get_data(as_text=True).splitlines()


def cache_section(lines: list[str]) -> list[str]:
    start = lines.index("CACHE:") + 1
    return [line for line in lines[start : lines.index("FALLBACK:")] if line]


def test_default_manifest_has_cache_fallback_and_network_sections(tmp_path: Path) -> None:
    app, _ = listed_app(tmp_path, APPCACHE_FALLBACK={"/": "/offline"})
    lines = manifest_lines(app)
    assert lines[0] == "CACHE MANIFEST"
    assert lines[1].startswith("# version ")
    assert cache_section(lines) == ["/", "/about", "/static/app.js", "/static/css/app.css"]
    assert lines[lines.index("FALLBACK:") + 1] == "/ /offline"
    assert lines[lines.index("NETWORK:") + 1] == "*"


def test_served_as_text_cache_manifest_revalidated_never_immutable(tmp_path: Path) -> None:
    app, appcache = listed_app(tmp_path)
    appcache.finalize()
    response = app.test_client().get("/manifest.appcache")
    assert response.mimetype == "text/cache-manifest"
    assert response.headers["Cache-Control"] == "no-cache"
    assert "immutable" not in response.headers["Cache-Control"]
    again = app.test_client().get(
        "/manifest.appcache", headers={"If-None-Match": response.headers["ETag"]}
    )
    assert again.status_code == 304
    assert again.data == b""


def test_app_template_is_rendered_with_urls_hash_and_updated(tmp_path: Path) -> None:
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "mine.appcache").write_text(
        "CACHE MANIFEST\n# {{ hash }} {{ updated }}\n{% for u in urls %}{{ u }}\n{% endfor %}"
    )
    app, appcache = listed_app(
        tmp_path,
        APPCACHE_TEMPLATE="mine.appcache",
        APPCACHE_UPDATED="2026-12-01",
        APPCACHE_URL="/app.manifest",
    )
    text = app.test_client().get("/app.manifest").get_data(as_text=True)
    hash_, updated = appcache.hash()
    assert updated == "2026-12-01"
    assert text.splitlines()[1] == f"# {hash_} 2026-12-01"
    assert text.splitlines()[2:] == ["/", "/about", "/static/app.js", "/static/css/app.css"]


def test_every_url_of_one_add_urls_call_is_hashed(tmp_path: Path) -> None:
    """0.1.2 hashed the last URL of add_urls("/a", "/b") len(urls) times (a late-binding
    closure): a change of /a's body left the hash as it was."""
    _, appcache = listed_app(tmp_path)
    first, _ = appcache.hash()
    (tmp_path / "pages" / "index.txt").write_text("home v2")  # "/" is the first of the call
    second, _ = appcache.hash()
    (tmp_path / "pages" / "about.txt").write_text("about v2")
    third, _ = appcache.hash()
    assert len({first, second, third}) == 3


def test_a_folder_file_change_changes_the_hash(tmp_path: Path) -> None:
    _, appcache = listed_app(tmp_path)
    before, _ = appcache.hash()
    (tmp_path / "static" / "css" / "app.css").write_text("body { color: red }")
    assert appcache.hash()[0] != before


def test_the_same_content_gives_the_same_hash_and_a_restored_file_its_old_hash(
    tmp_path: Path,
) -> None:
    _, appcache = listed_app(tmp_path)
    before, _ = appcache.hash()
    css = tmp_path / "static" / "css" / "app.css"
    original = css.read_text()
    css.write_text("changed")
    assert appcache.hash()[0] != before
    css.write_text(original)
    assert appcache.hash()[0] == before


def test_finalize_serves_prepared_bytes_without_hashing_again(tmp_path: Path) -> None:
    app, appcache = listed_app(tmp_path)
    calls: list[str] = []
    app.before_request(lambda: calls.append("request") and None)
    appcache.finalize()
    rendered = len(calls)
    assert rendered == 2  # "/" and "/about", once
    first = app.test_client().get("/manifest.appcache").data
    (tmp_path / "static" / "app.js").write_text("console.log('v2')")
    (tmp_path / "pages" / "index.txt").write_text("home v2")
    assert app.test_client().get("/manifest.appcache").data == first
    assert len(calls) == rendered + 2  # the two manifest requests themselves, nothing rendered


def test_in_debug_mode_a_finalized_manifest_follows_changes(tmp_path: Path) -> None:
    app, appcache = listed_app(tmp_path)
    appcache.finalize()
    app.debug = True
    first = app.test_client().get("/manifest.appcache").data
    (tmp_path / "static" / "app.js").write_text("console.log('v2')")
    assert app.test_client().get("/manifest.appcache").data != first


def test_adding_after_finalize_is_an_error(tmp_path: Path) -> None:
    _, appcache = listed_app(tmp_path)
    appcache.finalize()
    with pytest.raises(RuntimeError, match="finalized"):
        appcache.add_urls("/late")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("/moved", r"/moved .*30[0-9].*redirect to /"),  # Flask 3.2 redirects with 303
        ("/broken", "/broken .*500"),
        ("/nowhere", "/nowhere .*404"),
    ],
)
def test_a_listed_url_that_does_not_answer_200_is_an_error_naming_it(
    tmp_path: Path, url: str, message: str
) -> None:
    app = make_app(tmp_path)
    appcache = Appcache(app)
    appcache.add_urls("/", url)
    with pytest.raises(AppcacheError, match=message):
        appcache.finalize()
    assert issubclass(AppcacheError, ValueError)  # what 0.1.2 raised


def test_a_broken_url_at_request_time_answers_503_not_an_error_page(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    appcache = Appcache(app)
    appcache.add_urls("/broken")  # not finalized: found when the manifest is asked for
    for url in ("/manifest.appcache", "/sw.js"):
        response = app.test_client().get(url)
        assert response.status_code == 503
        assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("url", ["/manifest.appcache", "/sw.js", "/sw.js?x=1"])
def test_the_manifest_and_the_worker_cannot_be_listed(tmp_path: Path, url: str) -> None:
    _, appcache = listed_app(tmp_path)
    with pytest.raises(ValueError, match="never list"):
        appcache.add_urls(url)


@pytest.mark.parametrize("url", ["", "/a b", "/a\nNETWORK:", 3])
def test_a_url_that_cannot_stand_on_a_manifest_line_is_refused(tmp_path: Path, url: object) -> None:
    _, appcache = listed_app(tmp_path)
    with pytest.raises(AppcacheError):
        appcache.add_urls(url)  # type: ignore[arg-type]


def test_exclusions_match_whole_path_segments(tmp_path: Path) -> None:
    """0.1.2 matched string prefixes: /static/ignored also excluded /static/ignored_x."""
    for name in ("ignored/a.css", "ignored_x/b.css", "ignored.css", "kept.css"):
        (tmp_path / "static" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "static" / name).write_text(name)
    app, appcache = listed_app(tmp_path)
    appcache.add_excluded_urls("/static/ignored")
    urls = cache_section(manifest_lines(app))
    assert "/static/ignored/a.css" not in urls
    assert "/static/ignored_x/b.css" in urls
    assert "/static/ignored.css" in urls
    assert "/static/kept.css" in urls


def test_exclusions_apply_whatever_the_order_of_the_calls(tmp_path: Path) -> None:
    """0.1.2 checked exclusions only when a URL was added: excluding afterwards did nothing."""
    app_before = make_app(tmp_path / "one")
    before = Appcache(app_before)
    before.add_excluded_urls("/static/css")
    before.add_folder(str(tmp_path / "one" / "static"))
    app_after = make_app(tmp_path / "two")
    after = Appcache(app_after)
    after.add_folder(str(tmp_path / "two" / "static"))
    after.add_excluded_urls("/static/css/")
    assert before.urls == after.urls == ["/static/app.js"]
    assert cache_section(manifest_lines(app_before)) == cache_section(manifest_lines(app_after))


def test_dotfiles_and_dot_folders_are_not_listed(tmp_path: Path) -> None:
    static = tmp_path / "static"
    static.mkdir()
    (static / ".DS_Store").write_text("x")
    (static / ".git").mkdir()
    (static / ".git" / "HEAD").write_text("ref")
    (static / "css").mkdir()
    (static / "css" / ".hidden.css").write_text("x")
    _, appcache = listed_app(tmp_path)
    assert appcache.urls == ["/", "/about", "/static/app.js", "/static/css/app.css"]


def test_folder_urls_are_quoted_as_url_for_quotes_them(tmp_path: Path) -> None:
    (tmp_path / "static").mkdir()
    (tmp_path / "static" / "a b%.css").write_text("x")
    app, appcache = listed_app(tmp_path)
    assert "/static/a%20b%25.css" in appcache.urls
    assert app.test_client().get("/static/a%20b%25.css").status_code == 200


def test_headers_change_only_on_listed_urls(tmp_path: Path) -> None:
    """0.1.2's after_request hook rewrote Cache-Control on every response of the app."""
    app, appcache = listed_app(tmp_path)

    @app.get("/own")
    def own() -> tuple[str, int, dict[str, str]]:
        return "x", 200, {"Cache-Control": "max-age=60", "Expires": "Thu, 01 Jan 2099 00:00:00 GMT"}

    appcache.add_urls("/own")
    appcache.finalize()
    client = app.test_client()
    assert "Cache-Control" not in client.get("/unlisted").headers
    assert client.get("/").headers["Cache-Control"] == "no-cache"
    assert client.get("/static/app.js").headers["Cache-Control"] == "no-cache"
    assert "Expires" not in client.get("/static/app.js").headers
    own_headers = client.get("/own").headers
    assert own_headers["Cache-Control"] == "max-age=60"  # the app chose: left alone
    assert "Expires" in own_headers
    assert "Cache-Control" not in client.get("/moved").headers


def test_updated_is_a_configured_label_never_a_clock_reading(tmp_path: Path) -> None:
    app, appcache = listed_app(tmp_path)
    assert appcache.hash()[1] is None
    assert not any(line.startswith("# updated") for line in manifest_lines(app))
    app2, appcache2 = listed_app(tmp_path / "two", APPCACHE_UPDATED="release 2026-12-01")
    assert appcache2.hash()[1] == "release 2026-12-01"
    assert "# updated release 2026-12-01" in manifest_lines(app2)


SERVE = """
import sys, time
sys.path.insert(0, {tests!r})
from pathlib import Path
from helpers import make_app
from flask_appcache import Appcache
root = Path({root!r})
app = make_app(root)
appcache = Appcache(app)
appcache.add_urls(*[f"/static/f{{i}}.txt" for i in range(40)])
appcache.add_urls("/", "/about")
appcache.add_folder(str(root / "static"))
appcache.finalize()
client = app.test_client()
sys.stdout.buffer.write(client.get("/manifest.appcache").data + b"\\0" + client.get("/sw.js").data)
"""


@pytest.mark.slow
def test_two_processes_with_different_hash_seeds_serve_identical_bytes(tmp_path: Path) -> None:
    """0.1.2 kept the URLs in a set: the manifest's order changed with PYTHONHASHSEED, and
    `updated` was each process's start time, so two workers served different manifests."""
    root = tmp_path / "site"
    (root / "static").mkdir(parents=True)
    for i in range(40):
        (root / "static" / f"f{i}.txt").write_text(f"file {i}")
    script = SERVE.format(tests=str(Path(__file__).parent), root=str(root))
    outputs = []
    for seed in ("1", "2"):
        # a fresh mtime between the runs: nothing of the clock or of the stat may leak in
        os.utime(root / "static" / "f0.txt")
        env = {**os.environ, "PYTHONHASHSEED": seed}
        result = subprocess.run(
            [sys.executable, "-c", textwrap.dedent(script)],
            env=env,
            capture_output=True,
            check=True,
        )
        outputs.append(result.stdout)
    assert outputs[0] == outputs[1]
    assert b"/static/f39.txt" in outputs[0]


def test_init_app_twice_is_an_error(tmp_path: Path) -> None:
    app, _ = listed_app(tmp_path)
    with pytest.raises(RuntimeError, match="already set up"):
        Appcache(app)


def test_set_up_later_with_init_app(tmp_path: Path) -> None:
    appcache = Appcache()
    appcache.add_urls("/")
    app = make_app(tmp_path)
    appcache.init_app(app)
    assert cache_section(manifest_lines(app)) == ["/"]


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("APPCACHE_URL", "manifest"),
        ("APPCACHE_UPDATE", "sometimes"),
        ("APPCACHE_FALLBACK", ["/offline"]),
        ("APPCACHE_NETWORK", "/api"),
        ("APPCACHE_RUNTIME_MAX_BYTES", 0),
        ("APPCACHE_KILL_SWITCH", "yes"),
        ("APPCACHE_WORKER_URL", "/manifest.appcache"),
        ("APPCACHE_CACHE_NAME", "a b"),
    ],
)
def test_bad_config_fails_at_init_app_naming_the_key(
    tmp_path: Path, key: str, value: object
) -> None:
    app = make_app(tmp_path, **{key: value})
    with pytest.raises(ValueError, match=key):
        Appcache(app)


def test_kill_switch_makes_the_application_cache_obsolete(tmp_path: Path) -> None:
    app, _ = listed_app(tmp_path, APPCACHE_KILL_SWITCH=True)
    response = app.test_client().get("/manifest.appcache")
    assert response.status_code == 410  # HTML's appcache update: 404/410 mark the cache obsolete


def test_finalize_leaves_the_app_open_to_more_routes(tmp_path: Path) -> None:
    """finalize() renders the listed views through the app; Flask must not take that for the
    app's first request (after which it refuses new routes)."""
    app, appcache = listed_app(tmp_path)
    appcache.finalize()

    @app.get("/added-later")
    def added_later() -> str:
        return "later"

    assert app.test_client().get("/added-later").data == b"later"


def test_the_manifest_listed_before_init_app_is_refused_there(tmp_path: Path) -> None:
    """Rendering the manifest to hash the manifest would never end."""
    appcache = Appcache()
    appcache.add_urls("/", "/manifest.appcache")
    app = make_app(tmp_path)
    with pytest.raises(AppcacheError, match="never list"):
        appcache.init_app(app)
    assert "appcache" not in app.extensions  # nothing half set up


def test_a_listed_file_that_disappears_is_an_error_naming_it_and_a_503(tmp_path: Path) -> None:
    app, appcache = listed_app(tmp_path)
    (tmp_path / "static" / "app.js").unlink()
    assert app.test_client().get("/manifest.appcache").status_code == 503
    with pytest.raises(AppcacheError, match=r"/static/app\.js"):
        appcache.finalize()


def test_a_missing_manifest_template_is_an_error_naming_the_key(tmp_path: Path) -> None:
    app, appcache = listed_app(tmp_path, APPCACHE_TEMPLATE="nowhere.appcache")
    assert app.test_client().get("/manifest.appcache").status_code == 503
    with pytest.raises(AppcacheError, match=r"APPCACHE_TEMPLATE='nowhere\.appcache'"):
        appcache.finalize()
