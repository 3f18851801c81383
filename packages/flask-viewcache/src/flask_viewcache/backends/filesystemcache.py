"""``FileSystemCache``: cachelib's cache in a directory."""

from cachelib import FileSystemCache

__all__ = ["FileSystemCache"]
