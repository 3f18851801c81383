"""flask-appcache installs, imports and reports its own version; its wheel carries the
templates the manifest and the service worker are rendered from."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import flask_appcache

ROOT = Path(__file__).resolve().parents[2]
# in the monorepo, or the package's own sdist
PACKAGE = next(
    p for p in (ROOT / "packages" / "flask-appcache", ROOT) if (p / "pyproject.toml").exists()
)


def test_version_matches_the_installed_distribution() -> None:
    # the distribution is flask-appcache-sw: flask-appcache on PyPI is another project
    assert flask_appcache.__version__ == importlib.metadata.version("flask-appcache-sw")


def test_exports_nothing_it_does_not_have() -> None:
    assert all(hasattr(flask_appcache, name) for name in flask_appcache.__all__)
    assert {"Appcache", "AppcacheError"} <= set(flask_appcache.__all__)


@pytest.mark.slow
def test_the_wheel_carries_the_templates(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "build",
            "--no-isolation",
            "--wheel",
            "-o",
            str(tmp_path),
            str(PACKAGE),
        ],
        check=True,
        capture_output=True,
    )
    names = zipfile.ZipFile(next(tmp_path.glob("flask_appcache_sw-*.whl"))).namelist()
    for template in (
        "manifest.appcache",
        "appcache/sw.js",
        "appcache/kill-sw.js",
        "appcache/register.js",
    ):
        assert f"flask_appcache/templates/{template}" in names
