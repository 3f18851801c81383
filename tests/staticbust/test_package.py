"""flask-staticbust installs, imports and reports its own version."""

from __future__ import annotations

import importlib.metadata

import flask_staticbust


def test_version_matches_the_installed_distribution() -> None:
    assert flask_staticbust.__version__ == importlib.metadata.version("flask-staticbust")


def test_exports_nothing_it_does_not_have() -> None:
    assert all(hasattr(flask_staticbust, name) for name in flask_staticbust.__all__)
