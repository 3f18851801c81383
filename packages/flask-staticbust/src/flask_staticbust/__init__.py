"""flask-staticbust: versioned static URLs for Flask, served immutable."""

from .errors import BuildError, ConfigError, StaticBustError, SymlinkError
from .extension import StaticBust, get_state, sri, static_url

__version__ = "0.1.0"

__all__ = [
    "BuildError",
    "ConfigError",
    "StaticBust",
    "StaticBustError",
    "SymlinkError",
    "get_state",
    "sri",
    "static_url",
]
