"""Digest mode and ``flask staticbust build|clean|check|version``."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import re
from pathlib import Path
from typing import Any

import brotli
import pytest
from click.testing import Result
from flask import Flask

from .helpers import make_app, static_url_of, write_files

IMMUTABLE = "public, max-age=31536000, immutable"

CSS = """/* a comment: url(commented.png) and @import "commented.css"; */
@import "base.css";
@import url('theme.css') screen;
body {
  background: url( "img/logo.png?v=1#top" );
  content: "url(in-a-string.png)";
  mask: url(img/logo.png), url(data:image/png;base64,AAAA), url(https://cdn.example/x.png);
  cursor: url(/absolute.png), url(#fragment);
}
/*# sourceMappingURL=app.css.map */
"""


def run(app: Flask, *args: str) -> Result:
    return app.test_cli_runner().invoke(args=["staticbust", *args])


def digest_app(tmp_path: Path, files: dict[str, str | bytes], **config: Any) -> Flask:
    return make_app(tmp_path, files, STATICBUST_MODE="digest", **config)


def manifest_of(app: Flask) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        (Path(app.static_folder or "") / "staticbust-manifest.json").read_text()
    )
    return data


def served_name(app: Flask, rel: str) -> str:
    name: str = manifest_of(app)["files"][rel]["path"]
    return name


def site_files() -> dict[str, str | bytes]:
    return {
        "css/app.css": CSS,
        "css/base.css": "html { margin: 0 }\n",
        "css/theme.css": "a { color: red }\n",
        "css/app.css.map": "{}",
        "css/img/logo.png": b"\x89PNG fake image bytes",
    }


def test_build_writes_digested_names_and_url_for_uses_them(tmp_path: Path) -> None:
    app = digest_app(tmp_path, site_files())
    result = run(app, "build")
    assert result.exit_code == 0, result.output + result.stderr
    name = served_name(app, "css/base.css")
    digest = hashlib.sha256(b"html { margin: 0 }\n").hexdigest()[:8]
    assert name == f"css/base.{digest}.css"
    assert (Path(app.static_folder or "") / name).read_text() == "html { margin: 0 }\n"
    url = static_url_of(app, "css/base.css")
    assert url == f"/static/{name}"
    client = app.test_client()
    assert client.get(url).headers["Cache-Control"] == IMMUTABLE
    assert "immutable" not in client.get("/static/css/base.css").headers["Cache-Control"]
    assert static_url_of(app, "not/built.css") == "/static/not/built.css"


def test_css_references_are_rewritten_but_not_in_comments_or_strings(tmp_path: Path) -> None:
    app = digest_app(tmp_path, site_files())
    assert run(app, "build").exit_code == 0
    static = Path(app.static_folder or "")
    css = (static / served_name(app, "css/app.css")).read_text()
    logo = Path(served_name(app, "css/img/logo.png")).name
    base = Path(served_name(app, "css/base.css")).name
    theme = Path(served_name(app, "css/theme.css")).name
    source_map = Path(served_name(app, "css/app.css.map")).name
    expected = (
        CSS.replace('@import "base.css"', f'@import "{base}"')
        .replace("url('theme.css')", f"url('{theme}')")
        .replace('"img/logo.png?v=1#top"', f'"img/{logo}?v=1#top"')
        .replace("url(img/logo.png)", f"url(img/{logo})")
        .replace("sourceMappingURL=app.css.map", f"sourceMappingURL={source_map}")
    )
    assert css == expected
    assert "url(commented.png)" in css
    assert '"url(in-a-string.png)"' in css


def test_a_files_digest_covers_the_digests_it_references(tmp_path: Path) -> None:
    app = digest_app(tmp_path, site_files())
    assert run(app, "build").exit_code == 0
    before = served_name(app, "css/app.css")
    base = served_name(app, "css/base.css")
    write_files(Path(app.static_folder or ""), {"css/img/logo.png": b"another image"})
    assert run(app, "build").exit_code == 0
    assert served_name(app, "css/app.css") != before  # its bytes differ only in the logo's name
    assert served_name(app, "css/base.css") == base  # it references nothing that changed


def test_missing_reference_is_a_warning_naming_both_files(tmp_path: Path) -> None:
    files = site_files()
    del files["css/app.css.map"]
    app = digest_app(tmp_path, files)
    result = run(app, "build")
    assert result.exit_code == 0
    assert "css/app.css" in result.stderr
    assert "css/app.css.map" in result.stderr
    assert (
        "sourceMappingURL=app.css.map"
        in (Path(app.static_folder or "") / served_name(app, "css/app.css")).read_text()
    )


def test_missing_reference_fails_the_build_when_strict(tmp_path: Path) -> None:
    files = site_files()
    del files["css/app.css.map"]
    app = digest_app(tmp_path, files, STATICBUST_STRICT=True)
    result = run(app, "build")
    assert result.exit_code == 1
    assert "css/app.css" in result.stderr
    assert "css/app.css.map" in result.stderr


def test_reference_cycle_is_a_clear_error(tmp_path: Path) -> None:
    app = digest_app(tmp_path, {"a.css": '@import "b.css";', "b.css": '@import "a.css";'})
    result = run(app, "build")
    assert result.exit_code == 1
    assert "reference cycle: a.css -> b.css -> a.css" in result.stderr
    assert not (Path(app.static_folder or "") / "staticbust-manifest.json").exists()


def test_self_reference_is_left_as_it_is(tmp_path: Path) -> None:
    app = digest_app(tmp_path, {"a.css": "x { background: url(a.css) }"})
    assert run(app, "build").exit_code == 0
    path = Path(app.static_folder or "") / served_name(app, "a.css")
    assert path.read_text() == "x { background: url(a.css) }"


JS = """import a from "./a.js";
import { b } from '../lib/b.js';
import React from "react";
export * from "./a.js";
const lazy = import("./a.js");
//# sourceMappingURL=main.js.map
"""


def js_files() -> dict[str, str | bytes]:
    return {
        "js/main.js": JS,
        "js/a.js": "export default 1;\n",
        "lib/b.js": "export const b = 2;\n",
        "js/main.js.map": "{}",
    }


def test_js_source_map_is_rewritten_and_modules_only_when_asked(tmp_path: Path) -> None:
    app = digest_app(tmp_path / "off", js_files())
    assert run(app, "build").exit_code == 0
    text = (Path(app.static_folder or "") / served_name(app, "js/main.js")).read_text()
    source_map = Path(served_name(app, "js/main.js.map")).name
    assert text == JS.replace("main.js.map", source_map)

    app = digest_app(tmp_path / "on", js_files(), STATICBUST_JS_MODULES=True)
    assert run(app, "build").exit_code == 0
    text = (Path(app.static_folder or "") / served_name(app, "js/main.js")).read_text()
    a = Path(served_name(app, "js/a.js")).name
    b = Path(served_name(app, "lib/b.js")).name
    assert text.count(f'"./{a}"') == 3
    assert f"'../lib/{b}'" in text
    assert '"react"' in text


def test_already_hashed_names_are_not_hashed_again(tmp_path: Path) -> None:
    files: dict[str, str | bytes] = {
        "assets/index-BkP3xYz1.js": "console.log(1)",  # Vite
        "assets/chunk-5XKFV2TL.js": "console.log(2)",  # esbuild
        "assets/app.js": "console.log(3)",
    }
    app = digest_app(tmp_path, files)
    assert run(app, "build").exit_code == 0
    assert served_name(app, "assets/index-BkP3xYz1.js") == "assets/index-BkP3xYz1.js"
    assert served_name(app, "assets/chunk-5XKFV2TL.js") == "assets/chunk-5XKFV2TL.js"
    assert re.fullmatch(r"assets/app\.[0-9a-f]{8}\.js", served_name(app, "assets/app.js"))
    assert run(app, "build").exit_code == 0  # a second build doesn't digest the digests
    assert sorted(manifest_of(app)["files"]) == sorted(files)
    response = app.test_client().get(static_url_of(app, "assets/index-BkP3xYz1.js"))
    assert response.headers["Cache-Control"] == IMMUTABLE


def test_vite_manifest_is_a_source_of_names(tmp_path: Path) -> None:
    vite = {"src/main.ts": {"file": "assets/main-BkP3xYz1.js", "css": ["assets/main-Dq1x2y3z.css"]}}
    app = digest_app(
        tmp_path,
        {
            ".vite/manifest.json": json.dumps(vite),
            "assets/main-BkP3xYz1.js": "1",
            "assets/main-Dq1x2y3z.css": "a{}",
        },
        STATICBUST_VITE_MANIFEST=".vite/manifest.json",
    )
    url = static_url_of(app, "src/main.ts")
    assert url == "/static/assets/main-BkP3xYz1.js"
    client = app.test_client()
    assert client.get(url).headers["Cache-Control"] == IMMUTABLE
    css = client.get("/static/assets/main-Dq1x2y3z.css")
    assert css.headers["Cache-Control"] == IMMUTABLE


def test_manifest_carries_sri_of_the_served_bytes(tmp_path: Path) -> None:
    app = digest_app(tmp_path, site_files())
    assert run(app, "build").exit_code == 0
    static = Path(app.static_folder or "")
    for rel, entry in manifest_of(app)["files"].items():
        data = (static / entry["path"]).read_bytes()
        expected = "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()
        assert entry["integrity"] == expected, rel
    with app.test_request_context():
        from flask_staticbust import sri

        assert sri("css/app.css") == manifest_of(app)["files"]["css/app.css"]["integrity"]


def test_build_is_deterministic(tmp_path: Path) -> None:
    one = digest_app(tmp_path / "1", site_files())
    two = digest_app(tmp_path / "2", site_files())
    assert run(one, "build").exit_code == run(two, "build").exit_code == 0
    assert manifest_of(one) == manifest_of(two)


def test_digest_algorithm_and_length_are_configurable(tmp_path: Path) -> None:
    app = digest_app(
        tmp_path, {"a.css": "x"}, STATICBUST_DIGEST_ALGORITHM="sha1", STATICBUST_DIGEST_LENGTH=12
    )
    assert run(app, "build").exit_code == 0
    assert served_name(app, "a.css") == f"a.{hashlib.sha1(b'x').hexdigest()[:12]}.css"


BIG_CSS = "".join(f".c{i} {{ color: #{i:06x}; margin: {i}px }}\n" for i in range(400))


def test_precompressed_siblings_are_written_and_served_when_accepted(tmp_path: Path) -> None:
    app = digest_app(tmp_path, {"app.css": BIG_CSS, "logo.png": b"\x89PNG" + b"\0" * 4000})
    result = run(app, "build")
    assert result.exit_code == 0
    static = Path(app.static_folder or "")
    name = served_name(app, "app.css")
    assert gzip.decompress((static / f"{name}.gz").read_bytes()).decode() == BIG_CSS
    assert brotli.decompress((static / f"{name}.br").read_bytes()).decode() == BIG_CSS
    assert not list(static.glob("logo*.png.*")), "a PNG is not compressed again"
    client = app.test_client()
    url = static_url_of(app, "app.css")
    br = client.get(url, headers={"Accept-Encoding": "gzip, br"})
    assert br.headers["Content-Encoding"] == "br"
    assert br.headers["Content-Type"].startswith("text/css")
    assert "Accept-Encoding" in br.headers["Vary"]
    assert br.headers["Cache-Control"] == IMMUTABLE
    assert brotli.decompress(br.data).decode() == BIG_CSS
    gz = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert gz.headers["Content-Encoding"] == "gzip"
    assert gz.headers["ETag"] != br.headers["ETag"]
    plain = client.get(url, headers={"Accept-Encoding": "br;q=0, gzip;q=0"})
    assert "Content-Encoding" not in plain.headers
    assert plain.data.decode() == BIG_CSS
    assert "Accept-Encoding" in plain.headers["Vary"]


def test_zstd_siblings_when_configured(tmp_path: Path) -> None:
    zstandard = pytest.importorskip("zstandard")
    app = digest_app(tmp_path, {"app.css": BIG_CSS}, STATICBUST_COMPRESS=["zstd", "gzip"])
    assert run(app, "build").exit_code == 0
    response = app.test_client().get(
        static_url_of(app, "app.css"), headers={"Accept-Encoding": "zstd, gzip"}
    )
    assert response.headers["Content-Encoding"] == "zstd"
    assert (
        zstandard.ZstdDecompressor().decompressobj().decompress(response.data).decode() == BIG_CSS
    )


def test_rebuild_skips_unchanged_files_and_prints_a_summary(tmp_path: Path) -> None:
    app = digest_app(tmp_path, {"app.css": BIG_CSS, "b.css": BIG_CSS + "x{}"})
    first = run(app, "build")
    assert "2 compressed files written" not in first.stdout  # two files, two encodings: 4
    assert "4 compressed files written" in first.stdout
    second = run(app, "build")
    assert "0 digested files written, 0 compressed files written" in second.stdout
    assert "\r" not in second.stdout + second.stderr  # no progress bar off a terminal


def test_route_mode_build_precompresses_sources(tmp_path: Path) -> None:
    app = make_app(tmp_path, {"app.css": BIG_CSS})
    assert run(app, "build").exit_code == 0
    assert (Path(app.static_folder or "") / "app.css.gz").exists()
    again = make_app(tmp_path, {})
    response = again.test_client().get(
        static_url_of(again, "app.css"), headers={"Accept-Encoding": "gzip"}
    )
    assert response.headers["Content-Encoding"] == "gzip"
    assert response.headers["Cache-Control"] == IMMUTABLE


def test_clean_keeps_the_newest_n_digests(tmp_path: Path) -> None:
    app = digest_app(tmp_path, {"app.css": BIG_CSS})
    static = Path(app.static_folder or "")
    names = []
    for i in range(4):
        write_files(static, {"app.css": BIG_CSS + f"/* {i} */"})
        assert run(app, "build").exit_code == 0
        names.append(served_name(app, "app.css"))
    assert manifest_of(app)["history"]["app.css"] == names[::-1]
    result = run(app, "clean", "--keep", "2")
    assert result.exit_code == 0
    assert (static / names[3]).exists()
    assert (static / names[2]).exists()
    assert not (static / names[1]).exists()
    assert not (static / f"{names[0]}.gz").exists()
    assert manifest_of(app)["history"]["app.css"] == [names[3], names[2]]
    assert run(app, "clean", "--keep", "0").exit_code == 2


def test_old_digest_kept_by_clean_is_still_served_immutable(tmp_path: Path) -> None:
    app = digest_app(tmp_path, {"app.css": "a{}"})
    assert run(app, "build").exit_code == 0
    old = served_name(app, "app.css")
    write_files(Path(app.static_folder or ""), {"app.css": "b{}"})
    assert run(app, "build").exit_code == 0
    fresh = make_app(tmp_path, {}, STATICBUST_MODE="digest")
    assert fresh.test_client().get(f"/static/{old}").headers["Cache-Control"] == IMMUTABLE


def test_check_finds_missing_and_changed_files(tmp_path: Path) -> None:
    app = digest_app(tmp_path, site_files())
    assert run(app, "check").exit_code == 1  # no manifest yet
    assert run(app, "build").exit_code == 0
    assert run(app, "check").stdout.strip() == "ok"
    static = Path(app.static_folder or "")
    (static / served_name(app, "css/base.css")).write_text("tampered")
    (static / served_name(app, "css/theme.css")).unlink()
    write_files(static, {"new.css": "n{}"})
    result = run(app, "check")
    assert result.exit_code == 1
    assert "css/base.css" in result.stderr
    assert "css/theme.css" in result.stderr
    assert "new.css: not in the manifest" in result.stderr


def test_version_command(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    result = run(app, "version")
    assert result.exit_code == 0
    assert re.fullmatch(r"static\t[0-9a-f]{12}\n", result.stdout)


def test_debug_mode_follows_a_new_manifest(tmp_path: Path) -> None:
    app = digest_app(tmp_path, {"app.css": "a{}"}, DEBUG=True)
    assert run(app, "build").exit_code == 0
    app.test_client().get("/")
    before = static_url_of(app, "app.css")
    write_files(Path(app.static_folder or ""), {"app.css": "b{}"})
    other = digest_app(tmp_path, {})  # another process builds
    assert run(other, "build").exit_code == 0
    app.test_client().get("/")
    assert static_url_of(app, "app.css") != before


def test_a_hand_edited_manifest_is_read_too(tmp_path: Path) -> None:
    manifest = {"format": 1, "files": {"a.css": {"path": "a.12345678.css", "integrity": ""}}}
    app = digest_app(
        tmp_path,
        {"a.12345678.css": "a{}", "staticbust-manifest.json": json.dumps(manifest, indent=2)},
    )
    assert static_url_of(app, "a.css") == "/static/a.12345678.css"


def test_a_damaged_manifest_is_ignored_not_an_error(tmp_path: Path) -> None:
    app = digest_app(tmp_path, {"a.css": "a{}", "staticbust-manifest.json": '{"format": 1, "fi'})
    assert static_url_of(app, "a.css") == "/static/a.css"
    assert app.test_client().get("/static/a.css").status_code == 200


def test_two_builds_of_the_same_files_give_the_same_bytes_and_leave_no_temporary_file(
    tmp_path: Path,
) -> None:
    files: dict[str, str | bytes] = {"app.css": BIG_CSS, "img/logo.png": b"\x89PNG" + b"\1" * 900}
    trees = []
    for number in (1, 2):
        app = digest_app(tmp_path / str(number), files)
        assert run(app, "build").exit_code == 0
        static = Path(app.static_folder or "")
        trees.append(
            {p.relative_to(static): p.read_bytes() for p in static.rglob("*") if p.is_file()}
        )
        assert not [p for p in static.rglob("*") if p.name.startswith(".staticbust-")]
    assert trees[0] == trees[1]
    assert any(str(rel).endswith(".css.gz") for rel in trees[0])


def test_a_build_replaces_what_a_crashed_build_left_short(tmp_path: Path) -> None:
    """New outputs are created under their own names (no temporary file): a crash can leave one
    short, and the next build must notice (by size, by the sibling's mtime) and write it again."""
    app = digest_app(tmp_path, {"app.css": BIG_CSS}, STATICBUST_COMPRESS=["gzip"])
    assert run(app, "build").exit_code == 0
    static = Path(app.static_folder or "")
    name = served_name(app, "app.css")
    (static / name).write_text(BIG_CSS[:100])  # as a crash mid-write leaves it
    (static / f"{name}.gz").write_bytes(gzip.compress(BIG_CSS.encode())[:50])
    assert run(app, "build").exit_code == 0
    assert (static / name).read_text() == BIG_CSS
    assert gzip.decompress((static / f"{name}.gz").read_bytes()).decode() == BIG_CSS
    assert not [p for p in static.iterdir() if p.name.startswith(".staticbust-")]
