"""The exceptions of flask-staticbust."""

from __future__ import annotations


class StaticBustError(Exception):
    """Base class of every error this package raises."""


class ConfigError(StaticBustError, ValueError):
    """A ``STATICBUST_*`` setting is invalid; the message reads ``KEY=value: reason``."""


class SymlinkError(StaticBustError):
    """Symlink mode could not create or replace the version link."""


class BuildError(StaticBustError):
    """``flask staticbust build`` cannot go on (a reference cycle; a missing file when strict)."""
