"""Each distribution builds a wheel and an sdist, and installs alone with only its declared
dependencies into a fresh virtual environment, where it imports."""

from __future__ import annotations

import subprocess
import sys
import tarfile
import venv
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
# distribution name -> (import name, folder); flask-appcache's distribution is flask-appcache-sw
# (docs/releasing.md), so the two names differ there
DISTRIBUTIONS = {
    "flask-cachecore": ("flask_cachecore", REPO / "shared"),
    "flask-viewcache": ("flask_viewcache", REPO / "packages" / "flask-viewcache"),
    "flask-httpcache": ("flask_httpcache", REPO / "packages" / "flask-httpcache"),
    "flask-appcache-sw": ("flask_appcache", REPO / "packages" / "flask-appcache"),
    "flask-staticbust": ("flask_staticbust", REPO / "packages" / "flask-staticbust"),
}
OTHERS = {module for module, _ in DISTRIBUTIONS.values()}


def archive_stem(name: str) -> str:
    """The start of the wheel's and the sdist's file names: the distribution name, normalized."""
    return name.replace("-", "_")


pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def dist_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    for _, source in DISTRIBUTIONS.values():
        subprocess.run(
            [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(source)],
            check=True,
            capture_output=True,
        )
    return out


@pytest.mark.parametrize("name", list(DISTRIBUTIONS))
def test_builds_a_wheel_and_an_sdist_with_typing_marker(dist_dir: Path, name: str) -> None:
    module = DISTRIBUTIONS[name][0]
    wheels = list(dist_dir.glob(f"{archive_stem(name)}-*.whl"))
    sdists = list(dist_dir.glob(f"{archive_stem(name)}-*.tar.gz"))
    assert len(wheels) == 1, wheels
    assert len(sdists) == 1, sdists
    names = zipfile.ZipFile(wheels[0]).namelist()
    assert f"{module}/__init__.py" in names
    assert f"{module}/py.typed" in names
    assert not any(n.split("/")[0] in OTHERS - {module} for n in names), "another package leaked in"
    with tarfile.open(sdists[0]) as sdist:
        assert any(n.endswith("/README.md") for n in sdist.getnames())


@pytest.mark.parametrize("name", list(DISTRIBUTIONS))
def test_installs_alone_and_imports(dist_dir: Path, name: str, tmp_path: Path) -> None:
    module = DISTRIBUTIONS[name][0]
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    wheel = next(dist_dir.glob(f"{archive_stem(name)}-*.whl"))
    # --find-links lets flask-cachecore come from our own build, everything else from the index
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--find-links", str(dist_dir), str(wheel)],
        check=True,
        capture_output=True,
    )
    check = (
        f"import importlib.metadata as m, sys, {module}\n"
        f"assert {module}.__version__ == m.version({name!r})\n"
        f"others = {sorted(OTHERS - {module, 'flask_cachecore'})!r}\n"
        "loaded = [o for o in others if o in sys.modules]\n"
        "assert not loaded, loaded\n"
        "print('ok')"
    )
    result = subprocess.run([str(python), "-c", check], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
    installed = subprocess.run(
        [str(python), "-m", "pip", "list", "--format=freeze"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.lower()
    for other in set(DISTRIBUTIONS) - {name, "flask-cachecore"}:
        assert f"{other}==" not in installed
