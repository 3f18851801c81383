"""The release dry run (tools/release.py): its checks, and one whole run that builds
flask-cachecore, installs the wheel alone in a fresh venv and runs its tests against it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from .release_tool import REPO, release

DISTS = release.all_distributions()


@pytest.mark.parametrize("alias", ["flask-viewcache", "viewcache", "packages/flask-viewcache"])
def test_a_distribution_is_found_by_name_short_name_or_folder(alias: str) -> None:
    assert release.find(alias, DISTS).name == "flask-viewcache"


def test_an_unknown_distribution_is_a_clear_error() -> None:
    with pytest.raises(release.ReleaseError, match="choose one of flask-cachecore"):
        release.find("flask-nothing", DISTS)


def test_a_tag_must_name_the_distribution_and_its_version() -> None:
    dist = DISTS["flask-viewcache"]
    with pytest.raises(release.ReleaseError, match=f"must be '{dist.tag}'"):
        release.check_changes(dist, "flask-viewcache-v99.0.0")


def test_a_tagged_release_needs_a_dated_changes_section(tmp_path: Path) -> None:
    folder = tmp_path / "pkg"
    folder.mkdir()
    (folder / "CHANGES.md").write_text("# Changes\n\n## 1.2.0 (unreleased)\n\n- a change\n")
    dist = release.Distribution("flask-example", folder, "flask_example", "1.2.0", ())
    with pytest.raises(release.ReleaseError, match="put the release date in"):
        release.check_changes(dist, "flask-example-v1.2.0")
    assert release.check_changes(dist, None) == [
        "CHANGES.md says '1.2.0 (unreleased)': write the date (YYYY-MM-DD) before tagging"
    ]
    (folder / "CHANGES.md").write_text("# Changes\n\n## 1.2.0 (2026-12-01)\n\n- a change\n")
    assert release.check_changes(dist, "flask-example-v1.2.0") == []


def test_a_version_that_is_not_the_newest_changes_section_is_refused(tmp_path: Path) -> None:
    (tmp_path / "CHANGES.md").write_text("# Changes\n\n## 1.3.0 (unreleased)\n\n## 1.2.0 (x)\n")
    dist = release.Distribution("flask-example", tmp_path, "flask_example", "1.2.0", ())
    with pytest.raises(release.ReleaseError, match=r"hatch version 1\.3\.0"):
        release.check_changes(dist, None)


@pytest.mark.slow
def test_dry_run_of_flask_cachecore_builds_installs_alone_and_tests_the_wheel(
    tmp_path: Path,
) -> None:
    result = subprocess.run(
        [
            sys.executable,
            str(REPO / "tools" / "release.py"),
            "flask-cachecore",
            "--out",
            str(tmp_path),
            "--",
            "-x",
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    out = result.stdout
    core = DISTS["flask-cachecore"]
    imported = [line for line in out.splitlines() if "imported from" in line]
    assert len(imported) == 1, out
    assert "/venv/" in imported[0]
    assert "site-packages/flask_cachecore/" in imported[0]
    assert " passed" in out
    assert " failed" not in out
    uploads = sorted(p.name for p in (tmp_path / "flask-cachecore" / "upload").iterdir())
    assert uploads == [
        f"flask_cachecore-{core.version}-py3-none-any.whl",
        f"flask_cachecore-{core.version}.tar.gz",
    ]
    assert "Stopped before uploading" in out
    assert "twine upload" in out
