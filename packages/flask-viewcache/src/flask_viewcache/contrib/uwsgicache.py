"""``UWSGICache`` under Flask-Caching's ``contrib`` import path."""

from ..backends.uwsgicache import UWSGICache

__all__ = ["UWSGICache"]
