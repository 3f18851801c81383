"""flask-appcache is a skeleton so far: it must install, import and report its own version."""

from __future__ import annotations

import importlib.metadata

import flask_appcache


def test_version_matches_the_installed_distribution() -> None:
    assert flask_appcache.__version__ == importlib.metadata.version("flask-appcache")


def test_exports_nothing_it_does_not_have() -> None:
    assert all(hasattr(flask_appcache, name) for name in flask_appcache.__all__)
