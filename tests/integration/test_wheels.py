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
DISTRIBUTIONS = {
    "flask-cachecore": REPO / "shared",
    "flask-viewcache": REPO / "packages" / "flask-viewcache",
    "flask-httpcache": REPO / "packages" / "flask-httpcache",
    "flask-appcache": REPO / "packages" / "flask-appcache",
    "flask-staticbust": REPO / "packages" / "flask-staticbust",
}
OTHERS = {name.replace("-", "_") for name in DISTRIBUTIONS}

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def dist_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    for source in DISTRIBUTIONS.values():
        subprocess.run(
            [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(source)],
            check=True,
            capture_output=True,
        )
    return out


@pytest.mark.parametrize("name", list(DISTRIBUTIONS))
def test_builds_a_wheel_and_an_sdist_with_typing_marker(dist_dir: Path, name: str) -> None:
    module = name.replace("-", "_")
    wheels = list(dist_dir.glob(f"{module}-*.whl"))
    sdists = list(dist_dir.glob(f"{module}-*.tar.gz"))
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
    module = name.replace("-", "_")
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    wheel = next(dist_dir.glob(f"{module}-*.whl"))
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
    for other in OTHERS - {module, "flask_cachecore"}:
        assert other.replace("_", "-") not in installed
