"""The extension's contract: registration, config, versioned url_for, serving and headers."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from flask import Blueprint, Flask, render_template_string

from flask_staticbust import ConfigError, StaticBust, get_state

from .helpers import make_app, static_url_of, write_files

IMMUTABLE = "public, max-age=31536000, immutable"


def version_of(app: Flask) -> str:
    folder = get_state(app).folder("static")
    assert folder is not None
    return folder.ensure().version


def test_state_lives_in_app_extensions(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    assert app.extensions["staticbust"] is get_state(app)


def test_init_app_later_and_defaults_are_setdefault(tmp_path: Path) -> None:
    app = make_app(tmp_path, init=False, STATICBUST_MAX_AGE=600)
    StaticBust().init_app(app)
    assert app.config["STATICBUST_MODE"] == "route"
    assert app.config["STATICBUST_MAX_AGE"] == 600  # the app's own value is kept


def test_registering_twice_is_a_clear_error(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    with pytest.raises(RuntimeError, match="already registered"):
        StaticBust(app)


def test_missing_init_app_says_what_to_do(tmp_path: Path) -> None:
    app = make_app(tmp_path, init=False)
    with pytest.raises(RuntimeError, match="init_app"):
        get_state(app)


@pytest.mark.parametrize(
    ("key", "value", "reason"),
    [
        ("STATICBUST_MODE", "routes", "must be one of"),
        ("STATICBUST_STRATEGY", "git", "must be one of"),
        ("STATICBUST_VERSION", "../x", "a version is"),
        ("STATICBUST_VERSION", "", "a version is"),
        ("STATICBUST_MAX_AGE", -1, "integer"),
        ("STATICBUST_MAX_AGE", "1", "integer"),
        ("STATICBUST_DIGEST_LENGTH", 3, "integer"),
        ("STATICBUST_DIGEST_ALGORITHM", "nope", "hashlib"),
        ("STATICBUST_HOST", "ftp://cdn", "host"),
        ("STATICBUST_OLD_VERSIONS", "gone", "must be one of"),
        ("STATICBUST_COMPRESS", "gzip", "list"),
        ("STATICBUST_STRICT", "yes", "True or False"),
        ("STATICBUST_MANIFEST", "../m.json", "relative"),
        ("STATICBUST_HASHED_PATTERN", "(", "regular expression"),
    ],
)
def test_bad_config_fails_at_init_app_naming_key_and_value(
    tmp_path: Path, key: str, value: object, reason: str
) -> None:
    app = make_app(tmp_path, init=False, **{key: value})
    with pytest.raises(ConfigError) as caught:
        StaticBust(app)
    message = str(caught.value)
    assert message.startswith(f"{key}={value!r}: ")
    assert reason in message


def test_url_for_static_carries_the_content_version(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    version = version_of(app)
    assert re.fullmatch(r"[0-9a-f]{12}", version)
    assert static_url_of(app, "css/app.css") == f"/static/{version}/css/app.css"


def test_content_version_is_the_same_in_another_process(tmp_path: Path) -> None:
    app = make_app(
        tmp_path, {"a.css": "a", "sub/b.js": "b", "z.txt": "z"}, STATICBUST_STAMP_DIR=False
    )
    script = (
        "import sys; from flask_staticbust.versions import ContentVersioner;"
        "print(ContentVersioner(sys.argv[1], None, 12).compute())"
    )
    other = subprocess.run(
        [sys.executable, "-c", script, app.static_folder or ""],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONHASHSEED": "123"},
    )
    assert other.stdout.strip() == version_of(app)


def test_content_version_depends_on_names_and_bytes_not_times(tmp_path: Path) -> None:
    first = make_app(tmp_path / "1", {"a.css": "x", "b.css": "y"})
    second = make_app(tmp_path / "2", {"b.css": "y", "a.css": "x"})
    os.utime(Path(second.static_folder or "") / "a.css", (1, 1))
    renamed = make_app(tmp_path / "3", {"a.css": "x", "c.css": "y"})
    changed = make_app(tmp_path / "4", {"a.css": "x", "b.css": "Y"})
    assert version_of(first) == version_of(second)
    assert len({version_of(first), version_of(renamed), version_of(changed)}) == 3


def test_mtime_strategy_is_the_newest_modification_second(tmp_path: Path) -> None:
    app = make_app(tmp_path, {"a.css": "a", "b.css": "b"}, init=False, STATICBUST_STRATEGY="mtime")
    static = Path(app.static_folder or "")
    os.utime(static / "a.css", (1_600_000_000, 1_600_000_000))
    os.utime(static / "b.css", (1_700_000_000.7, 1_700_000_000.7))
    StaticBust(app)
    assert static_url_of(app, "a.css") == "/static/1700000000/a.css"


def test_explicit_version_is_used_as_given(tmp_path: Path) -> None:
    app = make_app(tmp_path, STATICBUST_VERSION="3f2a9c1b")
    assert static_url_of(app, "css/app.css") == "/static/3f2a9c1b/css/app.css"
    assert app.test_client().get("/static/3f2a9c1b/css/app.css").status_code == 200


def test_versioned_url_is_immutable_with_etag(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    response = app.test_client().get(static_url_of(app, "css/app.css"))
    assert response.status_code == 200
    assert response.data == b"body { color: red }\n"
    assert response.headers["Cache-Control"] == IMMUTABLE
    assert response.headers["ETag"]
    assert "Expires" not in response.headers


def test_versioned_url_answers_304_to_its_etag(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    client = app.test_client()
    url = static_url_of(app, "css/app.css")
    etag = client.get(url).headers["ETag"]
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.headers["Cache-Control"] == IMMUTABLE


def test_unversioned_url_keeps_flasks_default(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    plain = Flask("plain", root_path=str(tmp_path / "app"))
    ours = app.test_client().get("/static/css/app.css")
    theirs = plain.test_client().get("/static/css/app.css")
    assert ours.status_code == theirs.status_code == 200
    assert ours.headers["Cache-Control"] == theirs.headers["Cache-Control"]
    assert "immutable" not in ours.headers["Cache-Control"]


def test_old_version_redirects_to_the_current_url_never_immutable(tmp_path: Path) -> None:
    app = make_app(tmp_path, STATICBUST_PREVIOUS_VERSIONS=["0ld0ld0ld0ld"])
    response = app.test_client().get("/static/0ld0ld0ld0ld/css/app.css")
    assert response.status_code == 302
    assert response.headers["Location"] == static_url_of(app, "css/app.css")
    assert "immutable" not in response.headers.get("Cache-Control", "")


def test_old_version_gives_404_when_configured(tmp_path: Path) -> None:
    app = make_app(
        tmp_path, STATICBUST_PREVIOUS_VERSIONS=["0ld0ld0ld0ld"], STATICBUST_OLD_VERSIONS="404"
    )
    response = app.test_client().get("/static/0ld0ld0ld0ld/css/app.css")
    assert response.status_code == 404
    assert "immutable" not in response.headers["Cache-Control"]


def test_version_seen_by_an_earlier_process_counts_as_old(tmp_path: Path) -> None:
    before = make_app(tmp_path)
    old = version_of(before)
    write_files(Path(before.static_folder or ""), {"css/app.css": "body { color: blue }\n"})
    after = make_app(tmp_path, {})  # same instance folder: the stamp file remembers `old`
    assert version_of(after) != old
    response = after.test_client().get(f"/static/{old}/css/app.css")
    assert response.status_code == 302


def test_unknown_version_is_404_with_a_short_max_age(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    response = app.test_client().get("/static/ffffffffffff/css/app.css")
    assert response.status_code == 404
    assert response.headers["Cache-Control"] == "public, max-age=60"


def test_real_subfolder_is_not_taken_for_a_version(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    assert app.test_client().get("/static/css/app.css").status_code == 200


def test_blueprint_static_endpoints_registered_after_init_app(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    bp_static = tmp_path / "bp_static"
    write_files(bp_static, {"bp.js": "let b = 1;\n"})
    blueprint = Blueprint("shop", __name__, static_folder=str(bp_static), url_prefix="/shop")
    app.register_blueprint(blueprint)
    url = static_url_of(app, "bp.js", endpoint="shop.static")
    assert re.fullmatch(r"/shop/bp_static/[0-9a-f]{12}/bp\.js", url)
    response = app.test_client().get(url)
    assert response.data == b"let b = 1;\n"
    assert response.headers["Cache-Control"] == IMMUTABLE
    assert url.split("/")[3] != version_of(app)  # each folder has its own version


def test_external_urls_and_script_name_mounts(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    version = version_of(app)
    with app.test_request_context("/", base_url="http://example.com/mount"):
        assert (
            app.url_for("static", filename="css/app.css") == f"/mount/static/{version}/css/app.css"
        )
        assert (
            app.url_for("static", filename="css/app.css", _external=True)
            == f"http://example.com/mount/static/{version}/css/app.css"
        )
    client = app.test_client()
    response = client.get(f"/static/{version}/css/app.css", environ_base={"SCRIPT_NAME": "/mount"})
    assert response.headers["Cache-Control"] == IMMUTABLE


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("cdn.example.com", "//cdn.example.com"),
        ("https://cdn.example.com/", "https://cdn.example.com"),
    ],
)
def test_cdn_host(tmp_path: Path, host: str, expected: str) -> None:
    app = make_app(tmp_path, STATICBUST_HOST=host)
    version = version_of(app)
    with app.test_request_context("/", base_url="http://example.com/mount"):
        assert app.url_for("static", filename="css/app.css") == (
            f"{expected}/mount/static/{version}/css/app.css"
        )
        assert render_template_string("{{ url_for('static', filename='css/app.css') }}").startswith(
            expected
        )
        app.add_url_rule("/page", "page", lambda: "")
        assert app.url_for("page") == "/mount/page"


def test_jinja_static_url_and_sri(tmp_path: Path) -> None:
    import base64
    import hashlib

    app = make_app(tmp_path)
    expected_sri = (
        "sha384-" + base64.b64encode(hashlib.sha384(b"body { color: red }\n").digest()).decode()
    )
    with app.test_request_context():
        url = app.url_for("static", filename="css/app.css")
        assert render_template_string("{{ static_url('css/app.css') }}") == url
        assert render_template_string("{{ sri('css/app.css') }}") == expected_sri
        assert render_template_string(
            "<link href={{ static_url('css/app.css', integrity=True) }}>"
        ) == (f'<link href="{url}" integrity="{expected_sri}" crossorigin="anonymous">')


def test_debug_mode_follows_file_changes_without_restart(tmp_path: Path) -> None:
    app = make_app(tmp_path, DEBUG=True)
    client = app.test_client()
    before = static_url_of(app, "css/app.css")
    write_files(Path(app.static_folder or ""), {"css/app.css": "body { color: green }\n"})
    client.get("/nothing-here")
    after = static_url_of(app, "css/app.css")
    assert before != after
    assert client.get(after).data == b"body { color: green }\n"
    assert client.get(before).status_code == 302  # the version of a moment ago is old now


def test_production_mode_keeps_the_version_of_start_up(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    before = static_url_of(app, "css/app.css")
    write_files(Path(app.static_folder or ""), {"css/app.css": "body { color: green }\n"})
    app.test_client().get("/nothing-here")
    assert static_url_of(app, "css/app.css") == before


def test_restart_with_unchanged_files_reads_hashes_from_the_stamp_file(tmp_path: Path) -> None:
    app = make_app(tmp_path, {"a.css": "a" * 1000})
    stamps = list((tmp_path / "instance").glob("staticbust-*.stamps"))
    assert len(stamps) == 1
    assert not list(Path(app.static_folder or "").glob("*.stamps"))  # never inside static
    again = make_app(tmp_path, {})
    assert version_of(again) == version_of(app)


def test_stamp_dir_not_writable_falls_back_to_memory(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file where a folder should be")
    app = make_app(tmp_path, STATICBUST_STAMP_DIR=str(blocker / "sub"))
    assert re.fullmatch(r"[0-9a-f]{12}", version_of(app))
    assert app.test_client().get(static_url_of(app, "css/app.css")).status_code == 200


def test_racy_stamps_are_hashed_again(tmp_path: Path) -> None:
    """A change in the same clock tick with the same size must still change the version."""
    app = make_app(tmp_path, {"a.css": "aaaa"}, DEBUG=True)
    path = Path(app.static_folder or "") / "a.css"
    info = path.stat()
    before = version_of(app)
    path.write_text("bbbb")
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))
    app.test_client().get("/")
    assert version_of(app) != before


def test_non_static_endpoints_are_untouched(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    app.add_url_rule("/files/<path:filename>", "files", lambda filename: filename)
    assert static_url_of(app, "x.css", endpoint="files") == "/files/x.css"


def _old_tree(root: Path, files: dict[str, str], seconds_ago: int = 60) -> None:
    """Files (and the folders holding them) older than the racy window of the stamps, so a
    restart may trust them."""
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        os.utime(path, (time.time() - seconds_ago, time.time() - seconds_ago))
    for folder in [root, *(p for p in root.rglob("*") if p.is_dir())]:
        os.utime(folder, (time.time() - seconds_ago, time.time() - seconds_ago))


def test_restart_with_unchanged_files_reads_only_the_stamp_header(tmp_path: Path) -> None:
    from flask_staticbust.versions import ContentVersioner

    root, stamp = tmp_path / "static", tmp_path / "instance" / "s.stamps"
    _old_tree(root, {"a.css": "a", "sub/b.js": "b"})
    version = ContentVersioner(str(root), str(stamp), 12).compute()
    header = stamp.read_text().splitlines()[0]
    stamp.write_text(header + "\nnot the per-file stamps\n")  # the slow path would rewrite it
    written = stamp.stat().st_mtime_ns
    assert ContentVersioner(str(root), str(stamp), 12).compute() == version
    assert stamp.stat().st_mtime_ns == written
    assert stamp.read_text().endswith("not the per-file stamps\n")


def test_restart_after_a_change_of_same_size_gives_a_new_version(tmp_path: Path) -> None:
    from flask_staticbust.versions import ContentVersioner

    root, stamp = tmp_path / "static", tmp_path / "instance" / "s.stamps"
    _old_tree(root, {"a.css": "aaaa", "sub/b.js": "b"})
    version = ContentVersioner(str(root), str(stamp), 12).compute()
    _old_tree(root, {"sub/b.js": "c"}, seconds_ago=30)  # same size, another mtime
    changed = ContentVersioner(str(root), str(stamp), 12).compute()
    assert changed != version
    (root / "sub" / "new.css").write_text("x")  # a file added
    assert ContentVersioner(str(root), str(stamp), 12).compute() not in (version, changed)
