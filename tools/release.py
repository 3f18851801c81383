"""Release dry run of one distribution of the monorepo, stopping before the upload.

    python tools/release.py flask-viewcache          # or: hatch run release:dry-run flask-viewcache
    python tools/release.py flask-viewcache --tag flask-viewcache-v0.2.0   # what CI runs on a tag

It checks the version, CHANGES.md and the bounds on the repo's own packages; builds the
distribution's wheel and sdist (and the wheels of the repo packages it depends on, into a
separate folder that is never uploaded); runs ``twine check --strict``; checks what the archives
hold; installs the wheel alone, with its dependencies, into a fresh virtual environment (the
repo's packages from the freshly built wheels, the rest from the package index); and runs the
package's tests, taken from the sdist, against the installed wheel. Then it prints the upload
command. It never uploads: that needs credentials, which only the release workflow
(``.github/workflows/release.yml``, trusted publishing) has.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import textwrap
import tomllib
import venv
import zipfile
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
VERSION_LINE = re.compile(r"""^__version__\s*=\s*["']([^"']+)["']""", re.MULTILINE)
CHANGES_SECTION = re.compile(r"^## (\S+) \(([^)]*)\)\s*$", re.MULTILINE)
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
REQUIREMENT_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


class ReleaseError(Exception):
    """A check failed: the message says which and what to do."""


@dataclass(frozen=True)
class Distribution:
    """One of the monorepo's distributions, read from its pyproject.toml."""

    name: str
    folder: Path
    module: str
    version: str
    dependencies: tuple[str, ...]

    @property
    def short(self) -> str:
        """The name of its tests folder (``tests/<short>/``) and docs page: ``viewcache``."""
        return self.module.removeprefix("flask_")

    @property
    def tag(self) -> str:
        return f"{self.name}-v{self.version}"

    @property
    def archive_stem(self) -> str:
        """How its wheel's and sdist's file names start: the name with ``_`` for ``-``
        (``flask_appcache_sw`` for flask-appcache-sw, whose import name is flask_appcache)."""
        return self.name.replace("-", "_")


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def shown(path: Path) -> str:
    """``path`` relative to the repository when it is inside it."""
    return str(path.relative_to(REPO)) if path.is_relative_to(REPO) else str(path)


def read_distribution(folder: Path) -> Distribution:
    project_file = tomllib.loads((folder / "pyproject.toml").read_text(encoding="utf-8"))
    project = project_file["project"]
    version_path = folder / project_file["tool"]["hatch"]["version"]["path"]
    found = VERSION_LINE.search(version_path.read_text(encoding="utf-8"))
    if found is None:
        raise ReleaseError(f"{version_path}: no __version__ line")
    module = version_path.parent.name
    deps = tuple(project.get("dependencies", ()))
    return Distribution(normalize(project["name"]), folder, module, found.group(1), deps)


def all_distributions() -> dict[str, Distribution]:
    folders = [
        REPO / "shared",
        *sorted(p.parent for p in (REPO / "packages").glob("*/pyproject.toml")),
    ]
    dists = (read_distribution(folder) for folder in folders)
    return {dist.name: dist for dist in dists}


def find(name: str, dists: dict[str, Distribution]) -> Distribution:
    """``flask-viewcache``, ``viewcache`` or ``packages/flask-viewcache`` all name one."""
    wanted = normalize(Path(name).name if "/" in name else name)
    for dist in dists.values():
        if wanted in {dist.name, dist.short, dist.folder.name, normalize(dist.module)}:
            return dist
    raise ReleaseError(f"no distribution named {name!r}; choose one of {', '.join(dists)}")


def repo_requirements(dist: Distribution, dists: dict[str, Distribution]) -> dict[str, str]:
    """The requirements of ``dist`` on the repo's own distributions: name -> requirement."""
    found = {}
    for requirement in dist.dependencies:
        match = REQUIREMENT_NAME.match(requirement)
        if match and normalize(match.group(1)) in dists:
            found[normalize(match.group(1))] = requirement
    return found


def check_bounds(dist: Distribution, dists: dict[str, Distribution]) -> list[Distribution]:
    """Each requirement on a repo package must admit its current version, with the current
    major.minor as lower bound and the next major as upper bound. Returns those packages."""
    from packaging.requirements import Requirement
    from packaging.version import Version

    needed = []
    for name, text in repo_requirements(dist, dists).items():
        other = dists[name]
        current = Version(other.version)
        wanted = f">={current.major}.{current.minor},<{current.major + 1}"
        requirement = Requirement(text)
        if str(requirement.specifier) != str(Requirement(f"{name}{wanted}").specifier):
            raise ReleaseError(
                f"{shown(dist.folder)}/pyproject.toml requires {text!r}, but {name} is "
                f"{other.version}: require '{name}{wanted}'"
            )
        needed.append(other)
    return needed


def newest_changes_section(dist: Distribution) -> tuple[str, str]:
    """(version, what the parentheses say) of the first section of the package's CHANGES.md."""
    changes = dist.folder / "CHANGES.md"
    found = CHANGES_SECTION.search(changes.read_text(encoding="utf-8"))
    if found is None:
        raise ReleaseError(f"{shown(changes)} has no '## X.Y.Z (date)' section")
    return found.group(1), found.group(2)


def check_changes(dist: Distribution, tag: str | None) -> list[str]:
    """The newest CHANGES.md section must be this version; under a tag it must carry a date."""
    version, when = newest_changes_section(dist)
    if version != dist.version:
        raise ReleaseError(
            f"the version is {dist.version} but the newest section of CHANGES.md is {version}: "
            f"run `hatch version {version}` in {shown(dist.folder)}/, or fix CHANGES.md"
        )
    if tag is not None:
        if tag != dist.tag:
            raise ReleaseError(f"tag {tag!r} does not name this release; it must be {dist.tag!r}")
        if not DATE.match(when):
            raise ReleaseError(f"CHANGES.md says '{version} ({when})': put the release date in")
        return []
    if DATE.match(when):
        return []
    return [f"CHANGES.md says '{version} ({when})': write the date (YYYY-MM-DD) before tagging"]


def run(
    argv: list[str | Path], cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a command; on failure raise with its output."""
    printable = " ".join(str(a) for a in argv)
    print(f"  $ {printable}", flush=True)
    result = subprocess.run(
        [str(a) for a in argv], cwd=cwd, env=env, capture_output=True, text=True
    )
    if result.returncode != 0:
        raise ReleaseError(f"`{printable}` failed:\n{result.stdout}\n{result.stderr}")
    return result


def source_date_epoch() -> dict[str, str]:
    """The commit's time, so the archives' timestamps (and bytes) do not depend on the clock."""
    if "SOURCE_DATE_EPOCH" in os.environ:
        return {}
    result = subprocess.run(
        ["git", "-C", str(REPO), "log", "-1", "--format=%ct"], capture_output=True, text=True
    )
    stamp = result.stdout.strip()
    return {"SOURCE_DATE_EPOCH": stamp} if result.returncode == 0 and stamp.isdigit() else {}


def build(dist: Distribution, outdir: Path, *, sdist: bool) -> None:
    env = {**os.environ, **source_date_epoch()}
    kinds = ["--sdist", "--wheel"] if sdist else ["--wheel"]
    run([sys.executable, "-m", "build", *kinds, "--outdir", outdir, dist.folder], env=env)


def artifacts(dist: Distribution, outdir: Path) -> tuple[Path, Path]:
    wheels = sorted(outdir.glob(f"{dist.archive_stem}-{dist.version}-*.whl"))
    sdists = sorted(outdir.glob(f"{dist.archive_stem}-{dist.version}.tar.gz"))
    if len(wheels) != 1 or len(sdists) != 1:
        raise ReleaseError(f"expected one wheel and one sdist in {outdir}, found {wheels + sdists}")
    return wheels[0], sdists[0]


def check_archives(dist: Distribution, wheel: Path, sdist: Path, others: set[str]) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    for needed in (f"{dist.module}/__init__.py", f"{dist.module}/py.typed"):
        if needed not in names:
            raise ReleaseError(f"{wheel.name} lacks {needed}")
    leaked = sorted({n.split("/")[0] for n in names} & others)
    if leaked:
        raise ReleaseError(f"{wheel.name} also holds {leaked}")
    with tarfile.open(sdist) as archive:
        members = {m.split("/", 1)[1] for m in archive.getnames() if "/" in m}
    needed_files = ("README.md", "CHANGES.md", "tests/conftest.py", f"tests/{dist.short}/")
    for needed in (*needed_files, f"docs/reference/{dist.short}.md"):
        if not any(m == needed or (needed.endswith("/") and m.startswith(needed)) for m in members):
            raise ReleaseError(f"{sdist.name} lacks {needed}")
    if any("__pycache__" in m or m.endswith(".pyc") for m in members):
        raise ReleaseError(f"{sdist.name} holds compiled files")


def test_requirements(installed: list[Distribution]) -> list[str]:
    """What the package's tests need beyond the package: the default hatch environment's
    dependencies, and the extras the workspace installs for each repo package."""
    hatch = tomllib.loads((REPO / "hatch.toml").read_text(encoding="utf-8"))
    default = hatch["envs"]["default"]
    wanted = list(default.get("dependencies", []))
    folders = {dist.folder.resolve(): dist for dist in installed}
    for member in default.get("workspace", {}).get("members", []):
        path = member if isinstance(member, str) else member["path"]
        features = [] if isinstance(member, str) else member.get("features", [])
        dist = folders.get((REPO / path).resolve())
        if dist is not None and features:
            wanted.append(f"{dist.name}[{','.join(features)}]=={dist.version}")
    return wanted


WHEEL_GUARD = '''
"""pytest plugin of the release dry run: the package under test must come from the venv."""
import importlib, sys
from pathlib import Path

MODULES = {modules!r}


def pytest_collection_finish(session):
    prefix = Path(sys.prefix).resolve()
    for name in MODULES:
        path = Path(importlib.import_module(name).__file__).resolve()
        print(f"release dry run: {{name}} imported from {{path}}")
        if prefix not in path.parents:
            raise RuntimeError(f"{{name}} was imported from {{path}}, not from the venv {{prefix}}")
'''


def make_venv(where: Path) -> Path:
    venv.create(where, with_pip=True, clear=True)
    return where / ("Scripts" if os.name == "nt" else "bin") / "python"


def install_and_test(
    installed: list[Distribution],
    wheel: Path,
    sdist: Path,
    links: list[Path],
    pytest_args: list[str] | None,
) -> None:
    """Install ``wheel`` alone into a fresh venv, then (unless ``pytest_args`` is None) the
    test requirements, and run the tests found in ``sdist`` against the installed package.
    ``installed`` is the distribution itself first, then the repo packages it needs."""
    dist = installed[0]
    work = Path(tempfile.mkdtemp(prefix=f"release-{dist.short}-"))
    try:
        python = make_venv(work / "venv")
        find_links: list[str | Path] = [a for link in links for a in ("--find-links", link)]
        pip: list[str | Path] = [python, "-m", "pip", "install", "-q"]
        pip += ["--disable-pip-version-check"]
        print(f"installing {wheel.name} alone into a fresh venv")
        run([*pip, *find_links, wheel], cwd=work)
        run([python, "-m", "pip", "check"], cwd=work)
        # the package is this version, and each repo package it needs is the one just built
        versions = {d.name: d.version for d in installed}
        check = (
            f"import importlib.metadata as m, {dist.module} as p; "
            f"assert p.__version__ == {dist.version!r}, p.__version__; "
            f"found = {{n: m.version(n) for n in {sorted(versions)!r}}}; "
            f"assert found == {versions!r}, found"
        )
        run([python, "-c", check], cwd=work)
        if pytest_args is not None:
            print("installing what the tests need")
            run([*pip, *find_links, *test_requirements(installed)], cwd=work)
            with tarfile.open(sdist) as archive:
                archive.extractall(work / "sdist", filter="data")
            root = next((work / "sdist").iterdir())
            guard = work / "guard"
            guard.mkdir()
            modules = [d.module for d in installed]
            (guard / "release_wheel_guard.py").write_text(
                textwrap.dedent(WHEEL_GUARD.format(modules=modules))
            )
            print(f"running tests/{dist.short}/ from the sdist against the installed wheel")
            env = {**os.environ, "PYTHONPATH": str(guard), "PYTHONDONTWRITEBYTECODE": "1"}
            argv: list[str | Path] = [python, "-m", "pytest", "-c", REPO / "pyproject.toml"]
            argv += ["--rootdir", root, "-p", "no:cacheprovider", "-p", "release_wheel_guard"]
            argv += ["-q", f"tests/{dist.short}", *pytest_args]
            result = subprocess.run([str(a) for a in argv], cwd=root, env=env, text=True)
            if result.returncode != 0:
                raise ReleaseError(f"the tests of {dist.name} failed against its wheel")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def dry_run(name: str, out: Path, tag: str | None, pytest_args: list[str] | None) -> int:
    dists = all_distributions()
    dist = find(name, dists)
    print(f"release dry run of {dist.name} {dist.version} (tag {dist.tag})")
    needed = check_bounds(dist, dists)
    notes = check_changes(dist, tag)
    upload, deps = out / dist.name / "upload", out / dist.name / "deps"
    for folder in (upload, deps):
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
    print(f"building {dist.name}" + (f" and {', '.join(d.name for d in needed)}" if needed else ""))
    build(dist, upload, sdist=True)
    for other in needed:
        build(other, deps, sdist=False)
    wheel, sdist = artifacts(dist, upload)
    run([sys.executable, "-m", "twine", "check", "--strict", wheel, sdist])
    check_archives(dist, wheel, sdist, {d.module for d in dists.values()} - {dist.module})
    install_and_test([dist, *needed], wheel, sdist, [deps], pytest_args)
    print(f"\n{dist.name} {dist.version}: built, checked, installed alone and tested.")
    for path in (wheel, sdist):
        print(f"  {shown(path)}")
        print(f"    sha256 {sha256(path)}")
    for note in notes:
        print(f"note: {note}")
    print("Stopped before uploading. To release:")
    print(f"  git tag -a {dist.tag} -m '{dist.name} {dist.version}' && git push origin {dist.tag}")
    print("  (the release workflow then runs this dry run again and publishes), or by hand:")
    print(f"  python -m twine upload {upload}/*")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("distribution", help="flask-cachecore, flask-viewcache, ... (or viewcache)")
    parser.add_argument("--out", type=Path, default=REPO / "dist", help="where archives go")
    parser.add_argument("--tag", help="the git tag being released: it must name this version")
    parser.add_argument("--no-tests", action="store_true", help="install and import only")
    parser.epilog = "Arguments after -- go to pytest (e.g. -- -x -k keys)."
    argv = sys.argv[1:] if argv is None else argv
    extra = argv[argv.index("--") + 1 :] if "--" in argv else []
    args = parser.parse_args(argv[: argv.index("--")] if "--" in argv else argv)
    try:
        pytest_args = None if args.no_tests else extra
        return dry_run(args.distribution, args.out.resolve(), args.tag, pytest_args)
    except ReleaseError as error:
        print(f"release dry run failed: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
