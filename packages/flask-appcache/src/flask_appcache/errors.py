"""The one error type of the package."""

from __future__ import annotations


class AppcacheError(ValueError):
    """A listed URL cannot be cached (it does not answer 200, it redirects, it is the manifest
    itself, ...). The message names the URL. A ``ValueError``, as Flask-Appcache 0.1.2 raised."""
