"""Serializers of the Flask-Caching backend classes, where they differ from flask-cachecore's.

Flask-Caching's backends hold cachelib serializers: code that checks
``isinstance(backend.serializer, cachelib.serializers.SimpleSerializer)`` (or swaps it for a
subclass) keeps working with these, which are also cachelib serializers.
"""

from __future__ import annotations

from typing import Any

from cachelib.serializers import SimpleSerializer

from flask_cachecore import InProcessSerializer
from flask_cachecore.serializers import PickleSerializer


class InProcessSimpleSerializer(InProcessSerializer, SimpleSerializer):
    """flask-cachecore's :class:`~flask_cachecore.InProcessSerializer` (the default of
    ``SimpleCache``: values made of immutable builtins are kept without pickling), which is
    also a cachelib ``SimpleSerializer``, as Flask-Caching's default is."""


class ForeignBytesSerializer(PickleSerializer):
    """pickle as cachelib's Redis serializer reads it: a value this package did not write
    (no pickle mark, not an integer) comes back as the bytes stored, as with cachelib, not as
    a miss. For :class:`~flask_viewcache.backends.RedisCache` built by hand; the decorators
    check what they read, so such bytes are never taken for one of their entries."""

    def loads(self, data: bytes | None) -> Any:
        if data is None or data[:1] == b"!":
            return super().loads(data)
        try:
            return int(data)
        except ValueError:
            return data
