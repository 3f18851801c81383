"""Versions and bounds: each distribution has its own version, its CHANGES.md starts with it,
each requirement on flask-cachecore admits exactly its current major from its current minor on,
and the release workflow knows every distribution's tag pattern."""

from __future__ import annotations

import re

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

from .release_tool import REPO, release

DISTS = release.all_distributions()
CORE = DISTS["flask-cachecore"]


def test_the_five_distributions_are_found_each_with_its_own_version() -> None:
    assert set(DISTS) >= {
        "flask-cachecore",
        "flask-viewcache",
        "flask-httpcache",
        "flask-staticbust",
        "flask-appcache-sw",
    }
    assert len(DISTS) == 5
    for dist in DISTS.values():
        assert Version(dist.version) >= Version("0.1")


@pytest.mark.parametrize("name", sorted(DISTS))
def test_changes_starts_with_the_current_version(name: str) -> None:
    dist = DISTS[name]
    version, _when = release.newest_changes_section(dist)
    assert version == dist.version, f"{dist.folder.name}/CHANGES.md starts with {version}"


@pytest.mark.parametrize("name", sorted(set(DISTS) - {"flask-cachecore"}))
def test_requirement_on_flask_cachecore_is_current_minor_up_to_next_major(name: str) -> None:
    requirements = release.repo_requirements(DISTS[name], DISTS)
    assert set(requirements) <= {"flask-cachecore"}, "extensions never require each other"
    if not requirements:
        pytest.skip(f"{name} does not use flask-cachecore")
    specifier = Requirement(requirements["flask-cachecore"]).specifier
    current = Version(CORE.version)
    assert current in specifier
    assert {str(s) for s in specifier} == {
        f">={current.major}.{current.minor}",
        f"<{current.major + 1}",
    }


def test_bounds_check_names_the_fix_when_a_range_is_stale() -> None:
    stale = release.Distribution(
        "flask-example", REPO, "flask_example", "1.0.0", ("flask-cachecore>=0.0,<1",)
    )
    with pytest.raises(release.ReleaseError, match=r"require 'flask-cachecore>="):
        release.check_bounds(stale, {**DISTS, "flask-example": stale})


def test_release_workflow_has_a_tag_pattern_per_distribution_and_no_other() -> None:
    workflow = (REPO / ".github" / "workflows" / "release.yml").read_text(encoding="utf-8")
    patterns = set(re.findall(r'^\s*- "([^"]+)-v\*"', workflow, re.MULTILINE))
    assert patterns == set(DISTS)


def test_flask_appcache_is_distributed_as_flask_appcache_sw_with_its_import_name() -> None:
    """The name on PyPI, flask-appcache, is another project's (docs/releasing.md): the
    distribution built and tagged here is the one that will be uploaded."""
    dist = release.find("flask-appcache", DISTS)
    assert (dist.name, dist.module, dist.folder.name) == (
        "flask-appcache-sw",
        "flask_appcache",
        "flask-appcache",
    )
    assert dist.tag == f"flask-appcache-sw-v{dist.version}"
    assert dist.archive_stem == "flask_appcache_sw"
